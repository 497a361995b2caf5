"""`KnowledgeBase`: the one door to an index — the SQLite store, the embedder and the chunk index.

Callers (the indexer, the CLI, the web app) never juggle ids between SQLite and FAISS, text
hashes or model keys: they ask the knowledge base to prepare and write issues, remove them, fill
missing embeddings, search, check, repair and count. The vector index is kept in step with the
store's generation and is rebuilt from the stored embeddings when it is stale. Search reads the
store through `kb.store` (kb/store/reads.py), the narrow read protocol it takes from here, and asks
for its two ranked legs through `keyword_leg` and `semantic_leg`.

The chunk index is one of two backends (`Settings.backend`): "local", SQLite FTS5 ranking BM25
and a FAISS file beside the database (kb/vector_index.py), or "milvus", one Milvus collection
ranking both (kb/milvus_index.py; SQLite FTS5 still holds the terms' statistics the match set
reads). Either is brought to the store's generation the same way and checked and repaired by
`kb check`; nothing above this facade knows which one answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from threading import RLock
from typing import TYPE_CHECKING

import numpy as np

from . import check as checks
from .answers import Records
from .cache import LruCache
from .columns import ChunkColumns
from .config import Settings
from .crash import crash_point
from .embedder import Embedder, text_sha, vector_key
from .errors import BackendError
from .filters import Filters
from .keyword_index import KeywordIndex
from .matching import Calibration, load_calibration
from .models import Chunk, Issue, embedding_text
from .numbers import StructuredIssue
from .querylog import QueryLog
from .related import related_articles
from .search import SearchRequest, search
from .trend import trend
from .store import Store, numbers
from .store.catalog import Catalog
from .vector_index import VectorIndex

if TYPE_CHECKING:  # pymilvus is imported only when the milvus backend is used
    from .milvus_index import MilvusIndex

BACKENDS = ("local", "milvus")


class GenerationView:
    """What search needs of one store generation, derived once and shared by its requests: the
    filter columns, the vector index, and the keyword ranker, built on first use (an ingest,
    which only brings the vector index up to date, never pays for it)."""

    def __init__(self, generation: int, columns: ChunkColumns, vectors: "VectorIndex | MilvusIndex", store: Store,
                 known_terms: dict[str, int] | None = None):
        self.generation, self.columns, self.vectors = generation, columns, vectors
        self._store, self._known_terms = store, known_terms
        self._keywords: KeywordIndex | None = None
        self._lock = RLock()

    @property
    def keywords(self) -> KeywordIndex:
        """Read inside the request's snapshot, which is this generation's (outside one, a newer
        generation's statistics do not cover these columns, and FTS5 answers)."""
        with self._lock:
            if self._keywords is None:
                with self._store.snapshot():
                    self._keywords = KeywordIndex.build(self._store, self.columns, self._known_terms)
                self._known_terms = None
            return self._keywords

    def known_terms(self) -> dict[str, int] | None:
        """The term ids read so far (term ids are never reused), for the next generation's ranker."""
        return self._keywords.vocabulary if self._keywords is not None else self._known_terms


@dataclass
class PreparedIssue:
    """A parsed and chunked issue waiting for the vectors of its new texts (`KnowledgeBase.prepare`)."""

    path: str  # the resolved path the issue is filed under
    sha256: str  # of the file's bytes
    issue: Issue
    chunks: list[Chunk]
    structured: StructuredIssue | None
    shas: list[str]  # per chunk: the sha of what the model embeds
    missing: dict[str, str]  # text sha -> text to embed (no stored vector yet)


def _known(view: GenerationView, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The hits whose chunk this view's generation holds: one Milvus collection serves every
    generation (a thread still reading the previous one, a replica whose copy of the database is
    older than the collection), so its rowids are checked against the view's columns."""
    if not hits:
        return hits
    rowids = np.fromiter((rowid for rowid, _ in hits), dtype=np.int64, count=len(hits))
    known = view.columns.contains(rowids)
    return [hit for hit, ok in zip(hits, known) if ok]


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        if settings.backend not in BACKENDS:
            raise BackendError(f"KB_BACKEND must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")
        self.settings = settings
        self._milvus: MilvusIndex | None = None  # the collection, opened on first use
        self.store = Store(settings.db_path)
        self._embedder = embedder
        self._view: GenerationView | None = None
        self.results = LruCache(settings.result_cache_size)  # search answers, keyed by generation
        self._lock = RLock()
        self._calibration: tuple[str, Calibration] | None = None
        self.queries = QueryLog(settings.data_dir, settings.query_log)  # what members ask (kb queries)
        self._records: tuple[int, Records] | None = None  # answer-card records of one generation

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use (keyword-only work never pays for it)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder(
                    self.settings.model, cache_size=self.settings.query_cache_size, backend=self.settings.embed_backend
                )
            return self._embedder

    @property
    def model_name(self) -> str:
        """What stored vectors and the FAISS index are keyed by: the model and, unless plain torch, the
        backend (an embedder passed in names its own), so vectors of two backends never mix."""
        if self._embedder is not None:
            return self._embedder.key
        return vector_key(self.settings.model, self.settings.embed_backend)

    @property
    def generation(self) -> int:
        """The store generation: bumped by every write, so readers notice an ingest."""
        return self.store.generation

    def snapshot(self):
        """One consistent view for a request: inside it every read on this thread, and `vectors`,
        see the same generation of the store, whatever an ingest commits meanwhile."""
        return self.store.snapshot()

    def view(self) -> GenerationView:
        """What search needs of the store's generation as this thread sees it (inside `snapshot()`,
        the snapshot's generation): kept while the generation lasts, else derived once."""
        with self.store.snapshot(), self._lock:
            generation = self.store.generation
            current = self._view
            if current is not None and current.generation == generation and current.vectors.model == self.model_name:
                return current
            columns = ChunkColumns.load(self.store)
            view = GenerationView(generation, columns, self._vectors_at(generation, columns.rowids, current), self.store,
                                  current.known_terms() if current else None)
            if current is None or current.generation <= generation:
                self._view = view
            return view

    @property
    def vectors(self) -> VectorIndex:
        return self.view().vectors

    @property
    def calibration(self) -> Calibration:
        """The match thresholds and fusion weight measured for this model and backend."""
        key = self.model_name
        if self._calibration is None or self._calibration[0] != key:
            self._calibration = (key, load_calibration(key))
        return self._calibration[1]

    def cosines(self, vector: np.ndarray, rowids: list[int]) -> dict[int, float]:
        """The query's cosine to each given chunk, from its stored embedding (for the keyword hits
        the semantic leg did not return: the fusion and the match rule need both scores). Read
        from the generation's vector index (200 vectors: 0.1 ms, where SQL took ~6 ms at 100k
        chunks), or from the store when the index lacks one of them."""
        if not rowids:
            return {}
        ids = np.asarray(rowids, dtype=np.int64)
        matrix = None if self.milvus else self.vectors.vectors_of(ids)
        if matrix is None:
            ids, matrix = self.store.chunk_vectors_of(self.model_name, ids, len(vector))
        values = matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        return dict(zip(ids.tolist(), values.astype(float).tolist()))

    @property
    def milvus(self) -> bool:
        return self.settings.backend == "milvus"

    def open_index(self) -> None:
        """Raise BackendError now, before any write, when the chunk index cannot be opened (a Milvus
        server down, a Milvus Lite database held by another process); the local pair always opens."""
        if self.milvus:
            self.milvus_index()

    def milvus_index(self) -> "MilvusIndex":
        """The Milvus collection (milvus backend), opened on first use."""
        with self._lock:
            if self._milvus is None or self._milvus.model != self.model_name:
                from .milvus_index import MilvusIndex

                if self._milvus is not None:
                    self._milvus.close()
                    self._milvus = None
                settings = self.settings
                self._milvus = MilvusIndex.connect(settings.milvus, settings.milvus_token, settings.milvus_collection,
                                                   self.model_name, self.embedder_dim(), self.store.store_id)
            return self._milvus

    def _milvus_at(self, generation: int, live: np.ndarray) -> "MilvusIndex":
        """The collection, synced from the store when it reflects an older generation (never
        backwards: a replica reading an older copy of the database serves the rows it knows)."""
        index = self.milvus_index()
        if index.recorded_generation() < generation:
            index.sync(self.store, live, generation)
        return index

    def keyword_leg(self, terms: list[str], filters: Filters, limit: int) -> list[tuple[int, float]]:
        """(rowid, BM25 score: higher is better) of the best `limit` chunks holding any of the terms.
        With Milvus, Milvus retrieves them and the generation's keyword ranker scores them as FTS5
        would: Milvus's BM25 (Lucene's IDF, the title weighed like the body) fused directly cost
        the archive 0.016 MRR@10, so the fusion reads the same values on both backends."""
        view = self.view()
        if self.milvus:
            # twice the limit: Milvus's own BM25 orders them a little differently from FTS5's
            retrieved = view.vectors.keyword(terms, filters, 2 * limit)
            # only chunks this generation holds and FTS5 would match are scored (Milvus matches a
            # term FTS5 reads as a phrase, 4.2, by any of its pieces)
            rescored = view.keywords.scores(terms, [rowid for rowid, _ in retrieved])
            return sorted(rescored.items(), key=lambda item: (-item[1], item[0]))[:limit]
        hits, _ = view.keywords.search(terms, filters, limit)
        return [(rowid, -bm25) for rowid, bm25 in hits]  # FTS5's bm25 is negative, lower is better

    def semantic_leg(self, vector: np.ndarray, k: int, filters: Filters, allowed: np.ndarray | None
                     ) -> list[tuple[int, float]]:
        """(rowid, cosine) of the `k` nearest chunks that the filters (as rowids: `allowed`) allow."""
        view = self.view()
        if self.milvus:
            return _known(view, view.vectors.search(vector, k, filters))
        return view.vectors.search(vector, k, allowed)

    def _vectors_at(self, generation: int, live: np.ndarray, current: GenerationView | None):
        """With the milvus backend, the synced collection. Otherwise the saved index if it is this
        generation's; else the nearest known index (in memory or saved) updated by the chunks added
        and removed since; else a rebuild. Saved unless the file on disk is already as new."""
        if self.milvus:
            return self._milvus_at(generation, live)
        settings = self.settings
        saved = VectorIndex.load(settings.vectors_path, settings.ivf_nprobe)
        if saved is not None and saved.model == self.model_name and saved.generation == generation:
            return saved
        bases = [v for v in (current.vectors if current else None, saved) if v is not None and v.model == self.model_name]
        vectors = None
        for base in sorted(bases, key=lambda v: abs(v.generation - generation)):
            vectors = base.updated(live, self._stored_vectors, generation, settings.ann_threshold)
            if vectors is not None:
                break
        if vectors is None:
            vectors = self._build_vectors(generation)
        if saved is None or saved.model != self.model_name or saved.generation < generation:
            vectors.save(settings.vectors_path)  # never over a newer one
        return vectors

    def _stored_vectors(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.store.chunk_vectors_of(self.model_name, rowids, self.embedder_dim())

    def embedder_dim(self) -> int:
        """The vector width: from a stored vector when there is one, so no model load is needed."""
        return self.store.vector_width(self.model_name) or self.embedder.dim

    def _build_vectors(self, generation: int) -> VectorIndex:
        batches = list(self.store.chunk_vectors(self.model_name))
        if batches:
            ids = np.concatenate([b[0] for b in batches])
            matrix = np.vstack([b[1] for b in batches])
        else:
            ids, matrix = np.zeros(0, dtype=np.int64), None
        return VectorIndex.build(ids, matrix, self.embedder_dim(), generation, self.model_name,
                                 self.settings.ann_threshold, self.settings.ivf_nprobe)

    def warm(self) -> None:
        """Load the model, the vector index, the keyword ranker and the segmenter now, so the first
        query is not slow."""
        from .segment import terms

        terms("预热")
        self.embedder.embed(["预热"])
        with self.snapshot():
            self.view().keywords

    def rebuild_vectors(self):
        """Rebuild the vector index from the stored embeddings and save it, whatever is on disk;
        with the milvus backend, re-sync the collection from the store, whatever it records (rows
        never change under a rowid: a replaced chunk gets a new one, another model a new collection)."""
        with self.store.snapshot(), self._lock:
            generation = self.store.generation
            columns = ChunkColumns.load(self.store)
            if self.milvus:
                vectors = self.milvus_index()
                vectors.sync(self.store, columns.rowids, generation)
                self._view = GenerationView(generation, columns, vectors, self.store)
                return vectors
            vectors = self._build_vectors(generation)
            vectors.save(self.settings.vectors_path)
            self._view = GenerationView(generation, columns, vectors, self.store)
            return vectors

    def refresh_vectors(self):
        """Bring the saved vector index up to the store's generation (after an ingest)."""
        return self.vectors

    # ---- writes ----------------------------------------------------------------------------

    def indexed_files(self) -> dict[str, tuple[str, str]]:
        """path -> (issue id, file sha256) of every indexed issue."""
        return self.store.indexed_files()

    def issue_path(self, issue_id: str) -> str | None:
        """The file an issue is indexed from, or None."""
        return self.store.issue_path(issue_id)

    def prepare(self, path: str, sha256: str, issue: Issue, chunks: list[Chunk],
                structured: StructuredIssue | None) -> PreparedIssue:
        """An issue ready for `write_issues`, knowing which of its texts still need a vector."""
        shas = [text_sha(chunk.embed_text) for chunk in chunks]
        cached = self.store.cached_vectors(self.model_name, shas)
        missing = {sha: chunk.embed_text for sha, chunk in zip(shas, chunks) if sha not in cached}
        return PreparedIssue(path, sha256, issue, chunks, structured, shas, missing)

    def write_issues(self, prepared: list[PreparedIssue]) -> int:
        """Embed the new texts of several issues in one call, then write each issue in its own
        transaction; how many texts were embedded. Sorting by length across issues pads less,
        and leaves fewer part-filled batches, than embedding issue by issue: 31 against 22
        chunks/s on 2 cores (scripts/bench_ingest.py)."""
        texts = {sha: text for item in prepared for sha, text in item.missing.items()}
        vectors = self.embedder.embed(list(texts.values()), batch_size=self.settings.embed_batch_size) if texts else []
        by_sha = dict(zip(texts, vectors))
        for item in prepared:
            new_vectors = {sha: by_sha[sha] for sha in item.missing}
            self.store.replace_issue(item.issue, item.path, item.sha256, item.chunks, item.shas, self.model_name,
                                     new_vectors, item.structured)
            crash_point("committed")
        return len(texts)

    def remove_issues(self, issue_ids: Iterable[str]) -> int:
        """Delete issues (and everything of theirs); how many there were."""
        return self.store.delete_issues(issue_ids)

    def fill_missing_embeddings(self) -> int:
        """Embed the chunks that have no stored vector under `model_name`, exactly as the indexer
        would have, in one transaction with a new generation; how many. Ingest calls it too, so a
        changed model or embedding backend fills in the chunks of files it skips as unchanged."""
        rows = self.store.unembedded(self.model_name)
        if not rows:
            return 0
        texts = [embedding_text(r[2], r[1]) for r in rows]
        shas = [text_sha(text) for text in texts]
        vectors = self.embedder.embed(texts, batch_size=self.settings.embed_batch_size)
        self.store.set_embeddings(self.model_name, dict(zip(shas, vectors)), {r[0]: sha for r, sha in zip(rows, shas)})
        return len(rows)

    # ---- reads -----------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> dict:
        """The result contract for a `kb.search.SearchRequest` (see kb/search.py)."""
        return search(self, request)

    def answers(self, query: str, week: tuple[str, str] | None = None) -> list[dict]:
        """The answer cards a query names (kb/answers.py), from records read once per generation."""
        with self.store.snapshot(), self._lock:
            generation = self.store.generation
            if self._records is None or self._records[0] != generation:
                listed = numbers.list_tables(self.store, limit=1_000_000)["tables"]
                tables = [t for t in (numbers.get_table(self.store, row["id"]) for row in listed) if t]
                records = Records.build(numbers.price_series(self.store), tables, numbers.policies(self.store))
                self._records = (generation, records)
            records = self._records[1]
        return [card.to_dict() for card in records.cards(query, week)]

    def trend(self, request: SearchRequest, compare: str | None = None) -> dict:
        """Matching passages per issue (or month) for a query, and for `compare` beside it."""
        return trend(self, request, compare)

    def catalog(self) -> Catalog:
        """Browsing reads: the issues, one issue's contents, one whole article, health."""
        return Catalog(self.store)

    def list_tables(self, **query) -> dict:
        return numbers.list_tables(self.store, **query)

    def get_table(self, table: str) -> dict | None:
        return numbers.get_table(self.store, table)

    def price_series(self, product: str | None = None, date_from: str | None = None,
                     date_to: str | None = None) -> list[dict]:
        return numbers.price_series(self.store, product, date_from, date_to)

    def policies(self, **query) -> list[dict]:
        return numbers.policies(self.store, **query)

    def related_articles(self, article_id: str, k: int = 5) -> list[dict] | None:
        """The k articles from other issues nearest to `article_id` (kb/related.py)."""
        return related_articles(self.store, self.model_name, article_id, k)

    def check(self) -> checks.CheckReport:
        """Does the index agree with itself? (kb/check.py)"""
        return checks.check(self)

    def repair(self) -> checks.CheckReport:
        """Rebuild what is derived from the chunks, then check again (kb/check.py)."""
        return checks.repair(self)

    def stats(self) -> dict[str, dict[str, int]]:
        """Chunks per issue, section and type; row counts; database and vector file sizes (and with
        the milvus backend the collection's rows and recorded generation)."""
        counts = self.store.counts()
        db_path, vectors_path = self.settings.db_path, self.settings.vectors_path
        counts["files"] = {
            "database_bytes": db_path.stat().st_size if db_path.exists() else 0,
            "vectors_bytes": vectors_path.stat().st_size if vectors_path.exists() else 0,
        }
        if self.milvus:  # the chunk index is a collection, not a file here
            index = self.milvus_index()
            counts["milvus"] = {"rows": index.size, "generation": index.recorded_generation()}
        return counts

    def close(self) -> None:
        try:
            if self._milvus is not None:
                self._milvus.close()
        finally:
            self._milvus = None
            self.store.close()
