"""Writing what the keyword side derives from a chunk's text — its FTS5 row and the per-chunk term
statistics of the keyword ranker — inside a transaction someone else holds.

One row of `chunk_terms` per chunk: a blob of `CELL`s, one per distinct FTS5 token of the chunk's
title and body (kb/store/tokens.py), from the same segmented text FTS5 indexes. The issue write
(writes.py), the repair and the schema upgrade (database.py) call these; kb/store/keyword_stats.py
holds the reads and the repair's transaction. `resegment` writes both again for every chunk, when the
segmenter (kb/segment.py: its rules, the PV dictionary) is not the one the index was written with.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

from ..segment import document_text
from .rows import in_batches
from .tokens import fts_tokens

FTS_INSERT = "INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)"
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
    for documents in _segmented(conn, rowids):
        write_keyword_stats(conn, documents)
    return len(rowids)


def resegment(conn: sqlite3.Connection) -> int:
    """Inside the caller's transaction, every chunk's FTS5 row and term statistics again, from its
    stored text segmented by today's segmenter; how many chunks (~4 ms each)."""
    for table in ("chunks_fts", "chunk_terms", "terms"):
        conn.execute(f"DELETE FROM {table}")
    rowids = [r[0] for r in conn.execute("SELECT rowid FROM chunks ORDER BY rowid")]
    for documents in _segmented(conn, rowids):
        conn.executemany(FTS_INSERT, documents)
        write_keyword_stats(conn, documents)
    return len(rowids)


def _segmented(conn: sqlite3.Connection, rowids: list[int], size: int = 1000) -> Iterator[list[tuple[int, str, str]]]:
    """(rowid, segmented title, segmented body) of the chunks, `size` at a time."""
    query = "SELECT c.rowid, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.rowid IN ({marks})"
    titles: dict[str, str] = {}  # an article's title is cut once for all its chunks
    for start in range(0, len(rowids), size):
        batch = []
        for rowid, title, text in in_batches(conn, query, rowids[start : start + size]):
            if title not in titles:
                titles[title] = document_text(title)
            batch.append((rowid, titles[title], document_text(text)))
        yield batch
