"""The SQLite database: schema, writes of whole issues, and the reads search and the web need.

SQLite is the source of truth. It holds issues, articles, tables, policy clauses, chunks, an
FTS5 table over jieba-segmented chunk text, and the embeddings (keyed by model and text hash,
so they double as the embedding cache). The FAISS index is derived from it and can always be
rebuilt. Every write of an issue is one transaction and bumps `generation`, which readers use
to notice a new snapshot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .crash import crash_point
from .models import Chunk, Issue
from .related import write_signatures
from .segment import document_text
from .structured import StructuredIssue, table_id, write_structured

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, publisher TEXT,
    date_start TEXT NOT NULL, date_end TEXT NOT NULL,
    file TEXT NOT NULL, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL,
    toc_json TEXT NOT NULL, ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, title TEXT NOT NULL, section TEXT, page INTEGER, source TEXT,
    paragraphs_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, ordinal INTEGER NOT NULL, caption TEXT, unit TEXT, note TEXT,
    credit TEXT, headers_json TEXT NOT NULL, rows_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, province TEXT NOT NULL, policy_name TEXT, requirement TEXT,
    self_use_ratio TEXT, grid_ratio TEXT, release_date TEXT, status TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    type TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    ordinal INTEGER NOT NULL, embed_sha TEXT NOT NULL, ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS chunks_issue ON chunks(issue_id);
CREATE INDEX IF NOT EXISTS articles_issue ON articles(issue_id);
CREATE INDEX IF NOT EXISTS issues_dates ON issues(date_start, date_end);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.rowid;
END;
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, sha TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, sha)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS table_cells (
    table_id TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE, row_index INTEGER NOT NULL,
    col_index INTEGER NOT NULL, header TEXT NOT NULL, text TEXT NOT NULL, number NUMERIC, unit TEXT,
    date TEXT, PRIMARY KEY (table_id, row_index, col_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prices (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, product TEXT NOT NULL, price REAL NOT NULL, low REAL, high REAL,
    unit TEXT NOT NULL, source TEXT
);
CREATE INDEX IF NOT EXISTS prices_product ON prices(product, unit);
CREATE TABLE IF NOT EXISTS article_signatures (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE, minhash BLOB NOT NULL
) WITHOUT ROWID;
"""

# bm25() column weights: (article title, chunk body)
BM25_WEIGHTS = (0.5, 1.0)

HIT_COLUMNS = """
    c.rowid AS rowid, c.id AS chunk_id, c.type AS type, c.text AS text,
    c.start AS start, c."end" AS "end", c.ocr AS ocr,
    i.id AS issue_id, i.title AS issue_title, i.date_start, i.date_end, i.file,
    a.id AS article_id, a.title AS article_title, a.section, a.source, a.page
"""
HIT_JOINS = "JOIN articles a ON a.id = c.article_id JOIN issues i ON i.id = c.issue_id"


@dataclass(frozen=True)
class Filters:
    """Search filters; an issue matches a date range when the two ranges overlap."""

    date_from: str | None = None
    date_to: str | None = None
    section: str | None = None
    type: str | None = None
    source: str | None = None
    issue: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def where(self) -> tuple[str, list]:
        """SQL conditions over aliases c (chunks), a (articles), i (issues), and their params."""
        clauses, params = [], []
        for condition, value in (
            ("i.date_end >= ?", self.date_from),
            ("i.date_start <= ?", self.date_to),
            ("a.section = ?", self.section),
            ("c.type = ?", self.type),
            ("a.source = ?", self.source),
            ("i.id = ?", self.issue),
        ):
            if value is not None:
                clauses.append(condition)
                params.append(value)
        return (" AND ".join(clauses) or "1"), params


