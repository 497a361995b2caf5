"""The SQLite connection of an index: one per thread, WAL, read snapshots, meta, generation, schema upgrades.

SQLite is the source of truth. Every write of an issue is one transaction and bumps
`generation`, which readers use to notice a new snapshot. The schema is `schema.sql`; an index
written by an earlier version is upgraded in place when it is opened (`_upgrade`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..segment import FINGERPRINT
from .term_cells import resegment, write_missing_keyword_stats

log = logging.getLogger(__name__)
SCHEMA = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
SCHEMA_VERSION = 4  # 2: chunks know the table row they were made from (table_id, row_index); 3: chunks.ocr;
# 4: the per-chunk term statistics of the keyword ranker (terms, chunk_terms)


class Database:
    """One SQLite database; a connection per thread so the web server's threads can share it."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        with self.connection() as conn:
            conn.executescript(SCHEMA)
            # who this database is, for indexes kept outside it (a Milvus collection names the store
            # it was synced from, so a rebuilt database never reads another one's rows); a copy shares it
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))))")
        self._upgrade()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _upgrade(self) -> None:
        """Bring an index of an earlier schema version up to SCHEMA_VERSION, and text segmented by
        another segmenter up to today's, in one transaction.

        Version 1 chunks do not know their table row: the columns are added, and the issues
        holding table-row or policy chunks lose their file hash, so the next `kb ingest` re-reads
        those files (their vectors come from the stored embeddings) instead of skipping them;
        `kb check` names the chunks still without their place until then. Version 2 chunks gain
        `ocr` = 0: every index before it was made from text layers. Version 3 chunks get their
        term statistics (kb/store/keyword_stats.py) from their stored text, segmented again: about
        3 ms a chunk, once. An index whose `segmenter` (meta) is not `kb.segment.FINGERPRINT` —
        written before the segmenter changed its rules or the PV dictionary changed — has its FTS5
        rows and term statistics rewritten from the stored chunk text (~4 ms a chunk, once, with
        a message): its terms would otherwise never meet the queries' (`46gw` against `gw`)."""
        conn = self.connection()
        if self._current(conn):
            return
        with conn:
            conn.execute("BEGIN IMMEDIATE")  # another process opening it now waits, then finds it done
            if self._current(conn):
                return
            columns = {row[1] for row in conn.execute("PRAGMA table_info(chunks)")}
            version = int(self.get_meta("schema_version", "1"))
            segmented = self.get_meta("segmenter")
            if "table_id" not in columns:
                conn.execute("ALTER TABLE chunks ADD COLUMN table_id TEXT")
                conn.execute("ALTER TABLE chunks ADD COLUMN row_index INTEGER")
                conn.execute("UPDATE issues SET sha256 = '' WHERE id IN"
                             " (SELECT issue_id FROM chunks WHERE type != 'text')")
            if "ocr" not in columns:
                conn.execute("ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")
            if segmented != FINGERPRINT and conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
                log.warning("%s: re-segmenting its chunks for today's segmenter (once; ~4 ms a chunk)", self.path)
                resegment(conn)  # the same chunks, so the same generation: the vector index stays current
            elif version < 4:
                write_missing_keyword_stats(conn)
            self._set_meta(conn, "schema_version", str(SCHEMA_VERSION))
            self._set_meta(conn, "segmenter", FINGERPRINT)

    def _current(self, conn: sqlite3.Connection) -> bool:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(chunks)")}
        return (int(self.get_meta("schema_version", "1")) >= SCHEMA_VERSION and {"table_id", "ocr"} <= columns
                and self.get_meta("segmenter") == FINGERPRINT)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every read on this thread inside it sees one committed state (WAL
        lets writers commit meanwhile). Nested, or inside a write, it adds nothing."""
        conn = self.connection()
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.commit()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def store_id(self) -> str:
        return self.get_meta("store_id", "")

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0"))

    def bump_generation(self, conn: sqlite3.Connection) -> None:
        self._set_meta(conn, "generation", str(self.generation + 1))
