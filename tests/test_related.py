"""Across issues: related articles by vector similarity, and reprints grouped in search results."""

from __future__ import annotations

from kb.duplicates import story_of
from kb.minhash import signature
from kb.related import related_articles
from kb.search import SearchRequest, search

pytest_plugins = ["tests.two_issues"]

REAL_PEROVSKITE, SECOND_PEROVSKITE = "2025-06-23-06", "2025-06-30-04"
REAL_WHARF, REPRINTED_WHARF = "2025-06-23-01", "2025-06-30-02"
REAL_PRICES, SECOND_PRICES = "2025-06-23-04", "2025-06-30-01"


def test_related_articles_come_from_other_issues_nearest_first(two_issues_kb):
    related = related_articles(two_issues_kb.store, two_issues_kb.model_name, REAL_PEROVSKITE, k=3)
    assert related[0]["article"]["id"] == SECOND_PEROVSKITE
    assert all(r["issue"]["id"] == "2025-06-30" for r in related)
    scores = [r["score"] for r in related]
    assert scores == sorted(scores, reverse=True) and len(related) == 3


def test_the_price_reports_of_two_issues_are_related(two_issues_kb):
    related = related_articles(two_issues_kb.store, two_issues_kb.model_name, SECOND_PRICES, k=1)
    assert related[0]["article"]["id"] == REAL_PRICES and related[0]["issue"]["id"] == "2025-06-23"


def test_related_of_an_unknown_article_is_none_and_of_a_lone_issue_empty(two_issues_kb, corpus_kb):
    assert related_articles(two_issues_kb.store, two_issues_kb.model_name, "1999-01-01-01") is None
    assert related_articles(corpus_kb.store, corpus_kb.model_name, REAL_PEROVSKITE) == []


def test_a_reprinted_story_is_the_same_story_and_a_new_weeks_prices_are_not(two_issues_kb):
    story = story_of(two_issues_kb.store, [REAL_WHARF, REAL_PRICES, REPRINTED_WHARF, SECOND_PRICES])
    assert story[REPRINTED_WHARF] == REAL_WHARF
    assert story[SECOND_PRICES] == SECOND_PRICES and story[REAL_PRICES] == REAL_PRICES


def test_short_bodies_get_no_signature():
    assert signature("光伏组件价格下跌。") is None
    assert signature("光伏" * 100) is not None


def test_search_lists_a_reprinted_story_once_with_its_other_issues(two_issues_kb):
    response = search(two_issues_kb, SearchRequest("梅山港区风光储一体化项目累计发电量", mode="hybrid", k=10))
    wharf_hits = [h for h in response["results"] if "绿电码头" in h["article"]["title"]]
    assert {h["article"]["id"] for h in wharf_hits} == {wharf_hits[0]["article"]["id"]}  # one of the two articles
    folded = [d for h in wharf_hits for d in h.get("duplicates", [])]
    assert folded and {d["issue"]["id"] for d in folded} != {wharf_hits[0]["issue"]["id"]}
    assert {d["article"]["title"] for d in folded} <= {
        "浙江首个“绿电码头”全面建成投用", "浙江首个“绿电码头”全面建成投用，风光储一体化项目累计发电超4000万千瓦时"
    }


def test_without_reprints_hits_carry_no_duplicates(two_issues_kb):
    response = search(two_issues_kb, SearchRequest("钙钛矿叠层", mode="hybrid", k=10))
    issues = {h["issue"]["id"] for h in response["results"]}
    assert issues == {"2025-06-23", "2025-06-30"}  # both perovskite articles stay: different stories
    assert all("duplicates" not in h for h in response["results"])
