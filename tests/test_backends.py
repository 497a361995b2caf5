"""The backend contract, run on both chunk-index backends: the local FTS5 + FAISS pair and a real
Milvus (Milvus Lite, embedded). Ingest, search in every mode with every filter, replace, prune,
check, repair, and a sync killed midway, each asserted on what a user sees."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.pipeline import ingest
from kb.config import Settings
from kb.crash import ENV_VAR, MILVUS_CRASH_POINTS
from kb.errors import BackendError
from kb.filters import Filters
from kb.knowledge_base import KnowledgeBase
from kb.search import MODES, SearchRequest

from .conftest import CORPUS, copy_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from benchlib import free_port, milvus_server, serve_subprocess  # noqa: E402
from replicas import sync_milvus  # noqa: E402

pytest.importorskip("pymilvus", reason="the milvus extra (pip install -e '.[milvus]') is not installed")
pytest_plugins = ["tests.two_issues"]

SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"  # the two_issues fixture's
SECOND_ID = "2025-06-30"
KB_COMMAND = Path(sys.executable).with_name("kb")
BACKENDS = ("local", "milvus")
QUERIES = ("绿电码头", "钙钛矿叠层电池 空穴传输层", "N型致密料均价", "分布式光伏 自发自用比例")


def on(kb: KnowledgeBase, data_dir: Path, backend: str, without=(), **settings) -> KnowledgeBase:
    """A copy of `kb`'s database on the given backend (Milvus Lite inside the data dir)."""
    copied = copy_of(kb, data_dir, without)
    copied.close()
    return KnowledgeBase(replace(copied.settings, backend=backend, **settings), embedder=kb.embedder)


@pytest.fixture(params=BACKENDS)
def backend_kb(request, two_issues_kb, tmp_path):
    """The shipped issue on one backend; the second issue's vectors stay cached (no model needed)."""
    kb = on(two_issues_kb, tmp_path / "data", request.param, without=[SECOND_ID])
    yield kb
    kb.close()


def ids(response: dict) -> list[str]:
    return [hit["id"] for hit in response["results"]]


@pytest.fixture(scope="module")
def milvus_kb(two_issues_kb, tmp_path_factory):
    kb = on(two_issues_kb, tmp_path_factory.mktemp("milvus_kb"), "milvus")
    yield kb
    kb.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", QUERIES)
def test_milvus_finds_the_same_match_set_and_top_hit_as_the_local_index(mode, query, two_issues_kb, milvus_kb):
    local = two_issues_kb.search(SearchRequest(query, mode=mode, k=20, facets=True))
    milvus = milvus_kb.search(SearchRequest(query, mode=mode, k=20, facets=True))
    assert milvus["total"] == local["total"] > 0
    assert milvus["facets"] == local["facets"]
    if local["total"] <= 20:  # the whole match set on the page: the same passages
        assert set(ids(milvus)) == set(ids(local))
    top, expected = milvus["results"][0], local["results"][0]
    assert top["article"] == expected["article"] and top["issue"] == expected["issue"]
    if mode != "keyword":  # Milvus's BM25 weighs the title like the body, FTS5's at half: the
        assert top["id"] == expected["id"]  # best passage of the article may differ in keyword mode


FILTERS = [
    Filters(date_from="2025-06-30"),
    Filters(date_to="2025-06-29"),
    Filters(section="企业动态"),
    Filters(type="table_row"),
    Filters(issue=SECOND_ID),
    Filters(date_from="2025-06-01", date_to="2025-07-06", section="行业聚焦", type="text"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in vars(f).items() if v))
