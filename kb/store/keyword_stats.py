"""The term statistics of every chunk, kept beside FTS5 so a generation's keyword ranker is a concatenation.

`chunk_terms` holds one row per chunk: a blob of (term id, title count, body count) cells, one
per distinct FTS5 token of the chunk's title and body (kb/store/tokens.py, from the same
segmented text FTS5 indexes), written in the issue's own transaction and deleted with the chunk
(a foreign key cascade), so it is as crash-safe as the chunk itself. `terms` gives each token an
id for good: ids are never reused and terms never deleted, so a reader that has seen ids 1..n
only needs the rows after n. kb/keyword_index.py builds the ranker from these; `kb check`
compares them with FTS5's own vocabulary and sizes, `kb check --repair` rewrites them.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ..segment import document_text
from .database import Database
from .rows import in_batches
from .tokens import fts_tokens

CELL = np.dtype([("term", "<i4"), ("title", "<u2"), ("body", "<u2")])  # one token of one chunk


def write_keyword_stats(conn: sqlite3.Connection, documents: Iterable[tuple[int, str, str]]) -> None:
    """Store the cells of each (chunk rowid, segmented title, segmented body), inside the caller's
    transaction: the documents exactly as they went into chunks_fts."""
    counted = []
    for rowid, title, body in documents:
        title_counts, body_counts = Counter(fts_tokens(title)), Counter(fts_tokens(body))
        counted.append((rowid, title_counts, body_counts))
    tokens = sorted({t for _, title, body in counted for t in (*title, *body)})
    conn.executemany("INSERT OR IGNORE INTO terms (term) VALUES (?)", [(t,) for t in tokens])
    ids = {row[1]: row[0] for row in in_batches(conn, "SELECT id, term FROM terms WHERE term IN ({marks})", tokens)}
    rows = []
    for rowid, title, body in counted:
        cells = np.array([(ids[t], title.get(t, 0), body.get(t, 0)) for t in title.keys() | body.keys()], dtype=CELL)
        if len(cells) and max(int(cells["title"].max()), int(cells["body"].max())) > np.iinfo(np.uint16).max:
            raise ValueError(f"chunk {rowid} repeats a token more than 65535 times")
        rows.append((rowid, np.sort(cells, order="term").tobytes()))
    conn.executemany("INSERT OR REPLACE INTO chunk_terms (chunk, cells) VALUES (?, ?)", rows)


def write_missing_keyword_stats(conn: sqlite3.Connection, everything: bool = False) -> int:
    """Inside the caller's transaction, the cells of the chunks without them (or of every chunk),
    from their stored text segmented as the indexer does; how many chunks."""
    where = "" if everything else " WHERE rowid NOT IN (SELECT chunk FROM chunk_terms)"
    rowids = [r[0] for r in conn.execute(f"SELECT rowid FROM chunks{where} ORDER BY rowid")]
    query = "SELECT c.rowid, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.rowid IN ({marks})"
    for start in range(0, len(rowids), 1000):
        batch = in_batches(conn, query, rowids[start : start + 1000])
        write_keyword_stats(conn, [(r[0], document_text(r[1]), document_text(r[2])) for r in batch])
    return len(rowids)


class KeywordStats(Database):
    def keyword_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(chunk rowids ascending, cells per chunk, every chunk's cells concatenated in that order)."""
        rows = self.connection().execute("SELECT chunk, cells FROM chunk_terms ORDER BY chunk").fetchall()
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        counts = np.fromiter((len(r[1]) // CELL.itemsize for r in rows), dtype=np.int64, count=len(rows))
        return rowids, counts, np.frombuffer(b"".join(r[1] for r in rows), dtype=CELL)

    def terms_after(self, last_id: int) -> list[tuple[int, str]]:
        """(id, term) of the terms with an id above `last_id`, by id."""
        return self.connection().execute("SELECT id, term FROM terms WHERE id > ? ORDER BY id", (last_id,)).fetchall()

    def chunks_without_stats(self) -> list[int]:
        return [r[0] for r in self.connection().execute(
            "SELECT rowid FROM chunks WHERE rowid NOT IN (SELECT chunk FROM chunk_terms) ORDER BY rowid")]

    def fts_term_documents(self) -> dict[str, tuple[int, int]]:
        """term -> (chunks holding it, occurrences) by FTS5's own vocabulary."""
        return {r[0]: (r[1], r[2]) for r in self.connection().execute("SELECT term, doc, cnt FROM chunks_fts_vocab")}

    def fts_token_total(self) -> int:
        """The tokens of every FTS5 row (what bm25's average row length is made of), from FTS5's sizes."""
        total = 0
        for (blob,) in self.connection().execute("SELECT sz FROM chunks_fts_docsize"):
            total += sum(_varints(blob))
        return total

    def repair_keyword_stats(self, everything: bool = False) -> int:
        """Write the cells of the chunks without them (or of every chunk), with a new generation
        when any changed; how many chunks."""
        conn = self.connection()
        with conn:
            written = write_missing_keyword_stats(conn, everything)
            if written:
                self.bump_generation(conn)
        return written


def _varints(blob: bytes) -> list[int]:
    """FTS5's docsize blob: one SQLite varint (7 bits a byte, high bit: more follows) per column."""
    values, value = [], 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(value)
            value = 0
    return values
