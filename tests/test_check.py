"""`kb check` finds every way the derived parts (FTS rows, embeddings, the FAISS file, temporary
files) can disagree with the chunks, and `--repair` rebuilds them from SQLite."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from kb.check import repair
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchRequest, search

from .conftest import copy_of


@pytest.fixture
def copy_kb(corpus_kb, tmp_path) -> KnowledgeBase:
    kb = copy_of(corpus_kb, tmp_path / "data")
    kb.rebuild_vectors()
    return kb


def dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def cli_check(kb: KnowledgeBase) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", "--json", "--data-dir", str(kb.settings.data_dir)])
    return result.exit_code, json.loads(result.output)


def codes(report: dict) -> set[str]:
    return {problem["code"] for problem in report["problems"]}


def test_a_fresh_index_checks_clean(copy_kb):
    exit_code, report = cli_check(copy_kb)
    assert exit_code == 0 and report["ok"]
    assert report["counts"] == {"chunks": 44, "fts_rows": 44, "vectors": 44}


def test_check_names_each_disagreement_and_repair_rebuilds_them(copy_kb):
    conn = copy_kb.store.connection()
    with conn:
        conn.execute("DELETE FROM chunks_fts WHERE rowid IN (3, 4)")
        conn.execute("INSERT INTO chunks_fts (rowid, title, body) VALUES (99999, 'x', 'y')")
        conn.execute("DELETE FROM embeddings WHERE sha = (SELECT embed_sha FROM chunks WHERE rowid = 5)")
    leftover = copy_kb.settings.vectors_path.with_name(f"vectors.faiss.{dead_pid()}-1.tmp")
    leftover.write_bytes(b"half a file")

    exit_code, report = cli_check(copy_kb)
    assert exit_code == 1
    assert codes(report) == {"fts_missing", "fts_orphans", "embeddings_missing", "temporary_files"}

    repaired = repair(copy_kb)
    assert repaired.ok, repaired.problems
    assert not leftover.exists()
    assert any("1 computed" in line for line in repaired.repaired)
    exit_code, report = cli_check(copy_kb)
    assert exit_code == 0 and report["counts"] == {"chunks": 44, "fts_rows": 44, "vectors": 44}
    chunk_text = conn.execute("SELECT text FROM chunks WHERE rowid = 3").fetchone()[0]
    hits = search(copy_kb, SearchRequest(chunk_text[:40], mode="keyword", k=3))["results"]
    assert any(hit["text"] == chunk_text for hit in hits)  # the re-added FTS row is searchable


@pytest.mark.parametrize("damage", ["garbage", "missing", "other_sidecar"])
def test_an_unusable_vector_file_is_reported_and_rebuilt(copy_kb, damage):
    path: Path = copy_kb.settings.vectors_path
    if damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    elif damage == "missing":
        path.unlink()
    else:  # a sidecar written for another set of vectors (a crash between the two renames)
        sidecar = path.with_suffix(".json")
        meta = json.loads(sidecar.read_text())
        sidecar.write_text(json.dumps(meta | {"ids": "0" * 64}))

    exit_code, report = cli_check(copy_kb)
    assert exit_code == 1 and codes(report) == {"vectors_unusable"}
    assert repair(copy_kb).ok
    assert cli_check(copy_kb)[0] == 0


def test_a_stale_vector_index_is_reported(copy_kb):
    with copy_kb.store.connection() as conn:
        copy_kb.store.bump_generation(conn)
    exit_code, report = cli_check(copy_kb)
    assert exit_code == 1 and codes(report) == {"vectors_stale"}
    assert repair(copy_kb).ok
