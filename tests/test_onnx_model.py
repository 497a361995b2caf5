"""The torch-free embedder (kb/onnx_model.py): same tokens and vectors as the sentence-transformers
pipeline on the same ONNX file, no torch in a process that ingests and searches, and a first
use that builds the ONNX files through torch gives the very vectors later processes get."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import numpy as np

from indexer.chunk import chunk_issue
from indexer.parse import parse_issue
from kb.onnx_model import ModelFolder
from kb.embedder import Embedder, embedded_model_path

from .conftest import REAL_ISSUE, REPO, copy_of

SECOND_ISSUE = REPO / "tests" / "data" / "handmade-2025-06-30.txt"
TORCH_STACK = ("torch", "sentence_transformers", "transformers")
ODD_TEXTS = ["TOPCon Perovskite HJT 组件 ABC", "  前后有空格  ", "Ünïcode café ÀÉ", "x" * 3000, "光伏" * 600, "a"]


def chunk_texts() -> list[str]:
    issue = parse_issue(REAL_ISSUE.read_text(encoding="utf-8"), REAL_ISSUE.name)
    return [chunk.embed_text for chunk in chunk_issue(issue)]


@functools.cache
def reference_model():
    return Embedder(backend="torch").model


def sentence_transformers_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """What the embedder computed before it dropped torch: the model's own tokenizer, the same ONNX
    session, then sentence-transformers' pooling modules in torch."""
    import torch

    st_model = reference_model()
    tokens = st_model[0].tokenizer(texts, padding=True, truncation=True, max_length=st_model.max_seq_length,
                                   return_tensors="np")
    session = embedder._onnx.session
    hidden = session.run(None, {i.name: tokens[i.name].astype(np.int64) for i in session.get_inputs()})[0]
    features = {"token_embeddings": torch.from_numpy(hidden),
                "attention_mask": torch.from_numpy(tokens["attention_mask"].astype(np.int64))}
    with torch.inference_mode():
        for module in list(st_model)[1:]:
            features = module(features)
    vectors = features["sentence_embedding"].numpy()
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_tokens_match_the_models_own_tokenizer(embedder):
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(embedded_model_path()))
    for text in chunk_texts() + ODD_TEXTS:
        expected = reference([text], truncation=True, max_length=512)["input_ids"][0]
        assert embedder._onnx.tokenizer.encode_batch([text])[0].ids == expected, text[:40]


def test_vectors_match_the_sentence_transformers_pipeline(embedder):
    texts = chunk_texts()[:12] + ODD_TEXTS
    batches = [texts[i : i + 4] for i in range(0, len(texts), 4)]  # int8 activations are scaled per batch
    ours = np.vstack([embedder._onnx.encode(batch, batch_size=4) for batch in batches])
    cosine = (ours * np.vstack([sentence_transformers_vectors(embedder, batch) for batch in batches])).sum(axis=1)
    assert cosine.min() >= 0.9999, cosine


def test_ingest_and_search_never_import_torch(corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "data")
    kb.close()
    script = (
        "import json, sys\n"
        "from cli import main\n"
        "for command in json.loads(sys.argv[1]):\n"
        "    main(command, standalone_mode=False)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {TORCH_STACK!r})), file=sys.stderr)\n"
    )
    data_dir = str(tmp_path / "data")
    commands = [["ingest", str(SECOND_ISSUE), "--quiet", "--data-dir", data_dir],
                ["search", "钙钛矿 叠层电池", "--json", "--data-dir", data_dir]]
    done = subprocess.run([sys.executable, "-c", script, json.dumps(commands)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=True)
    assert "1 added" in done.stdout
    response = json.loads(done.stdout[done.stdout.index("{"):])
    assert response["mode"] == "hybrid" and response["results"]
    assert response["results"][0]["issue"]["id"] == "2025-06-30"
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_first_use_builds_the_onnx_files_and_later_loads_need_no_torch(embedder, tmp_path):
    texts = chunk_texts()[:6]
    built = Embedder(onnx_cache_dir=tmp_path)
    assert built.model is not None  # sentence-transformers was loaded to export the model
    assert sorted(p.name for p in next(tmp_path.iterdir()).iterdir()) == ["model.int8.onnx", "model.onnx"]
    reopened = Embedder(onnx_cache_dir=tmp_path)
    assert reopened.model is None
    np.testing.assert_allclose(reopened.embed(texts), embedder.embed(texts), atol=1e-6)
    np.testing.assert_allclose(built.embed(texts), embedder.embed(texts), atol=1e-6)


def test_a_folder_with_modules_beyond_pooling_is_left_to_sentence_transformers(tmp_path):
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((embedded_model_path() / name).read_bytes())
    assert ModelFolder.read(tmp_path) == ModelFolder(tmp_path, "mean", 512)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    assert ModelFolder.read(tmp_path).pooling == "cls"
    modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    assert ModelFolder.read(tmp_path) is None


def test_without_torch_cached_onnx_files_still_embed_and_a_build_says_what_is_missing(embedder, tmp_path):
    script = (
        "import sys\n"
        "sys.modules['torch'] = None  # import torch now fails, as where it is not installed\n"
        "from kb.embedder import Embedder\nfrom kb.errors import ModelError\n"
        "print(Embedder().embed(['光伏组件']).shape)\n"
        "try:\n"
        f"    Embedder(onnx_cache_dir={str(tmp_path)!r})\n"
        "except ModelError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300,
                          check=True)
    shape, message = done.stdout.strip().splitlines()
    assert shape == f"(1, {embedder.dim})"
    assert "must be loaded by sentence-transformers" in message and "building the ONNX files" in message
    assert not any(tmp_path.rglob("*.onnx"))
