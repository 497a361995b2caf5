"""Mentions over time: /api/trend counts the match set per issue (summing to the search's total),
side by side with a compared query, and the search page draws it with links that narrow the dates."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from web import create_app

pytest_plugins = ["tests.two_issues"]


@pytest.fixture(scope="module")
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def test_per_issue_counts_sum_to_the_total_of_the_search(client):
    trend = client.get("/api/trend", query_string={"q": "钙钛矿"}).get_json()
    search = client.get("/api/search", query_string={"q": "钙钛矿"}).get_json()
    assert trend["unit"] == "issue" and [b["label"] for b in trend["buckets"]] == ["2025-06-23", "2025-06-30"]
    assert sum(b["counts"][0] for b in trend["buckets"]) == search["total"] == trend["series"][0]["total"] > 0
    assert {b["label"]: b["counts"][0] for b in trend["buckets"]} == {
        issue: search["facets"]["issue"].get(issue, 0) for issue in ("2025-06-23", "2025-06-30")}


def test_compare_counts_a_second_query_over_the_same_buckets(client):
    trend = client.get("/api/trend", query_string={"q": "钙钛矿", "compare": "TOPCon"}).get_json()
    other = client.get("/api/search", query_string={"q": "TOPCon"}).get_json()
    assert trend["compare"] == "TOPCon" and len(trend["series"]) == 2
    assert all(len(b["counts"]) == 2 for b in trend["buckets"])
    assert sum(b["counts"][1] for b in trend["buckets"]) == other["total"]


def test_a_date_filter_keeps_only_its_issues_and_bad_input_is_a_400(client):
    trend = client.get("/api/trend", query_string={"q": "钙钛矿", "date_from": "2025-06-30"}).get_json()
    assert [b["label"] for b in trend["buckets"]] == ["2025-06-30"]
    assert client.get("/api/trend", query_string={"q": ""}).status_code == 400
    assert client.get("/api/trend", query_string={"q": "光伏", "compare": "长" * 300}).get_json()["error"]["code"] \
        == "query_too_long"


def test_the_search_page_draws_the_trend_with_links_that_narrow_the_dates(client):
    soup = BeautifulSoup(client.get("/search", query_string={"q": "钙钛矿", "compare": "TOPCon"}).get_data(as_text=True),
                         "html.parser")
    chart = soup.select_one("figure.trend svg")
    assert chart is not None
    links = [a["href"] for a in chart.select("a.bucket")]
    assert any("date_from=2025-06-30" in link and "date_to=2025-07-06" in link for link in links)
    assert len(soup.select("figure.trend .legend")) == 2 and soup.select_one('form.compare input[name="compare"]')
    assert soup.select("rect.bar.s1")  # the compared query's bars
