"""The match rules: informative terms, the IDF-weighted keyword share, calibrated semantic thresholds."""

import numpy as np

from kb.matching import Calibration, content_terms, keyword_match, keyword_shares, load_calibration, semantic_match


def texts(query):
    return [t.text for t in content_terms(query)[0]]


def test_question_and_time_words_are_not_informative():
    terms = texts("8月11日当周N型复投料均价是多少")
    assert "复投料" in terms and "均价" in terms
    assert not {"多少", "当周", "日当", "8", "11"} & set(terms)


def test_the_sub_words_of_a_question_word_ask_too():
    # jieba's search mode yields 没有 inside 有没有: it is part of the question, not of its subject
    assert texts("光伏组件出口有没有退税") == ["光伏", "光伏组件", "组件", "出口", "退税"]
    assert "没有" in texts("没有并网的电站")  # said on its own it describes


def test_a_name_jieba_does_not_know_is_one_phrase():
    terms, english = content_terms("嘉钛新能源 钙钛矿 产线")
    assert terms[0].text == "嘉 钛" and terms[0].phrase
    assert not english


def test_english_questions_are_flagged():
    assert content_terms("What is the average price of green certificates?")[1]


class Postings:
    """A real term -> rowids table, the TermIndex the store implements over FTS5."""

    def __init__(self, chunks, table):
        self.chunks, self.table = chunks, table

    def document_frequencies(self, terms):
        return self.chunks, {t: len(self.table.get(t, [])) for t in terms}

    def postings(self, term):
        return np.array(self.table.get(term, []), dtype=np.int64)


def test_share_weights_terms_by_idf_and_counts_terms_nobody_holds():
    # jieba's cut_for_search indexes 绿电码头 as 绿电 / 电码 / 码头 / 绿电码头, in queries as in chunks
    index = Postings(100, {"光伏": list(range(1, 80)), "绿电": [1, 2], "电码": [1], "码头": [1, 3], "绿电码头": [1]})
    shares = keyword_shares(index, "光伏 绿电码头", None).share
    assert shares[1] > 0.99  # holds every informative term
    assert 0.1 < shares[3] < 0.4  # 码头 only: one of four terms, and a commoner one
    assert shares.get(50, 0.0) < 0.01  # 光伏 alone weighs nothing: it is in most chunks
    unanswerable = keyword_shares(index, "光伏 租金", None).share
    assert max(unanswerable.values(), default=0.0) < 0.01  # nobody holds 租金, which carries the query's weight


def test_the_glossary_chinese_of_a_chinese_question_stands_in_and_never_counts_against():
    from kb.glossary import expand_query

    question = "组件排产多少GW"
    expanded = expand_query(question)
    assert "吉瓦" in expanded.split()
    index = Postings(100, {"组件": list(range(1, 40)), "排产": [1, 2, 3], "gw": [1, 4], "吉瓦": [2, 5]})
    shares = keyword_shares(index, expanded, None, question).share
    assert shares[1] > 0.99  # says 46GW: all of the question, though it never says 吉瓦
    assert shares[2] > 0.99  # says 吉瓦 for GW
    assert shares[3] < 0.7  # neither
    english = "module production GW"  # an English question: the Chinese carries it
    english_shares = keyword_shares(Postings(100, {"组件": [1], "gw": [1, 2]}), expand_query(english), None, english).share
    assert english_shares[1] > english_shares[2]


def test_a_word_and_its_sub_words_count_as_one_concept():
    # 会员单位 is indexed with its sub-words 会员 and 单位: counted apart they made three of the question's
    # four terms, so a passage about member units that never mentions fees (会费) held 3/4 of it
    assert [t.concept for t in content_terms("会员单位会费")[0]] == [0, 0, 0, 4]
    index = Postings(100, {"会员": [1, 2, 3], "单位": [1, 2, 3, 4], "会员单位": [1, 2], "会费": [2, 5]})
    shares = keyword_shares(index, "会员单位会费", None).share
    assert shares[2] > 0.99
    assert 0.4 < shares[1] < 0.6  # one of two concepts
    assert shares[5] > shares[3]  # 会费, against 会员 alone (a part of the other concept)


def test_allowed_restricts_the_shares():
    index = Postings(100, {"绿电": [1, 2], "码头": [1, 3]})
    assert set(keyword_shares(index, "绿电 码头", np.array([2, 3])).share) == {2, 3}


def test_semantic_match_by_threshold_or_by_standing_out_of_the_background():
    calibration = Calibration(semantic_min=0.84, semantic_gap=0.05)
    assert semantic_match(0.85, 0.80, calibration)
    assert semantic_match(0.80, 0.74, calibration)
    assert not semantic_match(0.80, 0.78, calibration)
    assert not semantic_match(0.66, 0.60, calibration)  # stands out of a tiny index's background, but is far off
    assert semantic_match(0.5, 0.78, calibration, minimum=0.4)  # exploration lowers it
    assert semantic_match(0.1, 0.78, Calibration())  # an uncalibrated model lets everything through


def test_closeness_in_meaning_lifts_the_keyword_share_in_hybrid_only():
    calibration = Calibration(keyword_share=0.6, semantic_bonus=1.0, bonus_base=0.7)
    assert keyword_match(0.5, 0.82, calibration, hybrid=True)
    assert not keyword_match(0.5, 0.82, calibration, hybrid=False)
    assert not keyword_match(0.5, None, calibration, hybrid=True)


def test_the_shipped_model_is_calibrated_and_others_are_not():
    assert load_calibration("m3e-small+onnx-int8").calibrated
    assert not load_calibration("some/other-model").calibrated
