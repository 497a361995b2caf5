"""ONNX Runtime inference for the embedder: the transformer, exported from the loaded torch model and
int8-quantised at first use, runs in place of torch; the sentence-transformers pooling modules
after it run unchanged, so the vectors differ from torch's only by the quantisation.

Nothing is shipped: the ONNX files are built into a cache folder (default the user cache,
`$XDG_CACHE_HOME/pv-digest-kb/onnx`) named by a digest of the model's files and the torch and
onnxruntime versions, so a changed model or library builds afresh. Files are written in a
temporary folder and renamed into place, so a process never loads another's half-written file.
Why int8 ONNX: `scripts/bench_embed.py`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

EXPORT_FORMAT = 1  # bump when the export recipe changes, so old cached files are not reused
OPSET = 17


class OnnxBuildError(RuntimeError):
    """The model could not be exported to ONNX, quantised or loaded by onnxruntime."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pv-digest-kb" / "onnx"


class OnnxEncoder:
    """Embeds texts with a sentence-transformers model whose first module runs in onnxruntime."""

    def __init__(self, st_model, session, input_names: list[str]):
        self.st_model = st_model
        self.session = session
        self.input_names = input_names

    @classmethod
    def load(cls, st_model, quantize: bool, cache_dir: Path | None = None, threads: int = 1) -> "OnnxEncoder":
        """Build (or reuse) the ONNX file for `st_model`'s transformer and open a CPU session on it."""
        try:
            import onnxruntime
        except ImportError as exc:
            raise OnnxBuildError("onnxruntime is not installed: pip install onnxruntime onnx") from exc
        transformer = st_model[0]
        hf_model = getattr(transformer, "auto_model", None)
        if hf_model is None or getattr(transformer, "tokenizer", None) is None:
            raise OnnxBuildError(f"the model's first module ({type(transformer).__name__}) is not a text transformer")
        path = _built_model(hf_model, transformer.tokenizer, quantize, cache_dir or default_cache_dir())
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own unexported exception types
            raise OnnxBuildError(f"onnxruntime cannot load {path}: {exc}") from exc
        return cls(st_model, session, [i.name for i in session.get_inputs()])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised float32 vectors, in the order given (callers sort by length to save padding)."""
        import torch

        transformer, pooling = self.st_model[0], list(self.st_model)[1:]
        parts = []
        for start in range(0, len(texts), batch_size):
            tokens = transformer.tokenizer(
                texts[start : start + batch_size], padding=True, truncation=True,
                max_length=self.st_model.max_seq_length, return_tensors="np",
            )
            hidden = self.session.run(None, {name: tokens[name].astype(np.int64) for name in self.input_names})[0]
            features = {
                "token_embeddings": torch.from_numpy(hidden),
                "attention_mask": torch.from_numpy(tokens["attention_mask"].astype(np.int64)),
            }
            with torch.inference_mode():
                for module in pooling:
                    features = module(features)
            parts.append(features["sentence_embedding"].float().numpy())
        vectors = np.vstack(parts).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def _built_model(hf_model, tokenizer, quantize: bool, cache_dir: Path) -> Path:
    folder = cache_dir / _cache_name(hf_model)
    fp32 = folder / "model.onnx"
    target = folder / ("model.int8.onnx" if quantize else "model.onnx")
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as work:
            if not fp32.exists():
                _export(hf_model, tokenizer, Path(work) / fp32.name)
                os.replace(Path(work) / fp32.name, fp32)
            if quantize:
                _quantize(fp32, Path(work) / target.name)
                os.replace(Path(work) / target.name, target)
    except OSError as exc:
        raise OnnxBuildError(f"cannot write the ONNX model under {cache_dir}: {exc}") from exc
    return target


def _cache_name(hf_model) -> str:
    """`<model>-<digest>`: the digest covers the model's files (or hub revision) and the library versions."""
    import onnxruntime
    import torch

    source = str(getattr(hf_model.config, "_name_or_path", "") or type(hf_model).__name__)
    parts = [source, getattr(hf_model.config, "_commit_hash", None) or "", torch.__version__,
             onnxruntime.__version__, str(EXPORT_FORMAT)]
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
