"""Building the ONNX files of an embedding model (the one place torch is needed): export the
transformer from the loaded sentence-transformers model, int8-quantise it, and file it in the cache
under a name that changes with the model's files and the library versions.

Everything here that touches torch, transformers or onnx imports it inside the function, so
kb/onnx_model.py (which runs the files) can import the names it shares without loading torch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path

EXPORT_FORMAT = 1  # bump when the export recipe changes, so old cached files are not reused
OPSET = 17


class OnnxBuildError(RuntimeError):
    """The model could not be exported to ONNX, quantised or loaded by onnxruntime."""


def _padded(tokenizer, pad_token: str, max_length: int):
    """Truncated to `max_length` tokens (special tokens included) and right-padded to the batch's longest."""
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad_token), pad_token=pad_token)
    return tokenizer


def _model_file(folder: Path, quantize: bool) -> Path:
    return folder / ("model.int8.onnx" if quantize else "model.onnx")


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
