"""The OpenAPI 3.1 document of the JSON API, built from the live settings (limits, modes, types).

A blueprint module that defines `openapi_paths(settings) -> dict` has its paths added (see
`web.api.api_openapi`). Schemas close their objects (`additionalProperties: false`) so the test that validates real
responses against this document fails when either side drifts.
"""

from __future__ import annotations

from kb.config import Settings
from kb.models import CHUNK_TYPES
from kb.search import GROUPS, MODES, SORTS

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
# The date rule of kb/filters.py as far as a pattern goes: year 0001-9999, month 01-12, day 01-31,
# or empty (no filter, what a blank date box sends). What it cannot say (2025-02-30, date_from after
# date_to) is a documented 400.
DATE_PARAM = {"type": "string", "pattern": r"^((?!0000)[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$",
              "examples": ["2025-06-23", "2025-07"]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, optional: tuple[str, ...] = (), description: str | None = None) -> dict:
    """A closed object whose properties are all required except `optional`."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def counts() -> dict:
    return {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


ISSUE_REF = {"id": STRING, "title": STRING, "date_start": DATE, "date_end": DATE, "file": STRING}
ARTICLE_REF = {"id": STRING, "title": STRING, "section": NULLABLE_STRING, "source": NULLABLE_STRING,
               "page": {"type": ["integer", "null"]}}
ISSUE_SUMMARY = ISSUE_REF | {"publisher": NULLABLE_STRING, "article_count": INTEGER}


def schemas() -> dict:
    link = {"oneOf": [obj({"id": STRING, "title": STRING}), {"type": "null"}]}
    return {
        "Error": obj({"error": obj({"code": STRING, "message": STRING})}),
        "IssueRef": obj(ISSUE_REF),
        "ArticleRef": obj(ARTICLE_REF),
        "Hit": obj({
            "id": {"type": "string", "description": "chunk id; /articles/{article.id}#{id} shows it in place"},
            "score": {"type": "number"},
            "type": {"enum": list(CHUNK_TYPES)},
            "text": STRING,
            "snippet": {"type": "string", "description": "HTML: escaped text, query terms in <mark>"},
            "issue": ref("IssueRef"),
            "article": ref("ArticleRef"),
            "ocr": {"type": "boolean", "description": "the text was read by OCR from a scanned page: a character may be wrong"},
            "attribution": {"type": "string", "examples": ["光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第1页 · 来源：人民日报"]},
            "duplicates": array(obj({"id": STRING, "issue": ref("IssueRef"), "article": ref("ArticleRef")})),
            "scores": ref("Scores"),
            "passages": obj({"count": {"type": "integer", "minimum": 0}, "ids": array(STRING)},
                            description="group=article: the article's other matching passages (chunk ids), best first"),
        }, optional=("duplicates", "passages")),
        "Scores": obj({
            "keyword": {"type": ["number", "null"], "description": "BM25 (higher is better); null: the keyword leg missed it"},
            "keyword_rank": {"type": ["integer", "null"], "minimum": 1},
            "semantic": {"type": ["number", "null"], "description": "cosine to the query; null: not computed"},
            "semantic_rank": {"type": ["integer", "null"], "minimum": 1,
                              "description": "rank in the semantic leg; null when its cosine was computed beside it"},
            "keyword_share": {"type": "number", "minimum": 0, "description":
                              "IDF-weighted share of the query's informative terms the passage holds"},
            "phrase_share": {"type": "number", "minimum": 0, "maximum": 1, "description":
                             "share of the query's segments the passage holds verbatim"},
            "fused": {"type": "number", "description": "the score it is ranked by (= score)"},
        }, description="why a hit is there: each leg's evidence and the fused score"),
        "Interpreted": obj({
            "date_from": DATE, "date_to": DATE,
            "mode": {"enum": ["filter", "boost"], "description": "filter: only these issues; boost: these issues first"},
            "from_text": {"type": "string", "description": "the words it was read from, e.g. 8月11日当周"},
        }, description="the date range read from the query's time words (interpret=true)"),
        "Facets": obj({"section": counts(), "type": counts(), "source": counts(), "issue": counts()},
                      description="hits per value over the whole match set, most first"),
        "SearchResponse": obj({
            "query": STRING, "mode": {"enum": list(MODES)}, "group": {"enum": list(GROUPS)},
            "sort": {"enum": list(SORTS)},
            "total": {"type": "integer", "minimum": 0, "description":
                      "passages (group=none) or articles (group=article) that match, exact up to 10,000"},
            "total_relation": {"enum": ["eq", "gte"], "description": "gte: total is a lower bound"},
            "took_ms": {"type": "number"},
            "interpreted": {"oneOf": [ref("Interpreted"), {"type": "null"}]},
            "results": array(ref("Hit")), "facets": ref("Facets"),
            "answers": array(ref("AnswerCard")),
        }),
        "AnswerCard": obj({
            "kind": {"enum": ["price", "table", "policy"]},
            "subject": {"type": "string", "examples": ["海宁市 · 可开放容量", "N型致密料", "内蒙古 · 自用比例"]},
            "value": STRING, "unit": NULLABLE_STRING, "issue": ref("IssueRef"), "article": ref("CardArticle"),
            "note": {"type": "string", "description": "the table's caption, the policy's name or the price's source"},
            "history": array(obj({"value": STRING, "unit": NULLABLE_STRING, "issue": ref("IssueRef"),
                                  "article": ref("CardArticle"), "note": STRING})),
        }, description="a structured record the query names: the newest value (or the named week's), earlier ones"
                       " newest first"),
        "CardArticle": {"type": "object", "properties": {"id": STRING, "title": STRING}, "required": ["id", "title"]},
        "IssueSummary": obj(ISSUE_SUMMARY),
        "IssueList": obj({"total": INTEGER, "issues": array(ref("IssueSummary"))}),
        "IssueDetail": obj(ISSUE_SUMMARY | {
            "toc": array(obj({"number": INTEGER, "title": STRING, "section": NULLABLE_STRING,
                              "page": {"type": ["integer", "null"]}, "article_id": NULLABLE_STRING})),
            "articles": array(obj(ARTICLE_REF | {"ordinal": INTEGER})),
        }),
        "Table": obj({"id": STRING, "caption": NULLABLE_STRING, "unit": NULLABLE_STRING, "note": NULLABLE_STRING,
                      "credit": NULLABLE_STRING, "headers": array(STRING), "rows": array(array(STRING))}),
        "Chunk": obj({
            "id": STRING, "type": {"enum": list(CHUNK_TYPES)},
            "start": {"type": "integer", "description": "span in Article.text; -1 for table rows and clauses"},
            "end": INTEGER, "table": NULLABLE_STRING, "row": {"type": ["integer", "null"]},
        }, optional=("table", "row")),
        "Article": obj({
            "id": STRING, "issue": ref("IssueRef"), "article": ref("ArticleRef"), "attribution": STRING,
            "paragraphs": array(STRING), "text": {"type": "string", "description": "paragraphs joined by \\n"},
            "tables": array(ref("Table")), "chunks": array(ref("Chunk")), "previous": link, "next": link,
        }),
        "Health": obj({
            "status": {"enum": ["ok", "index_not_built"]}, "index_loaded": {"type": "boolean"}, "model": STRING,
            "backend": {"enum": ["local", "milvus"], "description": "where the chunk index ranks (KB_BACKEND)"},
            "vectors": INTEGER, "generation": INTEGER,
            "counts": obj({name: INTEGER for name in ("issues", "articles", "chunks", "tables")}),
            "latest_issue_end": {"oneOf": [DATE, {"type": "null"}]},
        }),
    }


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def path_id(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
            "description": description}


def date_parameters() -> list[dict]:
    return [
        query("date_from", DATE_PARAM, "issues ending on or after this date (YYYY-MM: its first day)"),
        query("date_to", DATE_PARAM, "issues starting on or before this date (YYYY-MM: its last day); "
                                     "a date_to before date_from is a 400"),
    ]


def response(description: str, schema_name: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


def search_parameters(settings: Settings) -> list[dict]:
    return [
        query("q", {"type": "string", "minLength": 1, "maxLength": settings.max_query_chars}, "the query", True),
        query("mode", {"enum": list(MODES), "default": "hybrid"}, "混合 / 关键词 / 语义"),
        query("k", {"type": "integer", "minimum": 1, "maximum": settings.max_k, "default": 10}, "results per page"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": settings.max_offset, "default": 0},
              "results to skip"),
        *date_parameters(),
        query("section", STRING, "section (栏目), exact"),
        query("type", {"enum": list(CHUNK_TYPES)}, "text, table_row or policy"),
        query("source", STRING, "original source (来源), exact"),
        query("issue", STRING, "one issue id"),
        query("expand", {"type": "boolean"}, "expand English terms with the glossary (default: on)"),
        query("group", {"enum": list(GROUPS), "default": "none"},
              "none: passages (the API's default, as before); article: each article once with its best passage"),
        query("sort", {"enum": list(SORTS), "default": "relevance"},
              "relevance (a recurring report's weeks newest first), newest or oldest issue first"),
        query("interpret", {"type": "boolean", "default": False},
              "read time words (8月11日当周, 三季度, 最新) into a date filter or boost; off unless asked, so results "
              "stay predictable (the search page turns it on)"),
        query("min_similarity", {"type": "number", "minimum": -1, "maximum": 1},
              "cosine a semantic hit needs, replacing the calibrated threshold (to explore beyond the match set)"),
    ]


def paths(settings: Settings) -> dict:
    bad = response("a parameter is wrong; `code` names it. Beyond the schema: a blank query (empty_query), "
                   "a date that does not exist such as 2025-02-30 or date_from after date_to (invalid_date)", "Error")
    missing = response("no such id", "Error")
    return {
        "/api/search": {"get": {
            "summary": "Hybrid, keyword or semantic search with filters, facets and highlighted snippets",
            "operationId": "search",
            "parameters": search_parameters(settings),
            "responses": {"200": response("the result contract plus facets", "SearchResponse"), "400": bad,
                          "429": response("over the per-client rate limit (when one is configured)", "Error")
                          | {"headers": {"Retry-After": {"description": "whole seconds until a search is allowed",
                                                         "schema": {"type": "integer", "minimum": 1}}}},
                          "503": response("no issues are indexed yet", "Error")},
        }},
        "/api/issues": {"get": {
            "summary": "Every issue, newest first", "operationId": "listIssues",
            "responses": {"200": response("the issues", "IssueList")},
        }},
        "/api/issues/{issue_id}": {"get": {
            "summary": "One issue with its table of contents", "operationId": "getIssue",
            "parameters": [path_id("issue_id", "e.g. 2025-06-23")],
            "responses": {"200": response("the issue", "IssueDetail"), "404": missing},
        }},
        "/api/articles/{article_id}": {"get": {
            "summary": "One whole article: text, tables, attribution, chunk spans", "operationId": "getArticle",
            "parameters": [path_id("article_id", "e.g. 2025-06-23-01")],
            "responses": {"200": response("the article", "Article"), "404": missing},
        }},
        "/healthz": {"get": {
            "summary": "Whether the index is loaded, and what it holds", "operationId": "health",
            "responses": {"200": response("index loaded", "Health"), "503": response("no index yet", "Health")},
        }},
        "/api/openapi.json": {"get": {
            "summary": "This document", "operationId": "openapi",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {
                "type": "object"}}}}},
        }},
    }


def document(settings: Settings, server_url: str | None = None, extra_paths: dict | None = None) -> dict:
    """The whole document; `extra_paths` are other blueprints' `openapi_paths(settings)`."""
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "光伏信息精选 search API",
            "version": "1.0.0",
            "description": "Search the photovoltaic weekly digests. Errors: {\"error\": {\"code\", \"message\"}}; "
                           "GET requests are allowed from any origin.",
        },
        "paths": paths(settings) | (extra_paths or {}),
        "components": {"schemas": schemas()},
    }
    too_large = response(f"the query string is longer than {settings.max_request_bytes} bytes (every route)", "Error")
    for operations in doc["paths"].values():
        for operation in operations.values():
            operation["responses"].setdefault("413", too_large)
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
