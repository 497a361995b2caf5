"""Search on a real index of the shipped issue: attribution, filters, modes, snippets, contract."""

from __future__ import annotations

import numpy as np
import pytest

from kb.hybrid import Candidate, fuse_convex
from kb.search import QueryError, SearchRequest, search, weighted_terms
from kb.filters import Filters

from .conftest import copy_of


def run(kb, query, **kwargs):
    filters = Filters(**{k: kwargs.pop(k) for k in list(kwargs) if k in Filters.__dataclass_fields__})
    return search(kb, SearchRequest(query, filters=filters, **kwargs))


def test_green_power_wharf_top_hit_has_full_attribution(corpus_kb):
    top = run(corpus_kb, "绿电码头")["results"][0]
    assert top["issue"] == {
        "id": "2025-06-23", "title": "光伏信息精选", "date_start": "2025-06-23", "date_end": "2025-06-29",
        "file": "pv-digest-2025-06-23.txt",
    }
    assert top["article"]["section"] == "行业聚焦"
    assert top["article"]["source"] == "浙江省太阳能光伏行业协会"
    assert top["article"]["page"] == 1
    assert "绿电码头" in top["article"]["title"]


def test_policy_filter_finds_the_inner_mongolia_clause(corpus_kb):
    top = run(corpus_kb, "内蒙古 自用比例", type="policy")["results"][0]
    assert top["type"] == "policy"
    assert "省份：内蒙古" in top["text"] and "2025年6月20日" in top["text"]


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_date_filter_uses_overlap_of_issue_ranges(corpus_kb, mode):
    assert run(corpus_kb, "光伏", mode=mode, date_to="2025-06-01")["results"] == []
    assert run(corpus_kb, "光伏", mode=mode, date_from="2025-06-30")["results"] == []
    inside = run(corpus_kb, "光伏", mode=mode, date_from="2025-06-25", date_to="2025-07-31")
    assert inside["results"] and all(r["issue"]["id"] == "2025-06-23" for r in inside["results"])


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_section_type_and_source_filters_restrict_every_hit(corpus_kb, mode):
    # one-word queries: in semantic mode no passage clears the calibrated threshold, so this test of
    # the filters lowers it (min_similarity) to see every filtered semantic hit
    explore = {"min_similarity": -1.0} if mode == "semantic" else {}
    hits = run(corpus_kb, "光伏组件", mode=mode, section="企业动态", k=20, **explore)["results"]
    assert hits and {h["article"]["section"] for h in hits} == {"企业动态"}
    hits = run(corpus_kb, "容量", mode=mode, type="table_row", k=20, **explore)["results"]
    assert hits and {h["type"] for h in hits} == {"table_row"}
    hits = run(corpus_kb, "价格", mode=mode, source="人民日报", **explore)["results"]
    assert hits and {h["article"]["source"] for h in hits} == {"人民日报"}


def test_offset_pages_through_results_without_overlap(corpus_kb):
    first = run(corpus_kb, "光伏 组件", mode="keyword", k=5)
    second = run(corpus_kb, "光伏 组件", mode="keyword", k=5, offset=5)
    assert first["total"] > 10
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_result_contract_shape(corpus_kb):
    response = run(corpus_kb, "钙钛矿", k=3)
    assert set(response) == {"query", "mode", "total", "took_ms", "results", "total_relation", "group", "sort",
                             "interpreted"}
    assert response["mode"] == "hybrid" and len(response["results"]) == 3
    for hit in response["results"]:
        assert set(hit) == {"id", "score", "type", "text", "snippet", "issue", "article", "scores", "ocr"}
        assert hit["ocr"] is False  # the corpus is text exports: nothing read by OCR
        assert set(hit["article"]) == {"id", "title", "section", "source", "page"}


def test_snippet_marks_query_words_and_escapes_the_rest(corpus_kb):
    hit = run(corpus_kb, "钙钛矿", mode="keyword")["results"][0]
    assert "<mark>钙钛矿</mark>" in hit["snippet"]
    hit = run(corpus_kb, "PID 测试", mode="keyword")["results"][0]  # a text with "<", ">" nearby
    assert "<" not in hit["snippet"].replace("<mark>", "").replace("</mark>", "")


def test_english_queries_are_expanded_with_the_glossary(corpus_kb):
    expanded = run(corpus_kb, "wafer", mode="keyword")["results"]
    plain = search(corpus_kb, SearchRequest("wafer", mode="keyword", expand=False))["results"]
    assert plain == [] and "硅片" in expanded[0]["text"]


def test_every_chunk_has_exactly_one_vector(corpus_kb):
    rowids = np.array([r[0] for r in corpus_kb.store.connection().execute("SELECT rowid FROM chunks")])
    vector_ids = corpus_kb.vectors.ids()
    assert len(vector_ids) == len(set(vector_ids.tolist()))
    assert np.array_equal(np.sort(vector_ids), np.sort(rowids))


