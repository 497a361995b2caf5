"""`KnowledgeBase`: one facade over the SQLite store, the embedder and the FAISS index.

Callers (the indexer, the CLI, the web app) never juggle ids between SQLite and FAISS: they ask
the knowledge base to write issues, refresh vectors, and search. The vector index is kept in
step with the store's generation and is rebuilt from the stored embeddings when it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import RLock

import numpy as np

from .cache import LruCache
from .columns import ChunkColumns
from .config import Settings
from .store import Store
from .vectors import Embedder, VectorIndex, vector_key


@dataclass(frozen=True)
class GenerationView:
    """What search needs of one store generation, derived once and shared by its requests."""

    generation: int
    columns: ChunkColumns
    vectors: VectorIndex


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.store = Store(settings.db_path)
        self._embedder = embedder
        self._view: GenerationView | None = None
        self.results = LruCache(settings.result_cache_size)  # search answers, keyed by generation
        self._lock = RLock()

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
            view = GenerationView(generation, columns, self._vectors_at(generation, columns.rowids, current))
            if current is None or current.generation <= generation:
                self._view = view
            return view

    @property
    def vectors(self) -> VectorIndex:
        return self.view().vectors

    def _vectors_at(self, generation: int, live: np.ndarray, current: GenerationView | None) -> VectorIndex:
        """The saved index if it is this generation's; else the nearest known index (in memory or
        saved) updated by the chunks added and removed since; else a rebuild. Saved unless the
        file on disk is already as new."""
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
        row = self.store.connection().execute("SELECT vector FROM embeddings WHERE model = ? LIMIT 1",
                                              (self.model_name,)).fetchone()
        return len(row[0]) // 4 if row else self.embedder.dim

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
        """Load the model, the vector index and the segmenter now, so the first query is not slow."""
        from .segment import terms

        terms("预热")
        self.embedder.embed(["预热"])
        self.vectors

    def rebuild_vectors(self) -> VectorIndex:
        """Rebuild the vector index from the stored embeddings and save it, whatever is on disk."""
        with self.store.snapshot(), self._lock:
            generation = self.store.generation
            vectors = self._build_vectors(generation)
            vectors.save(self.settings.vectors_path)
            self._view = GenerationView(generation, ChunkColumns.load(self.store), vectors)
            return vectors

    def refresh_vectors(self) -> VectorIndex:
        """Bring the saved vector index up to the store's generation (after an ingest)."""
        return self.vectors

    def close(self) -> None:
        self.store.close()
