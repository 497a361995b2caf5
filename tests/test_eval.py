"""Retrieval quality on the labelled dev queries: a regression test for ranking changes."""

from __future__ import annotations

import pytest

from kb.evaluate import dropped, evaluate, format_table, load_queries

from .conftest import DEV_QUERIES


@pytest.mark.skipif(not DEV_QUERIES.exists(), reason="../shared/eval/dev_queries.jsonl is not beside the repo")
def test_hybrid_beats_each_mode_alone_and_reaches_095_mrr(corpus_kb):
    queries = load_queries(DEV_QUERIES)
    hybrid, keyword, semantic = evaluate(corpus_kb, queries, ["hybrid", "keyword", "semantic"])
    print(format_table([hybrid, keyword, semantic], queries))
    assert hybrid.mrr() >= 0.95
    assert hybrid.mrr() >= keyword.mrr() and hybrid.mrr() >= semantic.mrr()


@pytest.mark.skipif(not DEV_QUERIES.exists(), reason="../shared/eval/dev_queries.jsonl is not beside the repo")
def test_the_threshold_pushes_no_answer_out_of_the_top_5(corpus_kb):
    queries = [q for q in load_queries(DEV_QUERIES) if q.answerable]
    gated = evaluate(corpus_kb, queries, ["hybrid"])[0]
    ungated = evaluate(corpus_kb, queries, ["hybrid"], min_similarity=-1.0)[0]  # every candidate matches
    assert sum(1 for q in queries if ungated.ranks[q.id] and ungated.ranks[q.id] <= 5) >= len(queries) - 1
    assert dropped(gated, ungated) == []
