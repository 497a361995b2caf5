"""`KnowledgeBase`: one facade over the SQLite store, the embedder and the FAISS index.

Callers (the indexer, the CLI, the web app) never juggle ids between SQLite and FAISS: they ask
the knowledge base to write issues, refresh vectors, and search. The vector index is kept in
step with the store's generation and is rebuilt from the stored embeddings when it is stale.
"""

from __future__ import annotations

from threading import RLock

import numpy as np

from .config import Settings
from .store import Store
from .vectors import Embedder, VectorIndex


class KnowledgeBase:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.store = Store(settings.db_path)
        self._embedder = embedder
        self._vectors: VectorIndex | None = None
        self._lock = RLock()

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use (keyword-only work never pays for it)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.model, cache_size=self.settings.query_cache_size)
            return self._embedder

    @property
    def model_name(self) -> str:
        return self.settings.model

    def snapshot(self):
        """One consistent view for a request: inside it every read on this thread, and `vectors`,
        see the same generation of the store, whatever an ingest commits meanwhile."""
        return self.store.snapshot()

    @property
    def vectors(self) -> VectorIndex:
        """The vector index for the store's generation as this thread sees it (inside `snapshot()`,
        the snapshot's): kept, loaded, or rebuilt from the embeddings read in the same snapshot."""
        with self.store.snapshot(), self._lock:
            generation = self.store.generation
            current = self._vectors
            if current is None or current.generation != generation or current.model != self.model_name:
                saved = VectorIndex.load(self.settings.vectors_path)
                current = saved
                if current is None or current.generation != generation or current.model != self.model_name:
                    current = self._build_vectors(generation)
                    if saved is None or saved.model != self.model_name or saved.generation < generation:
                        current.save(self.settings.vectors_path)  # never over a newer one
                if self._vectors is None or self._vectors.generation <= generation:
                    self._vectors = current
            return current

    def _build_vectors(self, generation: int) -> VectorIndex:
        batches = list(self.store.chunk_vectors(self.model_name))
        if batches:
            ids = np.concatenate([b[0] for b in batches])
            matrix = np.vstack([b[1] for b in batches])
            dim = matrix.shape[1]
        else:
            ids, matrix = np.zeros(0, dtype=np.int64), None
            dim = self.embedder.dim
        return VectorIndex.build(ids, matrix, dim, generation, self.model_name)

    def warm(self) -> None:
        """Load the model, the vector index and the segmenter now, so the first query is not slow."""
        from .segment import terms

        terms("预热")
        self.embedder.embed(["预热"])
        self.vectors

    def rebuild_vectors(self) -> VectorIndex:
        """Rebuild the vector index from the stored embeddings and save it, whatever is on disk."""
        with self.store.snapshot(), self._lock:
            rebuilt = self._build_vectors(self.store.generation)
            rebuilt.save(self.settings.vectors_path)
            self._vectors = rebuilt
            return rebuilt

    def refresh_vectors(self) -> VectorIndex:
        """Bring the saved vector index up to the store's generation (after an ingest)."""
        return self.vectors

    def close(self) -> None:
        self.store.close()
