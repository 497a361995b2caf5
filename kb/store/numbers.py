"""Reads of the numbers across issues: tables (typed rows), price series, policy clauses.

Each is a plain function over a `Store` returning JSON-ready dicts with the same issue and
article references as the search result contract. Dates follow the one overlap rule of
kb/filters.py.
"""

from __future__ import annotations

import json

from ..filters import issue_range
from ..numbers import TypedCell, product_name
from .inventory import Inventory as Store
from .rows import ARTICLE_COLUMNS, ISSUE_COLUMNS, article_dict, issue_dict

def list_tables(store: Store, caption: str | None = None, issue: str | None = None, date_from: str | None = None,
                date_to: str | None = None, limit: int = 100, offset: int = 0) -> dict:
    """Tables newest issue first; `caption` matches part of the caption or the article title."""
    clauses, params = issue_range(date_from, date_to, issue)
    if caption:
        clauses.append("(t.caption LIKE ? ESCAPE '\\' OR a.title LIKE ? ESCAPE '\\')")
        params += [_like(caption)] * 2
    where = " AND ".join(clauses) or "1"
    joins = "FROM tables t JOIN articles a ON a.id = t.article_id JOIN issues i ON i.id = t.issue_id"
    conn = store.connection()
    total = conn.execute(f"SELECT count(*) {joins} WHERE {where}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT t.id, t.caption, t.unit, t.credit, t.headers_json, json_array_length(t.rows_json) AS n_rows,"
        f" {ARTICLE_COLUMNS}, {ISSUE_COLUMNS}"
        f" {joins} WHERE {where} ORDER BY i.date_start DESC, a.ordinal, t.ordinal LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    tables = [
        {"id": r["id"], "caption": r["caption"], "unit": r["unit"], "credit": r["credit"],
         "headers": json.loads(r["headers_json"]), "rows": r["n_rows"], "issue": issue_dict(r), "article": article_dict(r)}
        for r in rows
    ]
    return {"total": total, "tables": tables}


def get_table(store: Store, table: str) -> dict | None:
    """One table with its typed rows: each cell's value (number, ISO date or text) and unit."""
    conn = store.connection()
    row = conn.execute(
        f"SELECT t.*, {ARTICLE_COLUMNS}, {ISSUE_COLUMNS}"
        " FROM tables t JOIN articles a ON a.id = t.article_id JOIN issues i ON i.id = t.issue_id WHERE t.id = ?",
        (table,),
    ).fetchone()
    if row is None:
        return None
    headers = json.loads(row["headers_json"])
    typed: dict[int, list[TypedCell]] = {}
    for cell in conn.execute(
        "SELECT row_index, text, number, unit, date FROM table_cells WHERE table_id = ? ORDER BY row_index, col_index",
        (table,),
    ):
        typed.setdefault(cell["row_index"], []).append(TypedCell(cell["text"], cell["number"], cell["unit"], cell["date"]))
    rows = [[TypedCell(text) for text in cells] for cells in json.loads(row["rows_json"])]
    rows = [typed.get(index, plain) for index, plain in enumerate(rows)]
    return {
        "id": row["id"], "caption": row["caption"], "unit": row["unit"], "note": row["note"], "credit": row["credit"],
        "headers": headers,
        "units": [_column_unit(rows, column) for column in range(len(headers))],
        "rows": [[cell.value for cell in cells] for cells in rows],
        "text_rows": [[cell.text for cell in cells] for cells in rows],
        "issue": issue_dict(row), "article": article_dict(row),
    }


def _column_unit(rows: list[list[TypedCell]], column: int) -> str | None:
    """The unit a column's numbers share, when they share one."""
    units = {row[column].unit for row in rows if column < len(row) and row[column].number is not None}
    return units.pop() if len(units) == 1 else None


def price_series(store: Store, product: str | None = None, date_from: str | None = None,
                 date_to: str | None = None) -> list[dict]:
    """Each matching product's prices across issues, oldest first.

    `product` matches exactly (spaces beside Chinese ignored) when some product is so named,
    else as a part of the name ('TOPCon' -> every TOPCon product); None lists every product.
    """
    clauses, params = issue_range(date_from, date_to, None)
    conn = store.connection()
    if product:
        product = product_name(product)
        exact = conn.execute("SELECT 1 FROM prices WHERE product = ? LIMIT 1", (product,)).fetchone()
        clauses.append("p.product = ?" if exact else "p.product LIKE ? ESCAPE '\\'")
        params.append(product if exact else _like(product))
    rows = conn.execute(
        "SELECT p.product, p.price, p.low, p.high, p.unit, p.source, p.article_id, a.title AS article_title,"
        f" {ISSUE_COLUMNS} FROM prices p JOIN articles a ON a.id = p.article_id JOIN issues i ON i.id = p.issue_id"
        f" WHERE {' AND '.join(clauses) or '1'} ORDER BY p.product, p.unit, i.date_start, p.id",
        params,
    )
    series: dict[tuple[str, str], dict] = {}
    for r in rows:
        entry = series.setdefault((r["product"], r["unit"]), {"product": r["product"], "unit": r["unit"], "points": []})
        entry["points"].append({
            "date": r["date_end"], "price": r["price"], "low": r["low"], "high": r["high"], "source": r["source"],
            "issue": issue_dict(r), "article": {"id": r["article_id"], "title": r["article_title"]},
        })
    return list(series.values())


def policies(store: Store, province: str | None = None, status: str | None = None, date_from: str | None = None,
             date_to: str | None = None, issue: str | None = None) -> list[dict]:
    """Provincial policy clauses across issues, by release date; `province` matches a part ('山东')."""
    clauses, params = issue_range(date_from, date_to, issue)
    if province:
        clauses.append("p.province LIKE ? ESCAPE '\\'")
        params.append(_like(province))
    if status:
        clauses.append("p.status = ?")
        params.append(status)
    rows = store.connection().execute(
        "SELECT p.*, a.title AS article_title, a.section, a.source, a.page,"
        f" {ISSUE_COLUMNS} FROM policies p JOIN articles a ON a.id = p.article_id JOIN issues i ON i.id = p.issue_id"
        f" WHERE {' AND '.join(clauses) or '1'} ORDER BY p.province, coalesce(p.release_date, i.date_start), p.id",
        params,
    )
    return [
        {"province": r["province"], "policy_name": r["policy_name"], "requirement": r["requirement"],
         "self_use_ratio": r["self_use_ratio"], "grid_ratio": r["grid_ratio"], "release_date": r["release_date"],
         "status": r["status"], "issue": issue_dict(r), "article": article_dict(r)}
        for r in rows
    ]


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with % and _ in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
