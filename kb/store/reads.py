"""The reads search and the indexer need: keyword hits (FTS5 BM25), hit rows, facets, document
frequencies, stored vectors, and the chunk places near-duplicate grouping and related articles use.

Every batched `IN (…)` goes through `rows.in_batches`; every chunk ⋈ embedding join is
`rows.CHUNK_VECTORS`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator

import numpy as np

from ..filters import Filters
from ..segment import fts_quote
from .database import Database
from .rows import ARTICLE_COLUMNS, CHUNK_VECTORS, HIT_COLUMNS, HIT_JOINS, ISSUE_COLUMNS, in_batches

# bm25() column weights: (article title, chunk body)
BM25_WEIGHTS = (0.5, 1.0)
FACET_COLUMNS = {"section": "a.section", "type": "c.type", "source": "a.source", "issue_id": "i.id"}


class Reads(Database):
    def __init__(self, path):
        super().__init__(path)
        self._frequencies: tuple[int, int, dict[str, int]] = (-1, 0, {})  # generation, chunks, term -> df
        self._frequencies_lock = threading.Lock()

    # ---- for the indexer -------------------------------------------------------------------

    def indexed_files(self) -> dict[str, tuple[str, str]]:
        """path -> (issue id, sha256) of every indexed issue."""
        rows = self.connection().execute("SELECT path, id, sha256 FROM issues")
        return {r["path"]: (r["id"], r["sha256"]) for r in rows}

    def issue_path(self, issue_id: str) -> str | None:
        row = self.connection().execute("SELECT path FROM issues WHERE id = ?", (issue_id,)).fetchone()
        return row["path"] if row else None

    def cached_vectors(self, model: str, shas: Iterable[str]) -> dict[str, np.ndarray]:
        query = "SELECT sha, vector FROM embeddings WHERE model = ? AND sha IN ({marks})"
        return {row["sha"]: np.frombuffer(row["vector"], dtype=np.float32)
                for row in in_batches(self.connection(), query, list(dict.fromkeys(shas)), [model], 500)}

    # ---- vectors ---------------------------------------------------------------------------

    def chunk_vectors(self, model: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rowids, vectors) in batches, for building the vector index."""
        cursor = self.connection().execute(f"SELECT c.rowid, e.vector {CHUNK_VECTORS} ORDER BY c.rowid", (model,))
        while rows := cursor.fetchmany(4096):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vectors

    def chunk_vectors_of(self, model: str, rowids: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, vectors) of the given chunks that have a stored embedding."""
        found_ids, found = [], []
        query = f"SELECT c.rowid, e.vector {CHUNK_VECTORS} WHERE c.rowid IN ({{marks}})"
        for row in in_batches(self.connection(), query, [int(r) for r in rowids], [model], 500):
            found_ids.append(row[0])
            found.append(np.frombuffer(row[1], dtype=np.float32))
        matrix = np.vstack(found) if found else np.zeros((0, dim), dtype=np.float32)
        return np.array(found_ids, dtype=np.int64), matrix

    def vector_width(self, model: str) -> int | None:
        """The width of the model's stored vectors, or None when none is stored."""
        row = self.connection().execute("SELECT vector FROM embeddings WHERE model = ? LIMIT 1", (model,)).fetchone()
        return len(row[0]) // 4 if row else None

    def article_vectors(self, model: str) -> list[sqlite3.Row]:
        """(article_id, issue_id, vector) of every chunk with a stored embedding, by article."""
        return self.connection().execute(
            f"SELECT c.article_id, c.issue_id, e.vector {CHUNK_VECTORS} ORDER BY c.article_id", (model,)
        ).fetchall()

    def unembedded(self, model: str) -> list[sqlite3.Row]:
        """(rowid, text, article title) of the chunks without a stored vector under `model`."""
        return self.connection().execute(
            "SELECT c.rowid, c.text, a.title FROM chunks c JOIN articles a ON a.id = c.article_id"
            " LEFT JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha WHERE e.sha IS NULL ORDER BY c.rowid",
            (model,),
        ).fetchall()

    # ---- search ----------------------------------------------------------------------------

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

    def keyword_scores(self, match: str, rowids: list[int]) -> dict[int, float]:
        """rowid -> bm25 (negative, lower is better) of those of the given chunks that `match` matches."""
        score = f"bm25(chunks_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]})"
        query = f"SELECT rowid, {score} FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN ({{marks}})"
        return {r[0]: r[1] for r in in_batches(self.connection(), query, rowids, params=(match,))}

    def postings(self, term: str) -> np.ndarray:
        """Ascending rowids of the chunks holding `term`: a word, or a phrase of space-joined tokens
        that must stand side by side (the unknown-name runs of kb/matching.py). Quoted: never syntax."""
        rows = self.connection().execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rowid",
                                         (fts_quote(term),)).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def index_rows(self, model: str, rowids: list[int], dim: int) -> list[sqlite3.Row]:
        """What a chunk index outside SQLite stores of each given chunk (kb/milvus_index.py): its
        segmented text as FTS5 holds it (title then body), its `model` vector, its issue's dates and
        its coded fields; chunks without a vector of that width are left out (`kb check` names them)."""
        query = (f"SELECT c.rowid AS rowid, f.title || ' ' || f.body AS segmented, e.vector AS vector,"
                 f" i.date_start, i.date_end, a.section, c.type, a.source, i.id AS issue_id"
                 f" FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid {HIT_JOINS}"
                 f" JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha"
                 " WHERE c.rowid IN ({marks})")
        rows = in_batches(self.connection(), query, rowids, params=(model,))
        return [r for r in rows if len(r["vector"]) == dim * 4]

    def newest_issue_dates(self) -> tuple[str, str] | None:
        """(date_start, date_end) of the newest issue: what relative time words are read against."""
        row = self.connection().execute(
            "SELECT date_start, date_end FROM issues ORDER BY date_end DESC, date_start DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def hit_rows(self, rowids: list[int]) -> dict[int, sqlite3.Row]:
        """The hit columns (see rows.HIT_COLUMNS) of the given chunks, by rowid."""
        query = f"SELECT {HIT_COLUMNS} FROM chunks c {HIT_JOINS} WHERE c.rowid IN ({{marks}})"
        return {r["rowid"]: r for r in in_batches(self.connection(), query, rowids)}

    def facet_counts(self, rowids: list[int], column: str) -> dict[str, int]:
        """Counts of a hit column (section, type, source, issue_id) over a match set."""
        query = (f"SELECT {FACET_COLUMNS[column]} AS value, count(*) AS n FROM chunks c {HIT_JOINS}"
                 " WHERE c.rowid IN ({marks}) GROUP BY value")
        counts: dict[str, int] = {}
        for row in in_batches(self.connection(), query, rowids):
            if row["value"] is not None:
                counts[row["value"]] = counts.get(row["value"], 0) + row["n"]
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def filter_rows(self) -> list[sqlite3.Row]:
        """(rowid, date_start, date_end, section, type, source, issue, article) of every chunk, by rowid."""
        return self.connection().execute(
            f"SELECT c.rowid, i.date_start, i.date_end, a.section, c.type, a.source, i.id, c.article_id"
            f" FROM chunks c {HIT_JOINS} ORDER BY c.rowid"
        ).fetchall()

    # ---- near-duplicates and related articles ----------------------------------------------

    def chunk_places(self, rowids: list[int]) -> dict[int, tuple[str, str]]:
        """rowid -> (article id, issue id)."""
        query = "SELECT rowid, article_id, issue_id FROM chunks WHERE rowid IN ({marks})"
        return {row[0]: (row[1], row[2]) for row in in_batches(self.connection(), query, rowids)}

    def signatures(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        """article id -> MinHash signature, for the articles that have one."""
        query = "SELECT article_id, minhash FROM article_signatures WHERE article_id IN ({marks})"
        return {row[0]: np.frombuffer(row[1], dtype=np.uint32)
                for row in in_batches(self.connection(), query, article_ids)}

    def has_article(self, article_id: str) -> bool:
        return self.connection().execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def article_rows(self, article_ids: list[str]) -> dict[str, sqlite3.Row]:
        """article id -> its article and issue reference columns."""
        query = (f"SELECT {ARTICLE_COLUMNS}, {ISSUE_COLUMNS} FROM articles a JOIN issues i ON i.id = a.issue_id"
                 " WHERE a.id IN ({marks})")
        return {r["article_id"]: r for r in in_batches(self.connection(), query, article_ids)}
