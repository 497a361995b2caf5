"""ONNX Runtime inference for the embedder, without torch: the transformer runs in onnxruntime,
the text is tokenised by `tokenizers` from the model folder's tokenizer.json, and the pooling
(mean over the attention mask, or the [CLS] token) and L2 normalisation are numpy, as
sentence-transformers computes them, so a query or an ingest never imports torch.

torch and sentence-transformers are needed only to build the ONNX files (kb/onnx_build.py), once
per model and library version: the transformer is exported from the loaded torch model and
int8-quantised into a cache folder (default `$XDG_CACHE_HOME/pv-digest-kb/onnx`) named by a digest of the
model's files and the torch and onnxruntime versions (read from package metadata, so finding
the files needs no torch either), so a changed model or library builds afresh. Files are written
in a temporary folder and renamed into place, so a process never loads another's half-written
file. A model given by hub name, or a folder whose modules this module does not reproduce
(anything beyond Transformer, mean/CLS Pooling and Normalize), is loaded by sentence-transformers
first and its tokenizer and pooling taken from it. Why int8 ONNX: `scripts/bench_embed.py`;
cold `kb search` without torch: `scripts/bench_cold.py`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .onnx_build import OnnxBuildError, _build, _cache_name, _model_file, _padded, _pooling_of, _tokenizer_of

__all__ = ["ModelFolder", "OnnxBuildError", "OnnxEncoder", "default_cache_dir"]

POOLINGS = ("mean", "cls")
PLAIN_MODULES = {"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                 "sentence_transformers.models.Normalize"}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pv-digest-kb" / "onnx"


@dataclass(frozen=True)
class ModelFolder:
    """A local model folder this module can run alone: its tokenizer.json, pooling and length limit."""

    path: Path
    pooling: str
    max_length: int

    @classmethod
    def read(cls, path: Path, max_length: int | None = None) -> "ModelFolder | None":
        """The folder's recipe, or None when it needs sentence-transformers (no tokenizer.json, or
        modules or a pooling mode beyond mean/CLS). A plain Hugging Face folder pools by mean, as
        sentence-transformers does for it."""
        if not (path / "tokenizer.json").exists() or not (path / "config.json").exists():
            return None
        pooling = "mean"
        if (path / "modules.json").exists():
            modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
            if any(m.get("type", "").replace(".sentence_transformer.modules.", ".models.") not in PLAIN_MODULES
                   for m in modules):
                return None
            pooling = next((_pooling_mode(path / m["path"]) for m in modules if m["type"].endswith("Pooling")), "mean")
            if pooling is None:
                return None
        return cls(path, pooling, max_length or _max_length(path))

    def tokenizer(self):
        """The folder's fast tokenizer, with the normalisation its tokenizer_config.json asks for."""
        from tokenizers import Tokenizer, normalizers

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        config = _json(self.path / "tokenizer_config.json")
        normalizer = json.loads(tokenizer.to_str()).get("normalizer") or {}
        if normalizer.get("type") == "BertNormalizer" and "do_lower_case" in config:  # as transformers' BertTokenizerFast
            tokenizer.normalizer = normalizers.BertNormalizer(
                clean_text=normalizer.get("clean_text", True), lowercase=bool(config["do_lower_case"]),
                handle_chinese_chars=config.get("tokenize_chinese_chars", normalizer.get("handle_chinese_chars", True)),
                strip_accents=config.get("strip_accents", normalizer.get("strip_accents")),
            )
        pad = config.get("pad_token") or _json(self.path / "special_tokens_map.json").get("pad_token") or "[PAD]"
        return _padded(tokenizer, pad["content"] if isinstance(pad, dict) else pad, self.max_length)

    def cache_name(self) -> str:
        return _cache_name(str(self.path), "")


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _pooling_mode(folder: Path) -> str | None:
    config = _json(folder / "config.json")
    chosen = [name for name, key in (("mean", "pooling_mode_mean_tokens"), ("cls", "pooling_mode_cls_token")) if config.get(key)]
    others = [key for key, on in config.items() if key.startswith("pooling_mode_") and on and key not in (
        "pooling_mode_mean_tokens", "pooling_mode_cls_token")]
    return chosen[0] if len(chosen) == 1 and not others else None


def _max_length(path: Path) -> int:
    """sentence-transformers' limit: its own config, else the tokenizer's, within the model's positions."""
    own = _json(path / "sentence_bert_config.json").get("max_seq_length")
    positions = _json(path / "config.json").get("max_position_embeddings", 512)
    tokenizer_limit = _json(path / "tokenizer_config.json").get("model_max_length", positions)
    return int(own or min(tokenizer_limit, positions))


class OnnxEncoder:
    """Embeds texts: tokenizers -> the transformer in onnxruntime -> pooling -> L2 normalisation."""

    def __init__(self, session, tokenizer, pooling: str):
        if pooling not in POOLINGS:
            raise OnnxBuildError(f"pooling {pooling!r} is not supported without torch (KB_EMBED_BACKEND=torch runs it)")
        self.session = session
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.input_names = [i.name for i in session.get_inputs()]
        self.dim = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def open(cls, folder: ModelFolder | None, load_model: Callable[[], object], quantize: bool,
             cache_dir: Path | None = None, threads: int = 1) -> "OnnxEncoder":
        """The encoder of `folder` from its cached ONNX file; `load_model()` (the sentence-transformers
        model) is called only when that file must be built, or when there is no folder to read."""
        cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        if folder is not None:
            path = _model_file(cache_dir / folder.cache_name(), quantize)
            if not path.exists():
                _build(load_model(), quantize, cache_dir)
            return cls(_session(path, threads), folder.tokenizer(), folder.pooling)
        st_model = load_model()
        path = _build(st_model, quantize, cache_dir)
        return cls(_session(path, threads), _tokenizer_of(st_model), _pooling_of(st_model))

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised float32 vectors, in the order given (callers sort by length to save padding)."""
        parts = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
            feeds = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            hidden = self.session.run(None, {name: feeds[name] for name in self.input_names})[0]
            parts.append(self._pool(hidden, feeds["attention_mask"]))
        vectors = np.vstack(parts).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """sentence-transformers' Pooling: the masked mean (count clamped at 1e-9), or the first token."""
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _session(path: Path, threads: int):
    try:
        import onnxruntime
    except ImportError as exc:
        raise OnnxBuildError("onnxruntime is not installed: pip install onnxruntime onnx") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        raise OnnxBuildError(f"onnxruntime cannot load {path}: {exc}") from exc


