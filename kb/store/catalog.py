"""Reads for browsing the knowledge base: the issues, one issue's contents, one whole article.

Search answers "where is X"; the catalog answers "show me issue N / article M" for the web
pages and the JSON API. Every value is a plain dict (JSON-ready) using the same issue and
article references as the search result contract, so a client handles one shape.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict

from ..attribution import attribution_line
from ..models import PARAGRAPH_SEPARATOR, TocEntry
from .inventory import Inventory
from .rows import ARTICLE_COLUMNS, ISSUE_COLUMNS, article_dict, issue_dict

ISSUE_SELECT = (
    f"SELECT {ISSUE_COLUMNS}, i.publisher, i.toc_json,"
    " (SELECT count(*) FROM articles a WHERE a.issue_id = i.id) AS n_articles FROM issues i"
)
ARTICLE_SELECT = f"SELECT {ARTICLE_COLUMNS}, a.ordinal, a.paragraphs_json, {ISSUE_COLUMNS}"


class Catalog:
    """Browsing reads over one `Store`; cheap to build, so make one per request."""

    def __init__(self, store: Inventory):
        self.store = store

    def _conn(self) -> sqlite3.Connection:
        return self.store.connection()

    # ---- issues ----------------------------------------------------------------------------

    def issues(self) -> list[dict]:
        """Every issue, newest first, with its article count."""
        rows = self._conn().execute(f"{ISSUE_SELECT} ORDER BY i.date_start DESC, i.id DESC")
        return [self._issue_summary(row) for row in rows]

    def _issue_summary(self, row: sqlite3.Row) -> dict:
        return issue_dict(row) | {"publisher": row["publisher"], "article_count": row["n_articles"]}

    def issue(self, issue_id: str) -> dict | None:
        """One issue with its table of contents, each entry linked to the article it names."""
        row = self._conn().execute(f"{ISSUE_SELECT} WHERE i.id = ?", (issue_id,)).fetchone()
        if row is None:
            return None
        articles = [
            article_dict(r) | {"ordinal": r["ordinal"]}
            for r in self._conn().execute(
                f"{ARTICLE_SELECT} FROM articles a JOIN issues i ON i.id = a.issue_id"
                " WHERE a.issue_id = ? ORDER BY a.ordinal",
                (issue_id,),
            )
        ]
        toc = [TocEntry(**entry) for entry in json.loads(row["toc_json"])]
        return self._issue_summary(row) | {"toc": _link_toc(toc, articles), "articles": articles}

    # ---- articles --------------------------------------------------------------------------

    def article(self, article_id: str) -> dict | None:
        """The whole article: paragraphs, tables, attribution, and its chunks' places in it.

        Text chunks carry their [start, end) span in `text` (paragraphs joined by "\\n"); table
        rows and policy clauses carry the table and row they came from (stored with the chunk when
        it was written), so a search hit can be shown in place.
        """
        conn = self._conn()
        row = conn.execute(
            f"{ARTICLE_SELECT} FROM articles a JOIN issues i ON i.id = a.issue_id WHERE a.id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            return None
        issue, article = issue_dict(row), article_dict(row)
        paragraphs = json.loads(row["paragraphs_json"])
        tables = [
            {"id": t["id"], "caption": t["caption"], "unit": t["unit"], "note": t["note"], "credit": t["credit"],
             "headers": json.loads(t["headers_json"]), "rows": json.loads(t["rows_json"])}
            for t in conn.execute("SELECT * FROM tables WHERE article_id = ? ORDER BY ordinal", (article_id,))
        ]
        chunks = [
            {"id": c["id"], "type": c["type"], "start": c["start"], "end": c["end"]}
            | ({"table": c["table_id"], "row": c["row_index"]} if c["type"] != "text" else {})
            for c in conn.execute(
                'SELECT id, type, start, "end", table_id, row_index FROM chunks WHERE article_id = ? ORDER BY ordinal',
                (article_id,),
            )
        ]
        siblings = conn.execute(
            "SELECT id, title, ordinal FROM articles WHERE issue_id = ? AND ordinal IN (?, ?) ORDER BY ordinal",
            (row["issue_id"], row["ordinal"] - 1, row["ordinal"] + 1),
        ).fetchall()
        return {
            "id": article_id,
            "issue": issue,
            "article": article,
            "attribution": attribution_line(issue, article),
            "paragraphs": paragraphs,
            "text": PARAGRAPH_SEPARATOR.join(paragraphs),
            "tables": tables,
            "chunks": chunks,
            "previous": _sibling(siblings, row["ordinal"] - 1),
            "next": _sibling(siblings, row["ordinal"] + 1),
        }

    # ---- health ----------------------------------------------------------------------------

    def health(self) -> dict:
        """What is indexed: row counts and the generation readers compare to notice an ingest."""
        conn = self._conn()
        counts = {table: self.store.row_count(table) for table in ("issues", "articles", "chunks", "tables")}
        latest = conn.execute("SELECT max(date_end) FROM issues").fetchone()[0]
        return {"generation": self.store.generation, "counts": counts, "latest_issue_end": latest}

    def is_empty(self) -> bool:
        return self._conn().execute("SELECT 1 FROM issues LIMIT 1").fetchone() is None


def _link_toc(toc: list[TocEntry], articles: list[dict]) -> list[dict]:
    """TOC entries with the id of their article: same title, else the same position."""
    by_title = {a["title"]: a["id"] for a in articles}
    by_ordinal = {a["ordinal"]: a["id"] for a in articles}
    return [
        asdict(entry) | {"article_id": by_title.get(entry.title) or by_ordinal.get(entry.number)}
        for entry in toc
    ]


def _sibling(rows: list[sqlite3.Row], ordinal: int) -> dict | None:
    """The previous or next article of the issue, for page-to-page reading."""
    for row in rows:
        if row["ordinal"] == ordinal:
            return {"id": row["id"], "title": row["title"]}
    return None
