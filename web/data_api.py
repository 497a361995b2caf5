"""The numbers across issues as JSON: tables, price series, policy clauses, related articles.

GET /api/tables, /api/tables/<id> (?format=csv), /api/prices, /api/policies,
/api/articles/<id>/related. Every read is a `KnowledgeBase` call; bad parameters are a JSON 400
(the blueprint's own handler, so it answers so even mounted alone). Their OpenAPI paths are in
`web.openapi_data`; the pages over the same reads are in `web.data_pages`.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, current_app, jsonify, request

from kb.config import Settings
from kb.errors import QueryError
from kb.numbers import sorted_table

from .context import current_kb
from .errors import json_error
from .openapi_data import data_paths
from .params import bounded_number, date_range, short_text, table_sort

bp = Blueprint("data", __name__)

MAX_LIMIT = 500
MAX_RELATED = 50


def openapi_paths(settings: Settings) -> dict:
    """These routes in /api/openapi.json (web/openapi_data.py)."""
    return data_paths(settings, MAX_LIMIT, MAX_RELATED)


@bp.errorhandler(QueryError)
def _bad_request(error: QueryError):
    return json_error(400, error.code, error.message)


def _not_found(what: str):
    return json_error(404, "not_found", f"no {what}")


def table_listing() -> dict:
    """The tables the query string asks for (shared with the tables page)."""
    date_from, date_to = date_range(request.args)
    return current_kb().list_tables(
        caption=short_text(request.args, "caption"), issue=short_text(request.args, "issue"), date_from=date_from,
        date_to=date_to, limit=bounded_number(request.args, "limit", 100, 1, MAX_LIMIT),
        offset=bounded_number(request.args, "offset", 0, 0, 1_000_000),
    )


@bp.get("/api/tables")
def api_tables():
    return jsonify(table_listing())


@bp.get("/api/tables/<table_id>")
def api_table(table_id: str):
    output = request.args.get("format", "json")
    if output not in ("json", "csv"):
        raise QueryError("invalid_format", "format must be json or csv")
    table = requested_table(table_id)
    if table is None:
        return _not_found(f"table {table_id}")
    if output == "json":
        return jsonify(table)
    return current_app.response_class(
        table_csv(table), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table_id}.csv"'},
    )


def requested_table(table_id: str) -> dict | None:
    """The table in the order `?sort=<header>&order=` asks for (shared with the table page, so the
    page's CSV link downloads the rows the page shows); None when there is no such table."""
    table = current_kb().get_table(table_id)
    if table is None:
        return None
    column, descending = table_sort(request.args, table["headers"])
    return table if column is None else sorted_table(table, column, descending)


def table_csv(table: dict) -> str:
    """Typed rows as CSV (UTF-8 with BOM, which spreadsheets need for Chinese); units in the header."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([f"{h} ({u})" if u else h for h, u in zip(table["headers"], table["units"])])
    writer.writerows([["" if value is None else value for value in row] for row in table["rows"]])
    return out.getvalue()


@bp.get("/api/prices")
def api_prices():
    date_from, date_to = date_range(request.args)
    product = short_text(request.args, "product")
    return jsonify({"product": product, "series": current_kb().price_series(product, date_from, date_to)})


@bp.get("/api/policies")
def api_policies():
    date_from, date_to = date_range(request.args)
    clauses = current_kb().policies(province=short_text(request.args, "province"),
                                    status=short_text(request.args, "status"), date_from=date_from,
                                    date_to=date_to, issue=short_text(request.args, "issue"))
    return jsonify({"total": len(clauses), "policies": clauses})


@bp.get("/api/articles/<article_id>/related")
def api_related(article_id: str):
    related = current_kb().related_articles(article_id, k=bounded_number(request.args, "k", 5, 1, MAX_RELATED))
    if related is None:
        return _not_found(f"article {article_id}")
    return jsonify({"article": article_id, "related": related})
