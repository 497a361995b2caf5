"""The JSON API through Flask's test client, over real indexes: contract, facets, errors, CORS."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.pipeline import ingest
from kb.knowledge_base import KnowledgeBase
from web import create_app

from .conftest import copy_of

pytest_plugins = ["tests.two_issues"]

SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"


@pytest.fixture(scope="module")
def corpus_client(corpus_kb):
    return create_app(kb=corpus_kb).test_client()


@pytest.fixture(scope="module")
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


# ---- search ----------------------------------------------------------------------------------


def test_search_returns_the_contract_with_attribution(corpus_client):
    body = corpus_client.get("/api/search", query_string={"q": "绿电码头"}).get_json()
    assert list(body) == ["query", "mode", "total", "took_ms", "results", "total_relation", "group", "sort",
                          "interpreted", "facets", "answers"]
    assert body["query"] == "绿电码头" and body["mode"] == "hybrid"
    top = body["results"][0]
    assert top["issue"] == {"id": "2025-06-23", "title": "光伏信息精选", "date_start": "2025-06-23",
                            "date_end": "2025-06-29", "file": "pv-digest-2025-06-23.txt"}
    assert top["article"]["section"] == "行业聚焦" and top["article"]["page"] == 1
    assert top["article"]["source"] == "浙江省太阳能光伏行业协会"
    assert top["attribution"] == "光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第1页 · 来源：浙江省太阳能光伏行业协会"
    assert "<mark>绿电码头</mark>" in top["snippet"]


def test_json_is_utf8_not_escaped(corpus_client):
    response = corpus_client.get("/api/search?q=%E7%BB%BF%E7%94%B5%E7%A0%81%E5%A4%B4&mode=keyword")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    raw = response.get_data()
    assert "绿电码头".encode() in raw and b"\\u" not in raw


def test_facets_count_the_match_set_per_section_type_source_and_issue(client):
    body = client.get("/api/search", query_string={"q": "钙钛矿", "mode": "keyword", "k": 1}).get_json()
    facets = body["facets"]
    assert set(facets) == {"section", "type", "source", "issue"}
    assert set(facets["issue"]) == {"2025-06-23", "2025-06-30"}
    assert sum(facets["issue"].values()) == sum(facets["type"].values()) == body["total"]
    assert facets["section"]["技术前沿"] >= 1 and facets["source"]["示例科技日报"] >= 1
    assert len(body["results"]) == 1  # facets cover the match set, not only the page


def test_date_range_narrows_results_and_facets(client):
    body = client.get("/api/search", query_string={"q": "钙钛矿", "mode": "keyword", "date_from": "2025-06-30"}).get_json()
    assert {hit["issue"]["id"] for hit in body["results"]} == {"2025-06-30"}
    assert list(body["facets"]["issue"]) == ["2025-06-30"]
    assert "印刷钙钛矿光电器件" not in body["facets"]["source"]


@pytest.mark.parametrize(("name", "value", "field", "q"), [  # a query each filter has matches for
    ("section", "技术前沿", "section", "钙钛矿"), ("source", "示例科技日报", "source", "钙钛矿"),
    ("type", "policy", "type", "自用比例"),
])
def test_each_filter_keeps_only_matching_hits(client, name, value, field, q):
    body = client.get("/api/search", query_string={"q": q, "mode": "hybrid", name: value}).get_json()
    assert body["results"]
    for hit in body["results"]:
        assert (hit["type"] if field == "type" else hit["article"][field]) == value


def test_offset_pages_through_the_same_ranking(client):
    first = client.get("/api/search", query_string={"q": "光伏", "mode": "keyword", "k": 4}).get_json()
    second = client.get("/api/search", query_string={"q": "光伏", "mode": "keyword", "k": 2, "offset": 2}).get_json()
    assert [h["id"] for h in second["results"]] == [h["id"] for h in first["results"][2:4]]


@pytest.mark.parametrize(("params", "code"), [
    ({"q": "光伏", "mode": "fuzzy"}, "invalid_mode"),
    ({"q": "光伏", "k": "0"}, "invalid_k"),
    ({"q": "光伏", "k": "101"}, "invalid_k"),
    ({"q": "光伏", "k": "ten"}, "invalid_k"),
    ({"q": "光伏", "k": "9" * 40}, "invalid_k"),
    ({"q": "光伏", "offset": "-1"}, "invalid_offset"),
    ({"q": "光伏", "offset": "1.5"}, "invalid_offset"),
    ({"q": "光伏", "date_from": "2025-02-30"}, "invalid_date"),
    ({"q": "光伏", "date_to": "June 2025"}, "invalid_date"),
    ({"q": "光伏", "date_from": "2025-07-01", "date_to": "2025-06-01"}, "invalid_date"),
    ({"q": "光伏", "type": "image"}, "invalid_type"),
    ({"q": "光伏", "expand": "maybe"}, "invalid_expand"),
    ({"q": ""}, "empty_query"),
    ({"q": " \t\x00 "}, "empty_query"),
    ({}, "empty_query"),
    ({"q": "光" * 300}, "query_too_long"),
])
def test_bad_parameters_are_a_400_naming_the_problem(client, params, code):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 400
    assert error_code(response) == code and response.get_json()["error"]["message"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    q=st.text(max_size=40),
    mode=st.sampled_from(["hybrid", "keyword", "semantic", "", "HYBRID", "关键词"]),
    k=st.one_of(st.integers(-5, 200).map(str), st.text(max_size=5)),
    date_from=st.one_of(st.just(""), st.dates().map(str), st.text(max_size=12)),
    section=st.text(max_size=8),
)
def test_no_client_input_is_a_server_error(client, q, mode, k, date_from, section):
    params = {"q": q, "mode": mode, "k": k, "date_from": date_from, "section": section}
    response = client.get("/api/search", query_string=params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.is_json


# ---- issues, articles, health ------------------------------------------------------------------


def test_issues_are_listed_newest_first(client):
    body = client.get("/api/issues").get_json()
    assert body["total"] == 2
    assert [issue["id"] for issue in body["issues"]] == ["2025-06-30", "2025-06-23"]
    assert body["issues"][1]["publisher"] == "嘉兴市光伏行业协会" and body["issues"][1]["article_count"] == 10


def test_issue_table_of_contents_links_every_entry_to_its_article(client):
    issue = client.get("/api/issues/2025-06-23").get_json()
    assert [entry["number"] for entry in issue["toc"]] == list(range(1, 11))
    assert issue["toc"][0]["title"] == "浙江首个“绿电码头”全面建成投用" and issue["toc"][0]["page"] == 1
    for entry in issue["toc"]:
        article = client.get(f"/api/articles/{entry['article_id']}").get_json()
        assert article["article"]["title"] == entry["title"]


def test_article_has_its_text_tables_attribution_and_chunk_places(client):
    article = client.get("/api/articles/2025-06-23-05").get_json()
    assert article["attribution"] == "光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第5页 · 来源：嘉兴市发改委"
    assert article["text"] == "\n".join(article["paragraphs"])
    (table,) = article["tables"]
    assert table["headers"] == ["序号", "县(市、区)名称", "可开放容量", "预警等级"]
    assert table["rows"][0] == ["1", "南湖区", "658", "绿"] and table["unit"] == "兆瓦"
    rows = [chunk for chunk in article["chunks"] if chunk["type"] == "table_row"]
    assert [(chunk["table"], chunk["row"]) for chunk in rows] == [(table["id"], i) for i in range(len(table["rows"]))]
    assert (article["previous"]["id"], article["next"]["id"]) == ("2025-06-23-04", "2025-06-23-06")


def test_search_hit_text_is_the_article_text_at_the_chunk_span(client):
    hits = client.get("/api/search", query_string={"q": "钙钛矿", "mode": "keyword", "type": "text"}).get_json()
    for hit in hits["results"]:
        article = client.get(f"/api/articles/{hit['article']['id']}").get_json()
        (chunk,) = [c for c in article["chunks"] if c["id"] == hit["id"]]
        assert article["text"][chunk["start"] : chunk["end"]] == hit["text"]


@pytest.mark.parametrize("path", ["/api/issues/1999-01-01", "/api/articles/nope", "/api/articles/<script>",
                                  "/api/nothing-here"])
def test_unknown_ids_are_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_health_says_the_index_is_loaded_with_counts(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ok" and body["index_loaded"] is True
    assert body["counts"]["issues"] == 2 and body["vectors"] == body["counts"]["chunks"]
    assert body["latest_issue_end"] == "2025-07-06"


def test_an_empty_index_says_so(make_kb):
    client = create_app(kb=make_kb("empty")).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["index_loaded"] is False
    search = client.get("/api/search?q=光伏")
    assert search.status_code == 503 and error_code(search) == "index_not_built"
    assert client.get("/api/search?q=").status_code == 400  # the client's mistake still comes first
    assert client.get("/api/issues").get_json() == {"total": 0, "issues": []}


# ---- HTTP rules ----------------------------------------------------------------------------------


def test_cross_origin_gets_are_allowed(client):
    response = client.get("/api/issues", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/search", headers={"Origin": "https://example.org",
                                                        "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200 and "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_writes_are_refused_with_a_json_405(client):
    response = client.post("/api/search", data={"q": "光伏"})
    assert response.status_code == 405 and error_code(response) == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_an_oversized_query_string_is_a_413(client):
    response = client.get("/api/search", query_string={"q": "光伏", "section": "x" * 20_000})
    assert response.status_code == 413 and error_code(response) == "request_entity_too_large"


def test_a_running_app_sees_a_new_ingest_without_restart(tmp_path, corpus_kb):
    """Another process (here another KnowledgeBase) ingests an issue; the app's next search finds it."""
    app_kb = copy_of(corpus_kb, tmp_path / "live")
    client = create_app(kb=app_kb).test_client()
    query = {"q": "湖州市可开放容量", "mode": "semantic", "k": 50}
    before = client.get("/api/search", query_string=query).get_json()
    assert {hit["issue"]["id"] for hit in before["results"]} == {"2025-06-23"}

    writer = KnowledgeBase(app_kb.settings, embedder=corpus_kb.embedder)
    assert ingest(writer, [SECOND_ISSUE], progress=False).ok

    after = client.get("/api/search", query_string=query).get_json()
    assert "2025-06-30" in {hit["issue"]["id"] for hit in after["results"]}
    assert client.get("/healthz").get_json()["counts"]["issues"] == 2
