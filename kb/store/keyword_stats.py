"""The term statistics of every chunk, kept beside FTS5 so a generation's keyword ranker is a concatenation.

`chunk_terms` holds one row per chunk: a blob of (term id, title count, body count) cells, one
per distinct FTS5 token of the chunk's title and body (kb/store/tokens.py, from the same
segmented text FTS5 indexes), written in the issue's own transaction and deleted with the chunk
(a foreign key cascade), so it is as crash-safe as the chunk itself. `terms` gives each token an
id for good: ids are never reused and terms never deleted, so a reader that has seen ids 1..n
only needs the rows after n. kb/keyword_index.py builds the ranker from these; `kb check`
compares them with FTS5's own vocabulary and sizes, `kb check --repair` rewrites them. The
writes, which run inside transactions held elsewhere, are in kb/store/term_cells.py.
"""

from __future__ import annotations

import numpy as np

from .database import Database
from .term_cells import CELL, write_missing_keyword_stats


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
