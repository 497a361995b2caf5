"""The match set, grouping, sort, time words and score evidence, on a real two-issue index.

The index holds the shipped issue (2025-06-23) and a handmade second week (2025-06-30) whose
price report repeats the first's with new numbers and whose 绿电码头 story is the same story."""

from __future__ import annotations

import pytest

from kb.search import SearchRequest, search
pytest_plugins = ["tests.two_issues"]


def run(kb, query, **options):
    return search(kb, SearchRequest(query, facets=True, **options))


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
@pytest.mark.parametrize("query", ["足球比赛 世界杯 冠军", "量子计算"])
def test_a_query_the_archive_never_covered_returns_nothing(two_issues_kb, query, mode):
    response = run(two_issues_kb, query, mode=mode)
    assert response["total"] == 0 and response["results"] == []
    assert all(counts == {} for counts in response["facets"].values())


def test_total_and_every_facet_count_the_match_set_not_the_index(two_issues_kb):
    response = run(two_issues_kb, "绿电码头", k=100)
    chunks = len(two_issues_kb.view().columns.rowids)
    assert 0 < response["total"] < chunks / 4 and response["total_relation"] == "eq"
    assert len(response["results"]) <= response["total"]
    for name, counts in response["facets"].items():
        assert sum(counts.values()) == response["total"], name
    titles = {hit["article"]["title"] for hit in response["results"]}
    assert all("绿电码头" in title for title in titles), titles


def test_grouped_results_show_each_article_once_and_count_articles(two_issues_kb):
    passages = run(two_issues_kb, "钙钛矿", k=100)
    grouped = run(two_issues_kb, "钙钛矿", k=100, group="article")
    articles = [hit["article"]["id"] for hit in grouped["results"]]
    assert len(articles) == len(set(articles)) == grouped["total"]
    assert grouped["total"] == len({hit["article"]["id"] for hit in passages["results"]})
    assert sum(grouped["facets"]["issue"].values()) == grouped["total"]
    by_article = {}
    for hit in passages["results"]:
        by_article.setdefault(hit["article"]["id"], []).append(hit["id"])
    for hit in grouped["results"]:
        assert hit["id"] == by_article[hit["article"]["id"]][0]  # the best passage is the snippet
        assert hit["passages"]["count"] == len(by_article[hit["article"]["id"]]) - 1
        assert all(i.startswith(hit["article"]["id"]) for i in hit["passages"]["ids"])


def test_a_recurring_report_comes_newest_week_first_and_sort_reverses_it(two_issues_kb):
    relevance = run(two_issues_kb, "N型致密料均价")
    reports = [hit["issue"]["id"] for hit in relevance["results"] if hit["article"]["title"] == "光伏产业供应链价格报告"]
    assert reports[:2] == ["2025-06-30", "2025-06-23"]
    oldest = run(two_issues_kb, "N型致密料均价", sort="oldest")
    dates = [hit["issue"]["date_start"] for hit in oldest["results"]]
    assert dates == sorted(dates) and oldest["total"] == relevance["total"]
    newest = run(two_issues_kb, "N型致密料均价", sort="newest")
    assert [hit["issue"]["date_start"] for hit in newest["results"]] == sorted(dates, reverse=True)


def test_a_named_week_selects_its_issue_and_says_what_it_read(two_issues_kb):
    response = run(two_issues_kb, "6月30日当周N型致密料均价", interpret=True)
    assert response["interpreted"] == {"date_from": "2025-06-30", "date_to": "2025-06-30", "mode": "filter",
                                       "from_text": "6月30日当周"}
    assert response["results"] and {hit["issue"]["id"] for hit in response["results"]} == {"2025-06-30"}
    assert response["results"][0]["article"]["title"] == "光伏产业供应链价格报告"
    plain = run(two_issues_kb, "6月30日当周N型致密料均价")  # the API's default: nothing read
    assert plain["interpreted"] is None


def test_interpretation_is_off_unless_asked(two_issues_kb):
    assert run(two_issues_kb, "6月30日当周 钙钛矿")["interpreted"] is None


def test_every_hit_carries_the_evidence_it_was_ranked_by(two_issues_kb):
    for mode in ("hybrid", "keyword", "semantic"):
        for hit in run(two_issues_kb, "钙钛矿 叠层电池 效率", mode=mode)["results"]:
            scores = hit["scores"]
            assert set(scores) == {"keyword", "keyword_rank", "semantic", "semantic_rank", "keyword_share", "phrase_share",
                                   "fused"}
            assert scores["fused"] == pytest.approx(hit["score"], abs=1e-5)
            if mode == "keyword":
                assert scores["keyword"] is not None and scores["keyword_rank"] >= 1
            if mode == "semantic":
                assert scores["semantic"] is not None


def test_lowering_min_similarity_widens_the_semantic_match_set(two_issues_kb):
    strict = run(two_issues_kb, "港口用风电和光伏供电", mode="semantic")
    loose = run(two_issues_kb, "港口用风电和光伏供电", mode="semantic", min_similarity=0.3)
    assert loose["total"] > strict["total"]
