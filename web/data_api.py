"""The numbers across issues, as JSON and as pages: tables, price series, policy clauses, related articles.

JSON: GET /api/tables, /api/tables/<id> (?format=csv), /api/prices, /api/policies,
/api/articles/<id>/related. Pages: /tables, /tables/<id>, /prices (an SVG chart per product).
Every read is a `kb.structured` / `kb.related` function; bad parameters are a JSON 400.
The app that registers `bp` keeps its `KnowledgeBase` in `app.extensions["kb"]`.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from kb.knowledge_base import KnowledgeBase
from kb.related import related_articles
from kb.search import QueryError, parse_date
from kb.structured import get_table, list_tables, policies, price_series

from .charts import Point, line_chart

bp = Blueprint("data", __name__)

MAX_LIMIT = 500
MAX_RELATED = 50


def _kb() -> KnowledgeBase:
    return current_app.extensions["kb"]


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"invalid_{name}", f"{name} must be a whole number, not {raw[:20]!r}") from None
    if not low <= value <= high:
        raise QueryError(f"invalid_{name}", f"{name} must be between {low} and {high}")
    return value


def _text(name: str) -> str | None:
    value = request.args.get(name, "").strip()
    return value[:200] or None


def _dates() -> tuple[str | None, str | None]:
    date_from = parse_date(request.args.get("date_from"), "date_from")
    date_to = parse_date(request.args.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError("invalid_date", "date_from is after date_to")
    return date_from, date_to


@bp.errorhandler(QueryError)
def _bad_request(error: QueryError):
    return jsonify({"error": {"code": error.code, "message": error.message}}), 400


def _not_found(what: str):
    return jsonify({"error": {"code": "not_found", "message": f"no {what}"}}), 404


# ---- JSON ---------------------------------------------------------------------------------


@bp.get("/api/tables")
def api_tables():
    date_from, date_to = _dates()
    return jsonify(list_tables(
        _kb().store, caption=_text("caption"), issue=_text("issue"), date_from=date_from, date_to=date_to,
        limit=_int("limit", 100, 1, MAX_LIMIT), offset=_int("offset", 0, 0, 1_000_000),
    ))


@bp.get("/api/tables/<table_id>")
def api_table(table_id: str):
    output = request.args.get("format", "json")
    if output not in ("json", "csv"):
        raise QueryError("invalid_format", "format must be json or csv")
    table = get_table(_kb().store, table_id)
    if table is None:
        return _not_found(f"table {table_id}")
    if output == "json":
        return jsonify(table)
    return current_app.response_class(
        table_csv(table), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table_id}.csv"'},
    )


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
    date_from, date_to = _dates()
    product = _text("product")
    return jsonify({"product": product, "series": price_series(_kb().store, product, date_from, date_to)})


@bp.get("/api/policies")
def api_policies():
    date_from, date_to = _dates()
    clauses = policies(_kb().store, province=_text("province"), status=_text("status"), date_from=date_from,
                       date_to=date_to, issue=_text("issue"))
    return jsonify({"total": len(clauses), "policies": clauses})


@bp.get("/api/articles/<article_id>/related")
def api_related(article_id: str):
    kb = _kb()
    related = related_articles(kb.store, kb.model_name, article_id, k=_int("k", 5, 1, MAX_RELATED))
    if related is None:
        return _not_found(f"article {article_id}")
    return jsonify({"article": article_id, "related": related})


# ---- pages --------------------------------------------------------------------------------


@bp.app_template_global("related_articles")
def related_for_page(article_id: str, k: int = 5) -> list[dict]:
    """For an article page: `{% for r in related_articles(article.id) %}` (see data/_related.html)."""
    kb = _kb()
    return related_articles(kb.store, kb.model_name, article_id, k=k) or []


@bp.get("/tables")
def tables_page():
    date_from, date_to = _dates()
    found = list_tables(_kb().store, caption=_text("caption"), issue=_text("issue"), date_from=date_from,
                        date_to=date_to, limit=_int("limit", 100, 1, MAX_LIMIT), offset=_int("offset", 0, 0, 1_000_000))
    return render_template("data/tables.html", found=found, args=request.args)


@bp.get("/tables/<table_id>")
def table_page(table_id: str):
    table = get_table(_kb().store, table_id)
    if table is None:
        abort(404)
    numeric = [any(isinstance(row[i], (int, float)) for row in table["rows"]) for i in range(len(table["headers"]))]
    return render_template("data/table.html", table=table, numeric=numeric)


@bp.get("/prices")
def prices_page():
    date_from, date_to = _dates()
    product = _text("product")
    series = price_series(_kb().store, product, date_from, date_to)
    charts = [
        (entry, line_chart([Point(p["date"], p["price"], f"{p['date']}: {p['price']:g} {entry['unit']}")
                            for p in entry["points"]], unit=entry["unit"]))
        for entry in series
    ]
    products = [entry["product"] for entry in price_series(_kb().store)] if product else [e["product"] for e in series]
    return render_template("data/prices.html", charts=charts, products=products, args=request.args)