@pytest.mark.parametrize("mode", MODES)
def test_every_filter_holds_on_the_milvus_backend_as_on_the_local_one(filters, mode, two_issues_kb, milvus_kb):
    for query in ("光伏 项目", "电池 组件 价格"):
        request = SearchRequest(query, mode=mode, k=50, filters=filters, min_similarity=0.0)
        local, milvus = two_issues_kb.search(request), milvus_kb.search(request)
        assert set(ids(milvus)) == set(ids(local)) and milvus["total"] == local["total"], (query, mode)
        for hit in milvus["results"]:
            assert not filters.date_from or hit["issue"]["date_end"] >= filters.date_from
            assert not filters.date_to or hit["issue"]["date_start"] <= filters.date_to
            assert not filters.section or hit["article"]["section"] == filters.section
            assert not filters.type or hit["type"] == filters.type
            assert not filters.issue or hit["issue"]["id"] == filters.issue


@pytest.mark.parametrize("value", ['行业"聚焦', "a\\", "x\" or rowid >= 0 or section == \"", "换\n行", "' or 1=1 --"])
def test_a_filter_value_is_data_never_expression_syntax(value, milvus_kb):
    for name in ("section", "source", "issue"):
        response = milvus_kb.search(SearchRequest("光伏", mode="hybrid", filters=Filters(**{name: value})))
        assert response["results"] == [] and response["total"] == 0


def test_replace_and_prune_keep_the_index_exactly_the_store(backend_kb, tmp_path):
    kb = backend_kb
    issue = tmp_path / SECOND_ISSUE.name
    shutil.copy(SECOND_ISSUE, issue)
    assert ingest(kb, [CORPUS, issue], progress=False).ok
    text = issue.read_text(encoding="utf-8")
    assert "钙钛矿" in text
    issue.write_text(text.replace("钙钛矿", "锑化镉"), encoding="utf-8")  # a changed file: replaced
    report = ingest(kb, [CORPUS, issue], progress=False)
    assert report.ok and len(report.replaced) == 1
    assert kb.check().ok, kb.check().problems
    hits = kb.search(SearchRequest("锑化镉", mode="keyword"))["results"]
    assert hits and all(hit["issue"]["id"] == SECOND_ID for hit in hits)
    old = kb.search(SearchRequest("钙钛矿", mode="keyword", filters=Filters(issue=SECOND_ID)))
    assert old["total"] == 0

    issue.unlink()
    report = ingest(kb, [CORPUS], prune=True, progress=False)
    assert report.ok and report.pruned == [SECOND_ID]
    verdict = kb.check()
    assert verdict.ok, verdict.problems
    for mode in MODES:
        response = kb.search(SearchRequest("锑化镉", mode=mode, filters=Filters(issue=SECOND_ID)))
        assert response["results"] == []
    assert kb.search(SearchRequest("绿电码头"))["results"][0]["article"]["title"].endswith("“绿电码头”全面建成投用")


def test_check_names_a_drifted_index_and_repair_restores_it(backend_kb):
    kb = backend_kb
    kb.refresh_vectors()
    assert kb.check().ok
    chunk_rowids = kb.store.chunk_rowids()
    if kb.milvus:  # a row lost, and a row of no chunk, behind the store's back
        index = kb.milvus_index()
        index.client.delete(index.collection, filter=f"rowid in [{chunk_rowids[0]}]")
        row = kb.store.index_rows(kb.model_name, [chunk_rowids[1]], index.dim)[0]
        deleted = kb.store.highest_rowid()  # a chunk of the second issue, deleted from this copy
        assert deleted not in chunk_rowids
        orphan = index._row(row) | {"rowid": deleted}
        index.client.insert(index.collection, [orphan])
        expected = {"milvus_missing", "milvus_orphans"}
    else:  # the FAISS file gone
        kb.settings.vectors_path.unlink()
        expected = {"vectors_unusable"}
    verdict = kb.check()
    assert not verdict.ok and expected <= {p.code for p in verdict.problems}
    repaired = kb.repair()
    assert repaired.ok, repaired.problems
    assert kb.search(SearchRequest("绿电码头", mode="semantic"))["results"]