@pytest.mark.parametrize(
    "request_kwargs, code",
    [
        ({"query": "   "}, "empty_query"),
        ({"query": "光伏", "mode": "fuzzy"}, "invalid_mode"),
        ({"query": "光伏", "k": 0}, "invalid_k"),
        ({"query": "光伏", "k": 10**9}, "invalid_k"),
        ({"query": "光伏", "offset": -1}, "invalid_offset"),
        ({"query": "光伏", "filters": Filters(date_from="2025-13-45")}, "invalid_date"),
        ({"query": "光伏", "filters": Filters(date_from="2025-07-01", date_to="2025-06-01")}, "invalid_date"),
        ({"query": "光伏", "filters": Filters(type="image")}, "invalid_type"),
        ({"query": "光" * 300}, "query_too_long"),
    ],
)
def test_bad_requests_raise_query_error_with_a_code(corpus_kb, request_kwargs, code):
    with pytest.raises(QueryError) as error:
        search(corpus_kb, SearchRequest(**request_kwargs))
    assert error.value.code == code


@pytest.mark.parametrize("query", ['"', "*", "a OR b NOT c", "NEAR(光伏 组件)", "title:光伏", "'; DROP TABLE chunks; --", "^光伏"])
def test_fts_syntax_in_queries_is_searched_as_text(corpus_kb, query):
    response = run(corpus_kb, query, mode="keyword")
    assert response["total"] >= 0
    assert corpus_kb.store.counts()["rows"]["chunks"] == 44


def test_convex_fusion_rewards_passages_strong_in_both_legs_and_breaks_ties_by_phrase():
    fused = fuse_convex([Candidate(1, keyword=10.0, semantic=0.70), Candidate(2, keyword=8.0, semantic=0.85),
                         Candidate(3, semantic=0.86)], keyword_weight=0.3, floor=0.6)
    assert [c.rowid for c in fused] == [2, 1, 3]
    assert fused[0].fused == pytest.approx(0.3 * 0.8 + 0.7 * 0.85)
    tie = fuse_convex([Candidate(1, keyword=10.0, semantic=0.80), Candidate(2, keyword=10.0, semantic=0.81, phrase=0.0),
                       Candidate(3, keyword=10.0, semantic=0.80, phrase=1.0)], 0.3, 0.6, phrase_weight=0.05)
    assert tie[0].rowid == 3


def test_convex_fusion_share_term_ranks_the_passage_holding_more_of_the_question_first():
    # same BM25 and cosine: the one holding 80 % of the question's IDF weight beats the one holding 40 %
    pair = [Candidate(1, keyword=10.0, semantic=0.80, share=0.4), Candidate(2, keyword=10.0, semantic=0.80, share=0.8)]
    assert [c.rowid for c in fuse_convex(pair, 0.2, 0.6, share_weight=0.1)] == [2, 1]
    fused = fuse_convex([Candidate(1, keyword=5.0, semantic=0.7, share=0.5)], 0.2, 0.6, 0.1, 0.1)
    assert fused[0].fused == pytest.approx(0.2 * 1.0 + 0.8 * 0.7 + 0.1 * 0.5)
    assert fuse_convex(pair, 0.2, 0.6)[0].fused == pytest.approx(0.2 + 0.8 * 0.8)  # default: no share term


def test_terms_in_half_the_chunks_or_more_are_left_out_of_keyword_matching(corpus_kb):
    chunks, frequencies = corpus_kb.store.document_frequencies(["光伏", "绿电码头"])
    assert frequencies["光伏"] * 2 >= chunks > frequencies["绿电码头"] * 2  # 光伏 has zero BM25 IDF here
    assert weighted_terms(corpus_kb, ["光伏", "绿电码头"]) == ["绿电码头"]
    assert weighted_terms(corpus_kb, ["光伏"]) == ["光伏"]  # all ubiquitous: kept, nothing else ranks
    both = run(corpus_kb, "光伏 绿电码头", mode="keyword", expand=False)
    alone = run(corpus_kb, "绿电码头", mode="keyword", expand=False)
    assert [hit["id"] for hit in both["results"]] == [hit["id"] for hit in alone["results"]]


def test_a_repeated_search_is_answered_from_the_cache_until_the_next_ingest(corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "cached")
    first = search(kb, SearchRequest("绿电码头", mode="keyword"))
    first["results"][0]["text"] = "changed by the caller"  # a caller's copy, not the cached answer
    again = search(kb, SearchRequest("绿电码头", mode="keyword"))
    assert len(kb.results) == 1 and again["results"][0]["text"] != "changed by the caller"
    assert {k: v for k, v in again.items() if k != "took_ms"} == {
        k: v for k, v in search(kb, SearchRequest(" 绿电码头 ", mode="keyword")).items() if k != "took_ms"}
    with kb.store.connection() as conn:  # what an ingest does: a new generation
        kb.store.bump_generation(conn)
    search(kb, SearchRequest("绿电码头", mode="keyword"))
    assert len(kb.results) == 2  # answered afresh under the new generation
