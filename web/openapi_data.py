"""The OpenAPI paths of the data endpoints (web.data_api): tables (JSON and CSV), price series,
policy clauses, related articles.

Built with the helpers of `web.openapi` so both halves of the document share one date pattern,
one error shape and the same issue and article references; `web.data_api.openapi_paths` hands
them to /api/openapi.json. The 400s JSON Schema cannot express (a date that does not exist such as
2025-02-30, date_from after date_to) are documented as responses.
"""

from __future__ import annotations

from kb.config import Settings

from .openapi import DATE, NULLABLE_STRING, STRING, array, date_parameters, obj, path_id, query, ref, response

TEXT_PARAM = {"type": "string", "description": "trimmed; only its first 200 characters are used"}
NUMBER = {"type": "number"}
NULLABLE_NUMBER = {"type": ["number", "null"]}
CELL = {"type": ["number", "string", "null"], "description": "a number, an ISO date or the cell's text"}
SHORT_ARTICLE = obj({"id": STRING, "title": STRING})

TABLE_SUMMARY = obj({
    "id": STRING, "caption": NULLABLE_STRING, "unit": NULLABLE_STRING, "credit": NULLABLE_STRING,
    "headers": array(STRING), "rows": {"type": "integer", "minimum": 0, "description": "how many rows"},
    "issue": ref("IssueRef"), "article": ref("ArticleRef"),
})
TYPED_TABLE = obj({
    "id": STRING, "caption": NULLABLE_STRING, "unit": NULLABLE_STRING, "note": NULLABLE_STRING,
    "credit": NULLABLE_STRING, "headers": array(STRING),
    "units": array({"type": ["string", "null"], "description": "the unit a column's numbers share"}),
    "rows": array(array(CELL)), "text_rows": array(array(STRING)),
    "issue": ref("IssueRef"), "article": ref("ArticleRef"),
})
PRICE_POINT = obj({
    "date": DATE, "price": NUMBER, "low": NULLABLE_NUMBER, "high": NULLABLE_NUMBER, "source": NULLABLE_STRING,
    "issue": ref("IssueRef"), "article": SHORT_ARTICLE,
})
POLICY = obj({
    "province": STRING, "policy_name": NULLABLE_STRING, "requirement": NULLABLE_STRING,
    "self_use_ratio": NULLABLE_STRING, "grid_ratio": NULLABLE_STRING, "release_date": NULLABLE_STRING,
    "status": NULLABLE_STRING, "issue": ref("IssueRef"), "article": ref("ArticleRef"),
})


def json_body(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def bounded(low: int, high: int, default: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


def data_paths(settings: Settings, max_limit: int, max_related: int) -> dict:
    """The data endpoints' paths; `max_limit` and `max_related` are web.data_api's bounds."""
    bad = response("a parameter is wrong (also: a date that does not exist, or date_from after date_to); "
                   "`code` names it", "Error")
    missing = response("no such id", "Error")
    return {
        "/api/tables": {"get": {
            "summary": "Tables across issues, newest issue first", "operationId": "listTables",
            "parameters": [
                query("caption", TEXT_PARAM, "part of the caption or of the article's title"),
                query("issue", TEXT_PARAM, "one issue id"), *date_parameters(),
                query("limit", bounded(1, max_limit, 100), "tables per page"),
                query("offset", bounded(0, 1_000_000, 0), "tables to skip"),
            ],
            "responses": {"200": json_body(obj({"total": {"type": "integer", "minimum": 0},
                                                "tables": array(TABLE_SUMMARY)}), "the tables"), "400": bad},
        }},
        "/api/tables/{table_id}": {"get": {
            "summary": "One table with typed cells, as JSON or as CSV", "operationId": "getTable",
            "parameters": [path_id("table_id", "e.g. 2025-06-30-03-t1"),
                           query("format", {"enum": ["json", "csv"], "default": "json"},
                                 "csv: UTF-8 with BOM, units in the header row, as an attachment"),
                           query("sort", TEXT_PARAM, "a header of the table to order the rows by (numbers as "
                                                     "numbers, blanks last, a total row stays last); another "
                                                     "header is a 400"),
                           query("order", {"enum": ["asc", "desc"], "default": "asc"}, "with sort")],
            "responses": {
                "200": {"description": "the table", "content": {
                    "application/json": {"schema": TYPED_TABLE},
                    "text/csv": {"schema": {"type": "string"}},
                }},
                "400": bad, "404": missing,
            },
        }},
        "/api/prices": {"get": {
            "summary": "Price series per product across issues, oldest first", "operationId": "listPrices",
            "parameters": [query("product", TEXT_PARAM, "a product's exact name, else part of names (TOPCon)"),
                           *date_parameters()],
            "responses": {"200": json_body(obj({
                "product": NULLABLE_STRING,
                "series": array(obj({"product": STRING, "unit": STRING, "points": array(PRICE_POINT)})),
            }), "one series per product and unit"), "400": bad},
        }},
        "/api/policies": {"get": {
            "summary": "Provincial policy clauses across issues, by province and release date",
            "operationId": "listPolicies",
            "parameters": [query("province", TEXT_PARAM, "part of the province's name (山东)"),
                           query("status", TEXT_PARAM, "the clause's status, exact"),
                           *date_parameters(), query("issue", TEXT_PARAM, "one issue id")],
            "responses": {"200": json_body(obj({"total": {"type": "integer", "minimum": 0},
                                                "policies": array(POLICY)}), "the clauses"), "400": bad},
        }},
        "/api/articles/{article_id}/related": {"get": {
            "summary": "The articles from other issues nearest to this one", "operationId": "relatedArticles",
            "parameters": [path_id("article_id", "e.g. 2025-06-23-06"),
                           query("k", bounded(1, max_related, 5), "how many")],
            "responses": {"200": json_body(obj({"article": STRING, "related": array(obj({
                "score": NUMBER, "article": ref("ArticleRef"), "issue": ref("IssueRef")}))}), "nearest first"),
                "400": bad, "404": missing},
        }},
    }

