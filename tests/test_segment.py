"""Segmentation shared by index and query, and FTS5 quoting of user text."""

from __future__ import annotations

from kb.segment import document_text, match_expression, query_terms, terms


def test_domain_dictionary_keeps_photovoltaic_terms_whole():
    found = terms("钙钛矿叠层电池与TOPCon组件，自发自用余电上网，可开放容量")
    for word in ("钙钛矿", "topcon", "自发自用", "余电上网", "可开放容量"):
        assert word in found


def test_documents_and_queries_segment_the_same_way():
    text = "分布式光伏可开放容量"
    assert set(query_terms(text)) <= set(document_text(text).split())


def test_query_terms_drop_question_words_and_punctuation():
    assert query_terms("哪些省份暂不要求自发自用比例？") == [t for t in query_terms("省份暂不要求自发自用比例")]


def test_every_term_is_quoted_so_user_text_is_never_fts_syntax():
    expression = match_expression(['a"b', "NEAR", "*"])
    assert expression == '"a""b" OR "NEAR" OR "*"'
    assert match_expression([]) is None


def test_dictionary_entries_in_upper_case_reach_the_normalised_text():
    # the text is lower-cased before it is cut: an entry loaded as `GW` never met `gw`, so 17.1GW
    # stayed one token and a question about GW held no term of the passage
    found = terms("新增装机17.1GW，储能1555kWh")
    assert {"gw", "kwh", "1555"} <= set(found)


def test_a_token_gluing_digits_to_letters_also_yields_its_runs():
    found = terms("182mm硅片，M10尺寸")
    assert found.index("182") < found.index("mm") < found.index("182mm")
    assert {"m", "10", "m10"} <= set(found)
    assert terms("TOPCon 2.0") == ["topcon", "2.0"]  # letters alone, or a decimal, stay as they are


def test_a_word_of_the_pv_dictionary_is_not_glued_to_its_neighbour():
    assert "排产" in terms("10月组件排产约46GW")
