"""kb/bm25.py scores a chunk exactly as FTS5's bm25() does, so a keyword leg retrieved elsewhere
(Milvus) fuses the same values: checked against SQLite's own bm25 on the real issue."""

from __future__ import annotations

import pytest

from kb import bm25
from kb.filters import Filters
from kb.search import weighted_terms
from kb.segment import query_terms

pytest_plugins = ["tests.two_issues"]


@pytest.mark.parametrize("query", [
    "绿电码头", "N型致密料均价", "分布式光伏 自发自用比例 50%", "182mm TOPCon 双面双玻 组件 0.69元/W",
    "钙钛矿叠层电池 空穴传输层", "光伏", "单机容量 6.25 兆瓦",
])
def test_scores_equal_fts5_bm25_for_every_retrieved_chunk(query, two_issues_kb):
    kb = two_issues_kb
    terms = weighted_terms(kb, query_terms(query))
    fts5 = kb.keyword_leg(terms, Filters(), 500)  # the local leg: SQLite's bm25(), made positive
    assert fts5
    mine = bm25.scores(kb.store, terms, [rowid for rowid, _ in fts5])
    assert set(mine) == {rowid for rowid, _ in fts5}
    for rowid, score in fts5:
        assert mine[rowid] == pytest.approx(score, rel=1e-9, abs=1e-12), rowid


def test_unicode61_cuts_what_it_does_not_count_as_a_token_character():
    assert bm25.tokens("50% 4.2 万元/吨 n型 foo_bar") == ["50", "4", "2", "万元", "吨", "n型", "foo", "bar"]


def test_nothing_to_score_is_an_empty_answer(two_issues_kb):
    assert bm25.scores(two_issues_kb.store, ["%%", "。"], [1, 2]) == {}
    assert bm25.scores(two_issues_kb.store, ["光伏"], []) == {}