@pytest.mark.parametrize("point", MILVUS_CRASH_POINTS)
def test_a_writer_killed_mid_sync_leaves_sqlite_whole_and_milvus_repairable(point, two_issues_kb, tmp_path):
    data = tmp_path / "data"
    copy_of(two_issues_kb, data, without=[SECOND_ID]).close()  # the second issue's vectors stay cached
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_BACKEND": "milvus", "KB_DATA_DIR": str(data)}
    first = subprocess.run([str(KB_COMMAND), "ingest", str(CORPUS), "--quiet"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]  # the collection synced with the first issue

    killed = subprocess.run([str(KB_COMMAND), "ingest", str(CORPUS), str(SECOND_ISSUE), "--quiet"],
                            env={**env, ENV_VAR: point}, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    kb = KnowledgeBase(Settings(data_dir=data, backend="milvus"), embedder=two_issues_kb.embedder)
    try:
        assert SECOND_ID in {issue["id"] for issue in kb.catalog().issues()}  # SQLite committed it whole
        verdict = kb.check()
        assert {p.code for p in verdict.problems} >= {"milvus_stale"}, verdict.problems
        repaired = kb.repair()
        assert repaired.ok, repaired.problems
        hits = kb.search(SearchRequest("钙钛矿叠层电池 空穴传输层 自组装分子", mode="keyword"))["results"]
        assert hits and hits[0]["issue"]["id"] == SECOND_ID
    finally:
        kb.close()


def test_a_reader_finishes_an_interrupted_sync_on_its_own(two_issues_kb, tmp_path):
    """A Milvus collection behind the store (a writer killed before recording its generation) is
    brought up to date by the next reader, so searches never miss committed issues."""
    kb = on(two_issues_kb, tmp_path / "data", "milvus", without=[SECOND_ID])
    try:
        kb.refresh_vectors()
        assert ingest(kb, [CORPUS, SECOND_ISSUE], progress=False).ok  # commits, then syncs
        index = kb.milvus_index()
        index.client.delete(index.collection, filter=f"issue == \"{SECOND_ID}\"")
        index.client.alter_collection_properties(index.collection, properties={"kb.generation": "0"})
        kb._view = None  # as a fresh process would: nothing derived kept
        hits = kb.search(SearchRequest("钙钛矿叠层电池 空穴传输层 自组装分子", mode="semantic"))["results"]
        assert hits and hits[0]["issue"]["id"] == SECOND_ID
        assert kb.check().ok
    finally:
        kb.close()


def test_a_bad_backend_setting_is_a_clear_error(tmp_path, embedder):
    with pytest.raises(BackendError, match="KB_BACKEND"):
        KnowledgeBase(Settings(data_dir=tmp_path, backend="elastic"))
    kb = KnowledgeBase(Settings(data_dir=tmp_path, backend="milvus", milvus_uri=str(tmp_path / "milvus")),
                       embedder=embedder)
    with pytest.raises(BackendError, match=r"\.db"):
        kb.milvus_index()


def test_the_cli_on_milvus_lite_gives_the_local_top_hit_and_attribution(corpus_kb, tmp_path):
    """`KB_BACKEND=milvus KB_MILVUS_URI=./kb-milvus.db kb ingest && kb search 绿电码头 --json`."""
    data = tmp_path / "data"
    copy_of(corpus_kb, data).close()  # the vectors are cached: the ingest embeds nothing
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_DATA_DIR": str(data), "KB_BACKEND": "milvus",
           "KB_MILVUS_URI": "./kb-milvus.db"}

    def kb(*args: str) -> str:
        done = subprocess.run([str(KB_COMMAND), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    kb("ingest", str(CORPUS), "--quiet")
    assert (tmp_path / "kb-milvus.db").is_dir() and not (data / "vectors.faiss").exists()
    milvus = json.loads(kb("search", "绿电码头", "--json"))
    local = corpus_kb.search(SearchRequest("绿电码头"))
    assert milvus["total"] == local["total"]
    top, expected = milvus["results"][0], local["results"][0]
    assert (top["id"], top["issue"], top["article"]) == (expected["id"], expected["issue"], expected["article"])
    assert "ok" in kb("check")


def test_an_ingest_that_cannot_open_milvus_writes_nothing_and_says_why(two_issues_kb, tmp_path):
    """Milvus Lite serves one process per database: while this process holds it, `kb ingest` in
    another is refused before it writes a row, with the way out in its message."""
    kb = on(two_issues_kb, tmp_path / "data", "milvus", without=[SECOND_ID])
    try:
        kb.refresh_vectors()  # holds the database's lock
        generation = kb.generation
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_BACKEND": "milvus", "KB_DATA_DIR": str(tmp_path / "data")}
        done = subprocess.run([str(KB_COMMAND), "ingest", str(CORPUS), str(SECOND_ISSUE), "--quiet"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 1 and "milvus-lite server" in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        assert kb.generation == generation and SECOND_ID not in {i["id"] for i in kb.catalog().issues()}
    finally:
        kb.close()


def test_a_milvus_outage_is_a_503_with_retry_after_never_a_500(two_issues_kb, tmp_path):
    """`kb serve` reading a Milvus server (milvus-lite server on loopback) that goes away answers
    searches with 503 + Retry-After (a balancer can route around it, a client retry later)."""
    import requests

    data = tmp_path / "data"
    copy_of(two_issues_kb, data).close()
    with milvus_server(tmp_path / "milvus") as milvus:
        uri = milvus.uri
        assert sync_milvus(data, uri) > 0
        port = free_port()
        with serve_subprocess(data, port, threads=2, env={"KB_BACKEND": "milvus", "KB_MILVUS_URI": uri}):
            base = f"http://127.0.0.1:{port}"
            first = requests.get(f"{base}/api/search", params={"q": "绿电码头"}, timeout=60)
            assert first.status_code == 200 and first.json()["results"]
            health = requests.get(f"{base}/healthz", timeout=60).json()
            assert health["backend"] == "milvus" and health["index_loaded"]
            milvus.process.kill()
            milvus.process.wait()
            for path, params in (("/api/search", {"q": "储能 电站"}), ("/search", {"q": "储能 电站"}),
                                 ("/healthz", {})):
                response = requests.get(f"{base}{path}", params=params, timeout=120)
                assert response.status_code == 503, (path, response.status_code, response.text[:300])
                assert response.headers.get("Retry-After")
            error = requests.get(f"{base}/api/search", params={"q": "光伏 组件"}, timeout=120).json()["error"]
            assert error["code"] == "backend_unavailable" and uri in error["message"]


def test_a_filter_value_with_quotes_and_backslashes_matches_exactly_its_own_rows(tmp_path):
    """The positive side of escaping: a stored value holding the expression's own syntax is found."""
    from kb.milvus_index import MilvusIndex

    index = MilvusIndex.connect(str(tmp_path / "m.db"), "", "escape", "model", 4, "store")
    try:
        values = ['行业"聚焦', "a\\", 'x" or rowid >= 0 or section == "', "plain"]
        rows = [{"rowid": i + 1, "text": "光伏", "dense": [1.0, 0.0, 0.0, float(i)], "date_start": 20250623,
                 "date_end": 20250629, "section": value, "type": "text", "source": value, "issue": value}
                for i, value in enumerate(values)]
        index.client.insert(index.collection, rows)
        index.client.flush(index.collection)
        for i, value in enumerate(values):
            for name in ("section", "source", "issue"):
                found = index.search(np.array([1.0, 0.0, 0.0, 0.0]), 10, Filters(**{name: value}))
                assert [rowid for rowid, _ in found] == [i + 1], (name, value)
                assert [r for r, _ in index.keyword(["光伏"], Filters(**{name: value}), 10)] == [i + 1]
    finally:
        index.close()


def test_rows_of_chunks_the_reader_does_not_know_are_never_hits(two_issues_kb, tmp_path):
    """One collection serves every generation: a row of a chunk newer than this reader's copy of the
    database (a replica's older copy, a thread still on the previous generation) is not a hit, and
    totals, facets and article groups count only the reader's chunks."""
    kb = on(two_issues_kb, tmp_path / "data", "milvus", result_cache_size=0)
    try:
        reference = kb.search(SearchRequest("绿电码头", facets=True, group="article", k=20))
        index = kb.milvus_index()
        wharf = reference["results"][0]["id"]
        rowid = next(r for r in kb.store.chunk_rowids() if kb.store.hit_rows([r])[r]["chunk_id"] == wharf)
        newer = index._row(kb.store.index_rows(kb.model_name, [rowid], index.dim)[0])
        index.client.insert(index.collection, [newer | {"rowid": max(kb.store.chunk_rowids()) + 100}])
        index.client.flush(index.collection)
        for mode in MODES:
            for group in ("article", "none"):  # 2025年6月: a month read as a boost, through ChunkColumns.within
                response = kb.search(SearchRequest("绿电码头 2025年6月", mode=mode, facets=True, group=group, k=20,
                                                   interpret=True))
                known = {row["chunk_id"] for row in kb.store.hit_rows(kb.store.chunk_rowids()).values()}
                assert {hit["id"] for hit in response["results"]} <= known
                assert sum(response["facets"]["issue"].values()) == response["total"]
        again = kb.search(SearchRequest("绿电码头", facets=True, group="article", k=20))
        assert again["total"] == reference["total"] and again["facets"] == reference["facets"]
    finally:
        kb.close()


def test_a_rebuilt_database_never_reads_the_rows_of_the_one_before(two_issues_kb, tmp_path, embedder):
    """Rowids restart in a new database, so a collection synced from another store is re-created."""
    shared = str(tmp_path / "shared-milvus.db")
    first = on(two_issues_kb, tmp_path / "first", "milvus", milvus_uri=shared)
    first.refresh_vectors()
    assert first.milvus_index().size == len(first.store.chunk_rowids())
    first.close()

    rebuilt = KnowledgeBase(Settings(data_dir=tmp_path / "rebuilt", backend="milvus", milvus_uri=shared),
                            embedder=embedder)
    try:
        assert ingest(rebuilt, [CORPUS], progress=False).ok
        assert rebuilt.milvus_index().size == len(rebuilt.store.chunk_rowids())
        assert rebuilt.check().ok, rebuilt.check().problems
        hits = rebuilt.search(SearchRequest("钙钛矿叠层电池 空穴传输层 自组装分子", mode="semantic"))["results"]
        assert all(hit["issue"]["id"] != SECOND_ID for hit in hits)
    finally:
        rebuilt.close()


def test_a_collection_of_text_cut_by_another_segmenter_is_rebuilt(two_issues_kb, tmp_path):
    """The collection's BM25 runs over the segmented text it was sent: when the segmenter changes (its
    rules or the PV dictionary; the store re-segments itself on opening), the collection is re-created
    and synced again, so Milvus never ranks with terms the queries no longer make."""
    kb = on(two_issues_kb, tmp_path / "data", "milvus")
    try:
        kb.refresh_vectors()
        index = kb.milvus_index()
        index.client.alter_collection_properties(index.collection, properties={"kb.segmenter": "an-older-one"})
        expected = ids(kb.search(SearchRequest("新增装机多少GW", mode="keyword")))
    finally:
        kb.close()

    reopened = KnowledgeBase(kb.settings, embedder=two_issues_kb.embedder)
    try:
        index = reopened.milvus_index()
        assert index.size == 0  # re-created: its rows came from another segmenter
        assert ids(reopened.search(SearchRequest("新增装机多少GW", mode="keyword"))) == expected  # synced again
        assert reopened.milvus_index().size == len(reopened.store.chunk_rowids())
        assert reopened.check().ok
    finally:
        reopened.close()
