"""What every read shares: the batched `IN (?, …)` query, the hit columns and joins, and the one
mapping of a row to the result contract's `IssueRef` / `ArticleRef`.

A row with the hit columns' names (issue_id, issue_title, date_start, date_end, file;
article_id, article_title, section, source, page) becomes a reference here and nowhere else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from ..models import ArticleRef, IssueRef

BATCH = 900  # SQLite allows 999 host parameters in older builds; leave room for the others

ISSUE_COLUMNS = "i.id AS issue_id, i.title AS issue_title, i.date_start, i.date_end, i.file"
ARTICLE_COLUMNS = "a.id AS article_id, a.title AS article_title, a.section, a.source, a.page"
HIT_COLUMNS = f"""
    c.rowid AS rowid, c.id AS chunk_id, c.type AS type, c.text AS text,
    c.start AS start, c."end" AS "end", c.ocr AS ocr, {ISSUE_COLUMNS}, {ARTICLE_COLUMNS}
"""
HIT_JOINS = "JOIN articles a ON a.id = c.article_id JOIN issues i ON i.id = c.issue_id"
CHUNK_VECTORS = "FROM chunks c JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha"


def in_batches(conn: sqlite3.Connection, query: str, values: Sequence, params: Sequence = (),
               size: int = BATCH) -> Iterator[sqlite3.Row]:
    """Rows of `query` (its `{marks}` standing for the `IN (…)` list) over `values`, `size` at a
    time; `params` are bound before the batch."""
    for start in range(0, len(values), size):
        batch = list(values[start : start + size])
        yield from conn.execute(query.format(marks=",".join("?" * len(batch))), [*params, *batch])


def issue_ref(row: sqlite3.Row) -> IssueRef:
    return IssueRef(row["issue_id"], row["issue_title"], row["date_start"], row["date_end"], row["file"])


def article_ref(row: sqlite3.Row) -> ArticleRef:
    return ArticleRef(row["article_id"], row["article_title"], row["section"], row["source"], row["page"])


def issue_dict(row: sqlite3.Row) -> dict:
    """The result contract's issue reference, from a row with the hit columns' names (`asdict`'s
    fields, built directly: asdict copies recursively, ~30 us a reference, and a story reprinted
    in 70 issues lists 70 of them)."""
    ref = issue_ref(row)
    return {"id": ref.id, "title": ref.title, "date_start": ref.date_start, "date_end": ref.date_end, "file": ref.file}


def article_dict(row: sqlite3.Row) -> dict:
    """The result contract's article reference, from a row with the hit columns' names."""
    ref = article_ref(row)
    return {"id": ref.id, "title": ref.title, "section": ref.section, "source": ref.source, "page": ref.page}
