"""/api/openapi.json is a valid OpenAPI 3.1 document, names every API route and parameter, and
the real responses (successes and errors) validate against the schemas it declares for them."""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from web import create_app
from web.params import FILTER_NAMES

pytest_plugins = ["tests.two_issues"]


@pytest.fixture(scope="module")
def app(two_issues_kb):
    return create_app(kb=two_issues_kb)


@pytest.fixture(scope="module")
def document(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def test_the_document_is_valid_openapi_3_1(document):
    validate_spec(document)
    assert document["openapi"].startswith("3.1")


def test_every_api_route_is_documented(app, document):
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "data.", "trends."))
    }
    assert routes == set(document["paths"])


def test_search_parameters_are_the_ones_the_endpoint_reads(document):
    names = {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert names == {"q", "mode", "k", "offset", "expand", "group", "sort", "interpret", "min_similarity",
                     *FILTER_NAMES}


def check(document: dict, path: str, response) -> None:
    """The response validates against the schema documented for its path and status code."""
    documented = document["paths"][path]["get"]["responses"]
    assert str(response.status_code) in documented, f"{path} answered an undocumented {response.status_code}"
    content = documented[str(response.status_code)]["content"]
    assert response.mimetype in content, f"{path} answered an undocumented {response.mimetype}"
    if response.mimetype != "application/json":
        return
    schema = content["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": document["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.get_json())]
    assert not errors, errors


@pytest.mark.parametrize(("path", "url"), [
    ("/api/search", "/api/search?q=钙钛矿"),
    ("/api/search", "/api/search?q=绿电码头&mode=keyword&type=text&date_to=2025-07"),
    ("/api/search", "/api/search?q=光伏&mode=semantic&k=3&offset=2&expand=false"),
    ("/api/search", "/api/search?q=光伏&mode=nope"),
    ("/api/search", "/api/search?q=光伏&k=0"),
    ("/api/search", "/api/search?q=钙钛矿&group=article&sort=newest"),
    ("/api/search", "/api/search?q=6月30日当周 N型致密料均价&interpret=true"),
    ("/api/search", "/api/search?q=足球比赛 世界杯 冠军"),
    ("/api/search", "/api/search?q=港口 供电&mode=semantic&min_similarity=0.2"),
    ("/api/search", "/api/search?q=光伏&group=passages"),
    ("/api/search", "/api/search?q=光伏&min_similarity=2"),
    ("/api/trend", "/api/trend?q=钙钛矿"),
    ("/api/trend", "/api/trend?q=钙钛矿&compare=TOPCon&date_from=2025-06-30"),
    ("/api/trend", "/api/trend?q=钙钛矿&compare=" + "长" * 300),
    ("/api/issues", "/api/issues"),
    ("/api/issues/{issue_id}", "/api/issues/2025-06-30"),
    ("/api/issues/{issue_id}", "/api/issues/nope"),
    ("/api/articles/{article_id}", "/api/articles/2025-06-23-09"),
    ("/api/articles/{article_id}", "/api/articles/2025-06-30-01"),
    ("/api/articles/{article_id}", "/api/articles/nope"),
    ("/healthz", "/healthz"),
    ("/api/tables", "/api/tables"),
    ("/api/tables", "/api/tables?caption=可开放容量&date_from=2025-07&limit=1"),
    ("/api/tables", "/api/tables?date_from=2025-07-01&date_to=2025-06-01"),
    ("/api/tables/{table_id}", "/api/tables/2025-06-30-03-t1"),
    ("/api/tables/{table_id}", "/api/tables/2025-06-30-03-t1?format=csv"),
    ("/api/tables/{table_id}", "/api/tables/2025-06-30-03-t1?format=xlsx"),
    ("/api/tables/{table_id}", "/api/tables/nope"),
    ("/api/prices", "/api/prices"),
    ("/api/prices", "/api/prices?product=TOPCon&date_to=2025-06"),
    ("/api/policies", "/api/policies?province=山东"),
    ("/api/policies", "/api/policies?date_from=2025-02-30"),
    ("/api/articles/{article_id}/related", "/api/articles/2025-06-23-06/related?k=2"),
    ("/api/articles/{article_id}/related", "/api/articles/2025-06-23-06/related?k=0"),
    ("/api/articles/{article_id}/related", "/api/articles/nope/related"),
])
def test_real_responses_match_the_document(app, document, path, url):
    check(document, path, app.test_client().get(url))


@pytest.mark.parametrize(("value", "valid"), [
    ("2025-06-23", True), ("2025-07", True), ("2025-12-31", True), ("0001-01", True), ("", True),
    ("0000-00", False), ("0000-01-01", False), ("2025-00", False), ("2025-13", False), ("2025-06-00", False),
    ("2025-06-32", False), ("2025-6-1", False), ("2025-06-23T00:00", False),
])
def test_the_date_pattern_says_what_the_server_accepts(app, document, value, valid):
    """Every date the pattern refuses the server refuses too; the ones it allows parse
    (the days a month lacks, 2025-02-30, are the documented 400 it cannot express)."""
    (schema,) = {p["schema"]["pattern"] for p in document["paths"]["/api/tables"]["get"]["parameters"]
                 if p["name"] == "date_from"}
    assert bool(re.fullmatch(schema, value)) is valid
    status = app.test_client().get("/api/tables", query_string={"date_from": value}).status_code
    assert status == (200 if valid else 400)


def test_a_reprinted_story_validates_with_its_duplicates(app, document):
    response = app.test_client().get("/api/search?q=绿电码头 梅山港区&mode=keyword")
    assert any("duplicates" in hit for hit in response.get_json()["results"])
    check(document, "/api/search", response)


def test_the_empty_index_answers_match_the_document(make_kb, document):
    client = create_app(kb=make_kb("empty")).test_client()
    check(document, "/api/search", client.get("/api/search?q=光伏"))
    check(document, "/healthz", client.get("/healthz"))
    check(document, "/api/issues", client.get("/api/issues"))
