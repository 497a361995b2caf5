"""ONNX Runtime inference for the embedder, without torch: the transformer runs in onnxruntime,
the text is tokenised by `tokenizers` from the model folder's tokenizer.json, and the pooling
(mean over the attention mask, or the [CLS] token) and L2 normalisation are numpy, as
sentence-transformers computes them, so a query or an ingest never imports torch.

torch and sentence-transformers are needed only to build the ONNX files, once per model and
library version: the transformer is exported from the loaded torch model and int8-quantised
into a cache folder (default `$XDG_CACHE_HOME/pv-digest-kb/onnx`) named by a digest of the
model's files and the torch and onnxruntime versions (read from package metadata, so finding
the files needs no torch either), so a changed model or library builds afresh. Files are written
in a temporary folder and renamed into place, so a process never loads another's half-written
file. A model given by hub name, or a folder whose modules this module does not reproduce
(anything beyond Transformer, mean/CLS Pooling and Normalize), is loaded by sentence-transformers
first and its tokenizer and pooling taken from it. Why int8 ONNX: `scripts/bench_embed.py`;
cold `kb search` without torch: `scripts/bench_cold.py`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXPORT_FORMAT = 1  # bump when the export recipe changes, so old cached files are not reused
OPSET = 17
POOLINGS = ("mean", "cls")
PLAIN_MODULES = {"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                 "sentence_transformers.models.Normalize"}


class OnnxBuildError(RuntimeError):
    """The model could not be exported to ONNX, quantised or loaded by onnxruntime."""


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


def _padded(tokenizer, pad_token: str, max_length: int):
    """Truncated to `max_length` tokens (special tokens included) and right-padded to the batch's longest."""
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad_token), pad_token=pad_token)
    return tokenizer


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


def _transformer_of(st_model):
    transformer = st_model[0]
    if getattr(transformer, "auto_model", None) is None or getattr(transformer, "tokenizer", None) is None:
        raise OnnxBuildError(f"the model's first module ({type(transformer).__name__}) is not a text transformer")
    return transformer


def _tokenizer_of(st_model):
    """A copy of the loaded model's fast tokenizer, set to pad and truncate as sentence-transformers does."""
    from tokenizers import Tokenizer

    hf_tokenizer = _transformer_of(st_model).tokenizer
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise OnnxBuildError(f"{type(hf_tokenizer).__name__} has no fast tokenizer (KB_EMBED_BACKEND=torch runs it)")
    return _padded(Tokenizer.from_str(backend.to_str()), hf_tokenizer.pad_token, st_model.max_seq_length)


def _pooling_of(st_model) -> str:
    modules = list(st_model)[1:]
    names = {type(m).__name__ for m in modules}
    pooling = next((m for m in modules if type(m).__name__ == "Pooling"), None)
    if pooling is None or not names <= {"Pooling", "Normalize"}:
        raise OnnxBuildError(f"modules {sorted(names)} are not supported without torch (KB_EMBED_BACKEND=torch runs them)")
    return pooling.get_pooling_mode_str()  # "mean", "cls", or a mode OnnxEncoder refuses


def _model_file(folder: Path, quantize: bool) -> Path:
    return folder / ("model.int8.onnx" if quantize else "model.onnx")


def _build(st_model, quantize: bool, cache_dir: Path) -> Path:
    """The cached ONNX file of the loaded model, exported (and quantised) if it is not there yet."""
    transformer = _transformer_of(st_model)
    hf_model = transformer.auto_model
    folder = cache_dir / _cache_name(str(getattr(hf_model.config, "_name_or_path", "") or type(hf_model).__name__),
                                     getattr(hf_model.config, "_commit_hash", None) or "")
    fp32, target = _model_file(folder, False), _model_file(folder, quantize)
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as work:
            if not fp32.exists():
                _export(hf_model, transformer.tokenizer, Path(work) / fp32.name)
                os.replace(Path(work) / fp32.name, fp32)
            if quantize:
                _quantize(fp32, Path(work) / target.name)
                os.replace(Path(work) / target.name, target)
    except OSError as exc:
        raise OnnxBuildError(f"cannot write the ONNX model under {cache_dir}: {exc}") from exc
    return target


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def _cache_name(source: str, revision: str) -> str:
    """`<model>-<digest>`: the digest covers the model's files (or hub revision) and the library versions."""
    parts = [source, revision, _version("torch"), _version("onnxruntime"), str(EXPORT_FORMAT)]
    folder = Path(source)
    if folder.is_dir():
        parts += [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.iterdir()) if p.is_file()]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', folder.name or source)}-{digest}"


def _export(hf_model, tokenizer, path: Path) -> None:
    """The transformer's last hidden state as ONNX, batch and sequence length dynamic.

    Exported with eager attention: onnxruntime fuses that pattern into one Attention kernel
    (about 1.2x faster int8 inference than exporting PyTorch's SDPA graph).
    """
    import torch

    sample = tokenizer(["光伏组件", "分布式光伏电站并网"], padding=True, return_tensors="pt")
    names = list(sample.keys())

    class LastHiddenState(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = hf_model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    previous = getattr(hf_model.config, "_attn_implementation", None)
    set_attention = getattr(hf_model, "set_attn_implementation", None)
    try:
        if set_attention is not None and previous not in (None, "eager"):
            set_attention("eager")
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState().eval(), tuple(sample[n] for n in names), str(path),
                input_names=names, output_names=["last_hidden_state"], opset_version=OPSET,
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many unrelated types; all mean "cannot export"
        raise OnnxBuildError(f"cannot export {type(hf_model).__name__} to ONNX: {exc}") from exc
    finally:
        if set_attention is not None and previous not in (None, "eager"):
            set_attention(previous)


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 with per-output-channel weight scales, except the feed-forward down-projections.

    Their input (the GELU output) has outlier channels that one int8 scale per tensor flattens;
    kept in fp32 they raise the mean cosine to torch fp32 from 0.997 to 0.999 on m3e-small, and
    hybrid search stops losing a near-tie on the dev queries, for 1.7x instead of 2.4x speed.
    Per-tensor weight scales would cost a further 0.007 of cosine.
    """
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        graph = onnx.load(str(source), load_external_data=False).graph
        shapes = {i.name: tuple(i.dims) for i in graph.initializer}
        down = [  # weight MatMuls that narrow (inputs > outputs): in BERT, the FFN down-projections
            n.name for n in graph.node
            if n.op_type == "MatMul" and len(shape := shapes.get(n.input[1], ())) == 2 and shape[0] > shape[1]
        ]
        logging.disable(logging.WARNING)  # its advice to pre-process for static quantisation, on the root logger
        try:
            quantize_dynamic(
                source, target, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                nodes_to_exclude=down, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            logging.disable(logging.NOTSET)
    except ImportError as exc:
        raise OnnxBuildError("int8 quantisation needs the onnx package: pip install onnx") from exc
    except Exception as exc:  # onnx/onnxruntime raise their own types for graphs they cannot handle
        raise OnnxBuildError(f"cannot quantise {source}: {exc}") from exc
