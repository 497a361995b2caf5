"""/api/openapi.json is a valid OpenAPI 3.1 document, names every API route and parameter, and
the real responses (successes and errors) validate against the schemas it declares for them."""

from __future__ import annotations

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
        if rule.endpoint.startswith(("api.", "trends."))
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
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
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
])
def test_real_responses_match_the_document(app, document, path, url):
    check(document, path, app.test_client().get(url))


def test_a_reprinted_story_validates_with_its_duplicates(app, document):
    response = app.test_client().get("/api/search?q=绿电码头 梅山港区&mode=keyword")
    assert any("duplicates" in hit for hit in response.get_json()["results"])
    check(document, "/api/search", response)


def test_the_empty_index_answers_match_the_document(make_kb, document):
    client = create_app(kb=make_kb("empty")).test_client()
    check(document, "/api/search", client.get("/api/search?q=光伏"))
    check(document, "/healthz", client.get("/healthz"))
    check(document, "/api/issues", client.get("/api/issues"))
