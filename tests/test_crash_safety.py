"""An ingest killed with SIGKILL at any point leaves a complete, searchable index (the previous one,
or the new one when the kill came after the commit, never a mix), and the next ingest finishes the
job with `kb check` clean. The kill points are `kb.crash.CRASH_POINTS`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.pipeline import ingest
from kb.check import check
from kb.config import Settings
from kb.crash import CRASH_POINTS, ENV_VAR
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchRequest, search

from .conftest import copy_of

pytest_plugins = ["tests.two_issues"]

KB_COMMAND = Path(sys.executable).with_name("kb")
SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"  # the two_issues fixture's
SECOND_ID = "2025-06-30"
COMMITTED_POINTS = {"committed", "vectors_tmp_written", "vectors_renamed"}


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, two_issues_kb) -> Path:
    """An index of the shipped issue only, whose embedding cache still holds the second issue's
    vectors (so an ingest of it in a subprocess needs no model), with its vector index saved."""
    kb = copy_of(two_issues_kb, tmp_path_factory.mktemp("crash_base"), without=[SECOND_ID])
    data = kb.settings.data_dir
    kb.rebuild_vectors()
    kb.close()
    return data


def fresh_copy(base: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(base, data)
    return data


def killed_ingest(data: Path, path: Path, point: str) -> None:
    env = {**os.environ, ENV_VAR: point, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([str(KB_COMMAND), "ingest", str(path), "--quiet", "--data-dir", str(data)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, (point, result.returncode, result.stderr[-2000:])


def state(kb: KnowledgeBase) -> dict:
    """What a reader sees: issues with their article and chunk counts, and every chunk with a vector."""
    conn = kb.store.connection()
    issues = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT i.id, (SELECT count(*) FROM articles a WHERE a.issue_id = i.id),"
        " (SELECT count(*) FROM chunks c WHERE c.issue_id = i.id) FROM issues i")}
    chunk_ids = sorted(r[0] for r in conn.execute("SELECT rowid FROM chunks"))
    assert sorted(kb.vectors.ids().tolist()) == chunk_ids  # every chunk has exactly one vector
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return issues


def top_issue(kb: KnowledgeBase, query: str, mode: str = "hybrid") -> str | None:
    results = search(kb, SearchRequest(query, mode=mode, k=1))["results"]
    return results[0]["issue"]["id"] if results else None


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_an_ingest_killed_while_adding_an_issue_loses_nothing_and_the_next_one_finishes(
    point, base_dir, two_issues_kb, tmp_path
):
    data = fresh_copy(base_dir, tmp_path)
    before = state(KnowledgeBase(Settings(data_dir=data), embedder=two_issues_kb.embedder))
    full = state(two_issues_kb)

    killed_ingest(data, SECOND_ISSUE, point)

    kb = KnowledgeBase(Settings(data_dir=data), embedder=two_issues_kb.embedder)
    after_kill = state(kb)
    assert after_kill == (full if point in COMMITTED_POINTS else before)
    assert top_issue(kb, "绿电码头", "keyword") is not None  # still searchable, both ways
    assert top_issue(kb, "宁波舟山港梅山低碳码头风机并网") is not None

    report = ingest(kb, [SECOND_ISSUE], progress=False)
    assert report.ok, report.failed
    assert state(kb) == full
    assert top_issue(kb, "钙钛矿叠层电池 空穴传输层 自组装分子") == SECOND_ID
    verdict = check(kb)
    assert verdict.ok, verdict.problems


@pytest.mark.parametrize("point", ["in_transaction", "committed", "vectors_renamed"])
def test_an_ingest_killed_while_replacing_a_changed_issue_keeps_one_whole_version(
    point, base_dir, two_issues_kb, tmp_path
):
    data = fresh_copy(base_dir, tmp_path)
    copy = tmp_path / SECOND_ISSUE.name
    shutil.copy(SECOND_ISSUE, copy)
    kb = KnowledgeBase(Settings(data_dir=data), embedder=two_issues_kb.embedder)
    assert ingest(kb, [copy], progress=False).ok
    kb.close()
    copy.write_text(copy.read_text(encoding="utf-8").replace("示例科技日报", "示例能源日报"), encoding="utf-8")

    killed_ingest(data, copy, point)

    kb = KnowledgeBase(Settings(data_dir=data), embedder=two_issues_kb.embedder)
    sources = {r[0] for r in kb.store.connection().execute("SELECT source FROM articles WHERE issue_id = ?",
                                                           (SECOND_ID,))}
    expected = "示例能源日报" if point in COMMITTED_POINTS else "示例科技日报"
    assert expected in sources and len(sources & {"示例科技日报", "示例能源日报"}) == 1
    assert state(kb) == state(two_issues_kb)

    assert ingest(kb, [copy], progress=False).ok
    assert "示例能源日报" in {r[0] for r in kb.store.connection().execute("SELECT source FROM articles")}
    verdict = check(kb)
    assert verdict.ok, verdict.problems
