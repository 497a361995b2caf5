"""Every write: a whole issue in one transaction (issue, articles, tables, policies, chunks with
their FTS rows and term statistics, embeddings, typed cells, prices, MinHash signatures), deletions, and the repairs
`kb check --repair` makes to what is derived from the chunks.

Each write bumps the store generation inside its transaction, so readers see all of it or none.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict

import numpy as np

from ..crash import crash_point
from ..minhash import signature
from ..models import Chunk, Issue
from ..numbers import StructuredIssue, table_id
from ..segment import document_text
from .database import Database
from .term_cells import FTS_INSERT, write_keyword_stats


class Writes(Database):
    def replace_issue(self, issue: Issue, path: str, sha256: str, chunks: list[Chunk], shas: list[str],
                      model: str, new_vectors: dict[str, np.ndarray], structured: StructuredIssue | None = None) -> None:
        """Write one issue (replacing any earlier version of it or of its file) atomically."""
        conn = self.connection()
        with conn:
            conn.execute("DELETE FROM issues WHERE id = ? OR path = ?", (issue.id, path))
            conn.execute(
                "INSERT INTO issues (id, title, publisher, date_start, date_end, file, path, sha256, toc_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (issue.id, issue.title, issue.publisher, issue.date_start, issue.date_end, issue.file,
                 path, sha256, json.dumps([asdict(e) for e in issue.toc], ensure_ascii=False)),
            )
            titles = {}
            for article in issue.articles:
                titles[article.id] = document_text(article.title)
                _write_article(conn, issue, article)
            documents = []
            for chunk, sha in zip(chunks, shas):
                cursor = conn.execute(
                    'INSERT INTO chunks (id, issue_id, article_id, type, text, start, "end", ordinal, embed_sha,'
                    " table_id, row_index, ocr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (chunk.id, chunk.issue_id, chunk.article_id, chunk.type, chunk.text, chunk.start,
                     chunk.end, chunk.ordinal, sha, chunk.table_id, chunk.row_index, int(chunk.ocr)),
                )
                documents.append((cursor.lastrowid, titles[chunk.article_id], document_text(chunk.text)))
            conn.executemany(FTS_INSERT, documents)
            write_keyword_stats(conn, documents)
            write_embeddings(conn, model, new_vectors)
            _write_structured(conn, issue, structured)
            conn.executemany("INSERT INTO article_signatures (article_id, minhash) VALUES (?, ?)",
                             [(article.id, sig.tobytes()) for article in issue.articles
                              if (sig := signature(article.text)) is not None])
            self.bump_generation(conn)
            crash_point("in_transaction")

    def delete_issues(self, issue_ids: Iterable[str]) -> int:
        conn, count = self.connection(), 0
        with conn:
            for issue_id in issue_ids:
                count += conn.execute("DELETE FROM issues WHERE id = ?", (issue_id,)).rowcount
            if count:
                self.bump_generation(conn)
        return count

    def set_embeddings(self, model: str, vectors: dict[str, np.ndarray], shas_of: dict[int, str]) -> None:
        """Store vectors and point chunks (rowid -> text sha) at them, with a new generation."""
        conn = self.connection()
        with conn:
            write_embeddings(conn, model, vectors)
            conn.executemany("UPDATE chunks SET embed_sha = ? WHERE rowid = ?", [(s, r) for r, s in shas_of.items()])
            self.bump_generation(conn)

    def repair_fts(self) -> tuple[int, int]:
        """Add the missing FTS rows and drop the orphans, with a new generation when any changed:
        (added, removed)."""
        conn = self.connection()
        with conn:
            missing = conn.execute(
                "SELECT c.rowid, c.text, a.title FROM chunks c JOIN articles a ON a.id = c.article_id"
                " WHERE c.rowid NOT IN (SELECT rowid FROM chunks_fts)"
            ).fetchall()
            conn.executemany(FTS_INSERT, [(r[0], document_text(r[2]), document_text(r[1])) for r in missing])
            orphans = conn.execute("DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT rowid FROM chunks)").rowcount
        if missing or orphans:
            with conn:
                self.bump_generation(conn)
        return len(missing), orphans


def write_embeddings(conn: sqlite3.Connection, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Store vectors by (model, text sha), inside the caller's transaction."""
    conn.executemany(
        "INSERT OR REPLACE INTO embeddings (model, sha, vector) VALUES (?, ?, ?)",
        [(model, sha, np.asarray(v, dtype=np.float32).tobytes()) for sha, v in vectors.items()],
    )


def _write_article(conn: sqlite3.Connection, issue: Issue, article) -> None:
    conn.execute(
        "INSERT INTO articles (id, issue_id, ordinal, title, section, page, source, paragraphs_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (article.id, issue.id, article.ordinal, article.title, article.section, article.page,
         article.source, json.dumps(article.paragraphs, ensure_ascii=False)),
    )
    for ordinal, table in enumerate(article.tables, start=1):
        conn.execute(
            "INSERT INTO tables (id, article_id, issue_id, ordinal, caption, unit, note, credit,"
            " headers_json, rows_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (table_id(article.id, ordinal), article.id, issue.id, ordinal, table.caption, table.unit,
             table.note, table.credit, json.dumps(table.headers, ensure_ascii=False),
             json.dumps(table.rows, ensure_ascii=False)),
        )
    conn.executemany(
        "INSERT INTO policies (article_id, issue_id, province, policy_name, requirement,"
        " self_use_ratio, grid_ratio, release_date, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(article.id, issue.id, p.province, p.policy_name, p.requirement, p.self_use_ratio,
          p.grid_ratio, p.release_date, p.status) for p in article.policies],
    )


def _write_structured(conn: sqlite3.Connection, issue: Issue, structured: StructuredIssue | None) -> None:
    """Typed table cells and price records (see kb/numbers.py)."""
    if structured is None:
        return
    for article in issue.articles:
        for ordinal, rows in enumerate(structured.tables.get(article.id, []), start=1):
            headers = article.tables[ordinal - 1].headers
            conn.executemany(
                "INSERT INTO table_cells (table_id, row_index, col_index, header, text, number, unit, date)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(table_id(article.id, ordinal), r, c, headers[c] if c < len(headers) else "", cell.text,
                  cell.number, cell.unit, cell.date)
                 for r, row in enumerate(rows) for c, cell in enumerate(row)],
            )
        conn.executemany(
            "INSERT INTO prices (article_id, issue_id, product, price, low, high, unit, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(article.id, issue.id, p.product, p.price, p.low, p.high, p.unit, article.source)
             for p in structured.prices.get(article.id, [])],
        )
