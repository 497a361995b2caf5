"""The keyword ranker of a generation (kb/keyword_index.py) gives FTS5's bm25 ranking exactly, from
term statistics kept per chunk in the issue's transaction; `kb check` compares them with FTS5,
`--repair` rewrites them, deletes cascade to them, and an index of schema 3 gets them on opening."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from kb.check import repair
from kb.filters import Filters
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchRequest, search, weighted_terms
from kb.segment import match_expression, query_terms
from kb.store.tokens import fts_tokens

from .conftest import copy_of

pytest_plugins = ["tests.two_issues"]

QUERIES = ["绿电码头", "内蒙古 自用比例", "钙钛矿电池效率", "分布式光伏可开放容量", "光伏", "N型致密料均价",
           "余电上网 34.2%", "perovskite efficiency", "隆基 海宁市", "没有这个词语"]
FILTERS = [Filters(), Filters(date_from="2025-06-25"), Filters(section="企业动态"), Filters(type="text")]


def fts5(kb: KnowledgeBase, terms: list[str], filters: Filters, limit: int):
    match = match_expression(terms)
    return kb.store.keyword_search(match, filters, limit) if match else ([], 0)


@pytest.fixture
def copy_kb(two_issues_kb, tmp_path) -> KnowledgeBase:
    kb = copy_of(two_issues_kb, tmp_path / "data")
    kb.rebuild_vectors()
    return kb


@pytest.mark.parametrize("limit", [3, 200])
def test_the_ranking_is_fts5s_bm25_to_the_last_bit(two_issues_kb, limit):
    keywords = two_issues_kb.view().keywords
    assert keywords.complete
    for filters in FILTERS:
        for query in QUERIES:
            terms = weighted_terms(two_issues_kb, query_terms(query))
            assert keywords.search(terms, filters, limit) == fts5(two_issues_kb, terms, filters, limit), (query, filters)


def test_postings_and_frequencies_are_fts5s(two_issues_kb):
    keywords = two_issues_kb.view().keywords
    words = ["光伏", "绿电", "码头", "海宁市", "没有这个词语", "34.2", "绿电 码头"]
    assert keywords.document_frequencies(words) == two_issues_kb.store.document_frequencies(words)
    for word in words:
        assert np.array_equal(keywords.postings(word), two_issues_kb.store.postings(word)), word


def test_tokens_are_fts5s_own(tmp_path):
    text = "x\u0301y Café Ⅳ ǅ \ue000z 34.2% ａｂ 光伏-组件 n型topcon"
    conn = sqlite3.connect(tmp_path / "t.sqlite3")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(c, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    conn.execute("INSERT INTO t (c) VALUES (?)", (text,))
    assert fts_tokens(text) == [row[0] for row in conn.execute("SELECT term FROM v ORDER BY offset")]


def test_removing_an_issue_removes_its_statistics(copy_kb):
    assert copy_kb.remove_issues(["2025-06-30"]) == 1
    assert copy_kb.store.chunks_without_stats() == []
    assert copy_kb.store.row_count("chunk_terms") == copy_kb.store.row_count("chunks") == 44
    assert repair(copy_kb).ok  # agrees with FTS5 after the delete
    keywords = copy_kb.view().keywords
    terms = weighted_terms(copy_kb, query_terms("绿电码头"))
    assert keywords.complete and keywords.search(terms, Filters(), 10) == fts5(copy_kb, terms, Filters(), 10)


def test_check_names_missing_and_disagreeing_statistics_and_repair_rewrites_them(copy_kb):
    conn = copy_kb.store.connection()
    with conn:
        conn.execute("DELETE FROM chunk_terms WHERE chunk IN (3, 4)")
        copy_kb.store.bump_generation(conn)
    copy_kb.rebuild_vectors()
    assert {p.code for p in copy_kb.check().problems} == {"keyword_stats_missing"}
    keywords = copy_kb.view().keywords
    terms = weighted_terms(copy_kb, query_terms("绿电码头"))
    assert not keywords.complete  # FTS5 answers until repaired
    assert keywords.search(terms, Filters(), 10) == fts5(copy_kb, terms, Filters(), 10)
    with conn:  # a chunk's cells losing one term
        conn.execute("UPDATE chunk_terms SET cells = substr(cells, 9) WHERE chunk = 5")
    assert {p.code for p in copy_kb.check().problems} == {"keyword_stats_missing"}
    repaired = repair(copy_kb)
    assert repaired.ok, repaired.problems
    assert any("term statistics" in line for line in repaired.repaired)
    with conn:
        conn.execute("UPDATE chunk_terms SET cells = substr(cells, 9) WHERE chunk = 5")
    assert {p.code for p in copy_kb.check().problems} == {"keyword_stats_stale"}
    assert repair(copy_kb).ok
    assert copy_kb.view().keywords.search(terms, Filters(), 10) == fts5(copy_kb, terms, Filters(), 10)


def test_a_schema_3_index_gets_its_statistics_on_opening(copy_kb):
    before = [hit["id"] for hit in search(copy_kb, SearchRequest("绿电码头", mode="keyword", k=10))["results"]]
    path = copy_kb.settings.db_path
    copy_kb.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE chunk_terms")
        conn.execute("DROP TABLE terms")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()
    kb = KnowledgeBase(copy_kb.settings, embedder=copy_kb.embedder)
    assert kb.store.get_meta("schema_version") == "4"
    assert kb.check().ok
    assert [hit["id"] for hit in search(kb, SearchRequest("绿电码头", mode="keyword", k=10))["results"]] == before


@pytest.mark.parametrize("query", [
    "绿电码头", "N型致密料均价", "分布式光伏 自发自用比例 50%", "182mm TOPCon 双面双玻 组件 0.69元/W",
    "钙钛矿叠层电池 空穴传输层", "光伏", "单机容量 6.25 兆瓦",
])
def test_scores_of_chunks_retrieved_elsewhere_equal_fts5_bm25(query, two_issues_kb):
    """What the milvus backend fuses: the chunks Milvus retrieved, scored as FTS5 scores them (a
    term FTS5 reads as a phrase, 6.25, goes to FTS5 itself); chunks FTS5 would not match are left out."""
    terms = weighted_terms(two_issues_kb, query_terms(query))
    expected, _ = fts5(two_issues_kb, terms, Filters(), 500)
    assert expected
    keywords = two_issues_kb.view().keywords
    unmatched = [r for r in two_issues_kb.store.chunk_rowids() if r not in dict(expected)][:20]
    scores = keywords.scores(terms, [rowid for rowid, _ in expected] + unmatched + [10**9])
    assert set(scores) == {rowid for rowid, _ in expected}
    for rowid, bm25 in expected:
        assert scores[rowid] == pytest.approx(-bm25, rel=1e-9, abs=1e-12), rowid


def test_nothing_to_score_is_an_empty_answer(two_issues_kb):
    keywords = two_issues_kb.view().keywords
    assert keywords.scores(["%%", "。"], [1, 2]) == {}
    assert keywords.scores(["光伏"], []) == {}
    assert keywords.scores(["没有这个词语"], two_issues_kb.store.chunk_rowids()) == {}