class Store:
    """One SQLite database; a connection per thread so the web server's threads can share it."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        self._frequencies: tuple[int, int, dict[str, int]] = (-1, 0, {})  # generation, chunks, term -> df
        self._frequencies_lock = threading.Lock()
        with self.connection() as conn:
            conn.executescript(SCHEMA)
            if "ocr" not in {row["name"] for row in conn.execute("PRAGMA table_info(chunks)")}:
                conn.execute("ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")  # an index made before OCR

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

    # ---- meta ------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0"))

    def bump_generation(self, conn: sqlite3.Connection) -> None:
        self._set_meta(conn, "generation", str(self.generation + 1))

    # ---- writes ----------------------------------------------------------------------------

    def indexed_files(self) -> dict[str, tuple[str, str]]:
        """path -> (issue id, sha256) of every indexed issue."""
        rows = self.connection().execute("SELECT path, id, sha256 FROM issues")
        return {r["path"]: (r["id"], r["sha256"]) for r in rows}

    def issue_path(self, issue_id: str) -> str | None:
        row = self.connection().execute("SELECT path FROM issues WHERE id = ?", (issue_id,)).fetchone()
        return row["path"] if row else None

    def cached_vectors(self, model: str, shas: Iterable[str]) -> dict[str, np.ndarray]:
        conn, found = self.connection(), {}
        wanted = list(dict.fromkeys(shas))
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            query = f"SELECT sha, vector FROM embeddings WHERE model = ? AND sha IN ({marks})"
            for row in conn.execute(query, [model, *batch]):
                found[row["sha"]] = np.frombuffer(row["vector"], dtype=np.float32)
        return found

    def replace_issue(
        self, issue: Issue, path: str, sha256: str, chunks: list[Chunk], shas: list[str],
        model: str, new_vectors: dict[str, np.ndarray], structured: StructuredIssue | None = None,
    ) -> None:
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
                titles[article.id] = article.title
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
            for chunk, sha in zip(chunks, shas):
                cursor = conn.execute(
                    'INSERT INTO chunks (id, issue_id, article_id, type, text, start, "end", ordinal, embed_sha, ocr)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (chunk.id, chunk.issue_id, chunk.article_id, chunk.type, chunk.text, chunk.start,
                     chunk.end, chunk.ordinal, sha, int(chunk.ocr)),
                )
                conn.execute(
                    "INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)",
                    (cursor.lastrowid, document_text(titles[chunk.article_id]), document_text(chunk.text)),
                )
            self.write_embeddings(conn, model, new_vectors)
            write_structured(conn, issue, structured)
            write_signatures(conn, issue)
            self.bump_generation(conn)
            crash_point("in_transaction")

    @staticmethod
    def write_embeddings(conn: sqlite3.Connection, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Store vectors by (model, text sha), inside the caller's transaction."""
        conn.executemany(
            "INSERT OR REPLACE INTO embeddings (model, sha, vector) VALUES (?, ?, ?)",
            [(model, sha, np.asarray(v, dtype=np.float32).tobytes()) for sha, v in vectors.items()],
        )

    def delete_issues(self, issue_ids: Iterable[str]) -> int:
        conn, count = self.connection(), 0
        with conn:
            for issue_id in issue_ids:
                count += conn.execute("DELETE FROM issues WHERE id = ?", (issue_id,)).rowcount
            if count:
                self.bump_generation(conn)
        return count

    # ---- reads for search ------------------------------------------------------------------

    def chunk_vectors(self, model: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rowids, vectors) in batches, for building the vector index."""
        cursor = self.connection().execute(
            "SELECT c.rowid, e.vector FROM chunks c JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha"
            " ORDER BY c.rowid",
            (model,),
        )
        while rows := cursor.fetchmany(4096):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vectors

    def chunk_vectors_of(self, model: str, rowids: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, vectors) of the given chunks that have a stored embedding."""
        found_ids, found = [], []
        for start in range(0, len(rowids), 500):
            batch = [int(r) for r in rowids[start : start + 500]]
            marks = ",".join("?" * len(batch))
            for row in self.connection().execute(
                "SELECT c.rowid, e.vector FROM chunks c JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha"
                f" WHERE c.rowid IN ({marks})", [model, *batch],
            ):
                found_ids.append(row[0])
                found.append(np.frombuffer(row[1], dtype=np.float32))
        matrix = np.vstack(found) if found else np.zeros((0, dim), dtype=np.float32)
        return np.array(found_ids, dtype=np.int64), matrix

    def keyword_search(self, match: str, filters: Filters, limit: int) -> tuple[list[tuple[int, float]], int]:
        """(rowid, bm25) best first, and the size of the whole match set; bm25 is negative, lower is better.

        Unfiltered, FTS5 ranks on its own and a count(*) (no scoring) sizes the match set: joining
        every match to its article and issue only to drop none of them cost twice as much. Filtered,
        the join is needed, and the size comes from a window count over the same pass."""
        score = f"bm25(chunks_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]})"
        conn = self.connection()
        if not filters:
            rows = conn.execute(f"SELECT rowid, {score} AS rank FROM chunks_fts WHERE chunks_fts MATCH ?"
                                " ORDER BY rank LIMIT ?", (match, limit)).fetchall()
            total = len(rows) if len(rows) < limit else conn.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchone()[0]
            return [(r[0], r[1]) for r in rows], total
        where, params = filters.where()
        query = (  # bm25() may not sit beside a window function, hence the materialised match set
            f"WITH matched AS MATERIALIZED (SELECT rowid, {score} AS rank FROM chunks_fts WHERE chunks_fts MATCH ?)"
            f" SELECT c.rowid, m.rank, count(*) OVER () AS total FROM matched m JOIN chunks c ON c.rowid = m.rowid"
            f" {HIT_JOINS} WHERE {where} ORDER BY m.rank LIMIT ?"
        )
        rows = conn.execute(query, [match, *params, limit]).fetchall()
        return [(r[0], r[1]) for r in rows], (rows[0][2] if rows else 0)

    def document_frequencies(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunk count, chunks holding each term), cached for the store generation: FTS5 counts a
        term's documents by walking its whole doclist (~2 ms for a common term at 100k chunks)."""
        generation = self.generation
        with self._frequencies_lock:
            if self._frequencies[0] != generation:
                chunks = self.connection().execute("SELECT count(*) FROM chunks").fetchone()[0]
                self._frequencies = (generation, chunks, {})
            _, chunks, cache = self._frequencies
        for term in terms:
            if term not in cache:
                row = self.connection().execute("SELECT doc FROM chunks_fts_vocab WHERE term = ?", (term,)).fetchone()
                cache[term] = row[0] if row else 0
        return chunks, {term: cache[term] for term in terms}

    def hit_rows(self, rowids: list[int]) -> dict[int, sqlite3.Row]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self.connection().execute(
            f"SELECT {HIT_COLUMNS} FROM chunks c {HIT_JOINS} WHERE c.rowid IN ({marks})", rowids
        )
        return {r["rowid"]: r for r in rows}

    def facet_counts(self, rowids: list[int], column: str) -> dict[str, int]:
        """Counts of a hit column (section, type, source, issue_id) over a match set."""
        allowed = {"section": "a.section", "type": "c.type", "source": "a.source", "issue_id": "i.id"}
        expression = allowed[column]
        counts: dict[str, int] = {}
        for start in range(0, len(rowids), 900):
            batch = rowids[start : start + 900]
            marks = ",".join("?" * len(batch))
            query = (
                f"SELECT {expression} AS value, count(*) AS n FROM chunks c {HIT_JOINS}"
                f" WHERE c.rowid IN ({marks}) GROUP BY value"
            )
            for row in self.connection().execute(query, batch):
                if row["value"] is not None:
                    counts[row["value"]] = counts.get(row["value"], 0) + row["n"]
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    # ---- reads for listings ----------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """Chunk counts per issue, section and type; row counts per table."""
        conn = self.connection()
        grouped = {
            "issue": "SELECT c.issue_id, count(*) FROM chunks c GROUP BY 1 ORDER BY 1",
            "section": "SELECT coalesce(a.section, '-'), count(*) FROM chunks c"
            " JOIN articles a ON a.id = c.article_id GROUP BY 1 ORDER BY 2 DESC",
            "type": "SELECT c.type, count(*) FROM chunks c GROUP BY 1 ORDER BY 2 DESC",
        }
        result = {name: {row[0]: row[1] for row in conn.execute(sql)} for name, sql in grouped.items()}
        result["rows"] = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("issues", "articles", "tables", "policies", "chunks", "chunks_fts", "embeddings")
        }
        return result
