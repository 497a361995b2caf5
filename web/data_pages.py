"""The numbers across issues as pages: /tables, /tables/<id>, /prices (an SVG chart per product),
and the related-articles list an article page shows.

The same `KnowledgeBase` reads as the JSON in `web.data_api`, with the same parameters
(`web.params`); pages extend the site layout.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from .charts import Point, line_chart
from .context import current_kb
from kb.numbers import numeric_columns

from .data_api import requested_table, table_listing
from .params import date_range, short_text

bp = Blueprint("data_pages", __name__)


@bp.app_template_global("related_articles")
def related_for_page(article_id: str, k: int = 5) -> list[dict]:
    """For an article page: `{% for r in related_articles(article.id) %}` (see data/_related.html)."""
    return current_kb().related_articles(article_id, k=k) or []


@bp.get("/tables")
def tables_page():
    return render_template("data/tables.html", found=table_listing(), args=request.args)


@bp.get("/tables/<table_id>")
def table_page(table_id: str):
    table = requested_table(table_id)
    if table is None:
        abort(404)
    numeric = numeric_columns(table["rows"], len(table["headers"]))
    return render_template("data/table.html", table=table, numeric=numeric, sort=request.args.get("sort", ""),
                           order=request.args.get("order", "") or "asc")


@bp.get("/prices")
def prices_page():
    date_from, date_to = date_range(request.args)
    product = short_text(request.args, "product")
    kb = current_kb()
    series = kb.price_series(product, date_from, date_to)
    charts = [
        (entry, line_chart([Point(p["date"], p["price"], f"{p['date']}: {p['price']:g} {entry['unit']}")
                            for p in entry["points"]], unit=entry["unit"]))
        for entry in series
    ]
    products = [entry["product"] for entry in kb.price_series()] if product else [e["product"] for e in series]
    return render_template("data/prices.html", charts=charts, products=products, args=request.args)
