"""Hostile input: FTS5 syntax, SQL, broken UTF-8 and absurd numbers are never a 5xx and never reach
MATCH as syntax; text from an issue is escaped on every page; no URL reads a file outside the app."""

from __future__ import annotations

import json
import re

import pytest

from indexer.pipeline import ingest
from kb.store.catalog import Catalog
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase
from web import create_app

from .conftest import CORPUS
from .hostile_inputs import EXPECTED_ERRORS, HOSTILE_QUERIES
from .test_web_server import raw_get, served  # noqa: F401  (served: the waitress fixture)

pytest_plugins = ["tests.two_issues"]

MODES = ("hybrid", "keyword", "semantic")
CONTRACT = ["query", "mode", "total", "took_ms", "results"]
SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def chunk_count(kb: KnowledgeBase) -> int:
    return Catalog(kb.store).health()["counts"]["chunks"]


def check_api_answer(response, name: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.status_code in (200, 400), response.status_code
    body = response.get_json()
    if response.status_code == 200:
        assert list(body)[:5] == CONTRACT and isinstance(body["results"], list)
        assert isinstance(body["total"], int) and body["mode"] in MODES
        assert name not in EXPECTED_ERRORS
    else:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"} and body["error"]["message"]
        assert body["error"]["code"] == EXPECTED_ERRORS.get(name, body["error"]["code"])


# ---- search parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "query_string"), HOSTILE_QUERIES, ids=[name for name, _ in HOSTILE_QUERIES])
def test_hostile_search_parameters_get_the_contract_or_a_400(client, name, query_string, mode):
    check_api_answer(client.get(f"/api/search?{query_string}&mode={mode}"), name)


@pytest.mark.parametrize(("name", "query_string"), HOSTILE_QUERIES, ids=[name for name, _ in HOSTILE_QUERIES])
def test_hostile_search_parameters_get_a_page_or_a_400_page(client, name, query_string):
    response = client.get(f"/?{query_string}")
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    asked = name != "no_q"  # without q the front page is shown: no search was asked for
    assert (response.status_code == 400) == (name in EXPECTED_ERRORS and asked)


def test_a_ten_thousand_character_query_is_a_clear_400(client):
    response = client.get("/api/search", query_string={"q": "a" * 10_000})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "query_too_long" and "256" in error["message"]
    assert "搜索词太长" in client.get("/search", query_string={"q": "a" * 10_000}).get_data(as_text=True)


def test_a_query_string_over_the_request_limit_is_a_413(client):
    response = client.get("/api/search", query_string={"q": "光" * 10_000})  # 90 KB once %-escaped
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"


def test_fts_syntax_is_searched_as_words(client):
    """`title:光伏` and `NEAR(…)` are not column filters or operators: they find what the words find."""
    plain = client.get("/api/search", query_string={"q": "钙钛矿", "mode": "keyword"}).get_json()
    for query in ("title:钙钛矿", "NEAR(钙钛矿)", '"钙钛矿', "钙钛矿*", "^钙钛矿", "(钙钛矿"):
        body = client.get("/api/search", query_string={"q": query, "mode": "keyword"}).get_json()
        assert body["total"] >= plain["total"] > 0, query
        assert body["results"][0]["id"] == plain["results"][0]["id"], query


def test_the_index_is_intact_after_every_hostile_query(client, two_issues_kb):
    before = chunk_count(two_issues_kb)
    for _, query_string in HOSTILE_QUERIES:
        for mode in MODES:
            assert client.get(f"/api/search?{query_string}&mode={mode}").status_code < 500
        assert client.get(f"/search?{query_string}").status_code < 500
    assert chunk_count(two_issues_kb) == before > 0
    body = client.get("/api/search", query_string={"q": "绿电码头", "mode": "keyword"}).get_json()
    assert body["results"][0]["article"]["title"].startswith("浙江首个“绿电码头”")


# ---- text from an issue is escaped on every page -------------------------------------------------------

HOSTILE_ISSUE = f"""光伏信息精选

(2025. 07. 07-2025. 07. 13)

示例光伏协会编

目 录

行业聚焦

1. 光伏电站{SCRIPT}安全测试 1
2. 分布式光伏{IMG}容量公示 2

光伏电站{SCRIPT}安全测试

近日，某光伏电站发布了一则测试公告{SCRIPT}，内容包括{IMG}组件巡检与逆变器维护。

该电站装机容量为120兆瓦，年发电量约1.5亿千瓦时。

（来源：{SCRIPT}能源日报）

分布式光伏{IMG}容量公示

7 月 8 日，某市发改委公示了分布式光伏可开放容量，共包含 2 个区县。

某市分布式光伏可开放容量明细表{SCRIPT}

单位：兆瓦

序号	区县名称	可开放容量	预警等级
1	{SCRIPT}区	402.5	绿
2	{IMG}县	318	黄

（来源：{IMG}发改委）
"""


@pytest.fixture(scope="module")
def hostile_kb(tmp_path_factory, embedder) -> KnowledgeBase:
    folder = tmp_path_factory.mktemp("hostile_issue")
    (folder / "hostile-2025-07-07.txt").write_text(HOSTILE_ISSUE, encoding="utf-8")
    kb = KnowledgeBase(Settings(data_dir=folder / "data", corpus_dir=CORPUS), embedder=embedder)
    report = ingest(kb, [folder / "hostile-2025-07-07.txt"], progress=False)
    assert report.ok, report.failed
    return kb


@pytest.fixture(scope="module")
def hostile_client(hostile_kb):
    return create_app(kb=hostile_kb).test_client()


def hostile_pages(client) -> list[str]:
    articles = [entry["article_id"] for entry in client.get("/api/issues/2025-07-07").get_json()["toc"]]
    tables = [table["id"] for table in client.get("/api/tables").get_json()["tables"]]
    assert len(articles) == 2 and tables
    search = "/search?q=alert+script+img+onerror+光伏电站+发改委"
    return [
        "/", "/issues", "/issues/2025-07-07", "/tables", "/prices",
        *(f"{search}&mode={mode}" for mode in MODES),
        f"{search}&source={SCRIPT}", f"{search}&section={IMG}",
        *(f"/articles/{article}" for article in articles),
        *(f"/articles/{article}?q=alert+script+img&hit={article}-001" for article in articles),
        *(f"/tables/{table}" for table in tables),
    ]


def test_text_from_an_issue_is_escaped_on_every_page(hostile_client):
    seen = ""
    for url in hostile_pages(hostile_client):
        response = hostile_client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.mimetype == "text/html", (url, html[:300])
        assert "<script>alert" not in html and "<img src=x" not in html, url
        seen += html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in seen and "&lt;img src=x onerror=alert(1)&gt;" in seen


def test_the_api_returns_hostile_text_as_data(hostile_client):
    issue = hostile_client.get("/api/issues/2025-07-07").get_json()
    first = hostile_client.get(f"/api/articles/{issue['toc'][0]['article_id']}").get_json()
    assert first["article"]["title"] == f"光伏电站{SCRIPT}安全测试"
    assert first["article"]["source"] == f"{SCRIPT}能源日报" and SCRIPT in first["text"] and IMG in first["text"]
    (table,) = hostile_client.get(f"/api/articles/{issue['toc'][1]['article_id']}").get_json()["tables"]
    assert table["rows"][0][1] == f"{SCRIPT}区" and table["rows"][1][1] == f"{IMG}县"
    hits = hostile_client.get("/api/search", query_string={"q": "测试公告 alert", "mode": "keyword"}).get_json()
    top = hits["results"][0]
    assert SCRIPT in top["text"] and top["article"]["source"] == f"{SCRIPT}能源日报"
    assert "<script>" not in top["snippet"] and "&lt;script&gt;" in top["snippet"]  # snippets are HTML


# ---- no URL reads a file outside the data directory or the static folder -------------------------------

TRAVERSALS = [
    "/static/../../kb/config.py",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%2f..%2fpyproject.toml",
    "/static/..%2F..%2Fkb%2Fconfig.py",
    "/static/..%5c..%5cpyproject.toml",
    "/static/....//....//pyproject.toml",
    "/static/%252e%252e/%252e%252e/pyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/style.css/../../../pyproject.toml",
    "/static/..%00/pyproject.toml",
    "/../pyproject.toml",
    "/articles/..%2f..%2fpyproject.toml",
    "/issues/..%2f..%2fkb.sqlite3",
    "/api/tables/..%2f..%2fkb.sqlite3",
    "/api/tables/..%2f..%2fkb.sqlite3?format=csv",
]
FILE_CONTENTS = ("[project]", "class Settings", "root:", "SQLite format", "import ")


def assert_no_file(status: int, body: bytes, path: str) -> None:
    assert status in (400, 404), (path, status)
    assert not any(marker.encode() in body for marker in FILE_CONTENTS), path


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_outside_the_static_folder_are_not_served(client, path):
    response = client.get(path, follow_redirects=True)  # `//` is merged by a redirect, to a 404
    assert_no_file(response.status_code, response.get_data(), path)


def followed(port: int, path: str) -> tuple[int, bytes]:
    """A raw request line's status and body; a redirect (`//` is merged) followed once, on this server."""
    status, body = raw_get(port, path.encode())
    if 300 <= status < 400:
        (target,) = re.findall(rb'href="http://localhost(/[^"]*)"', body)
        status, body = raw_get(port, target)
    return status, body


@pytest.mark.parametrize("path", TRAVERSALS)
def test_the_server_does_not_serve_paths_outside_the_static_folder(served, path):
    assert_no_file(*followed(served, path), path)


def test_the_server_answers_hostile_queries_without_a_5xx(served):
    for name, query_string in HOSTILE_QUERIES:
        status, body = raw_get(served, f"/api/search?{query_string}&mode=keyword".encode())
        assert status in (200, 400), (name, status, body[:200])
        assert ("error" in json.loads(body)) == (status == 400)
    assert raw_get(served, b"/static/style.css")[0] == 200

