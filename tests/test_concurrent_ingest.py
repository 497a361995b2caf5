"""While `kb ingest` replaces an issue in another process, a running server answers every request
from one consistent snapshot (the old version or the new, never a mix of the two) and serves the
newest version without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

from indexer.pipeline import ingest
from web import create_app
from web.server import make_server

from .conftest import copy_of

pytest_plugins = ["tests.two_issues"]

SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"  # the two_issues fixture's
KB_COMMAND = Path(sys.executable).with_name("kb")
VERSIONS = ("示例科技日报", "示例能源日报")  # the perovskite article's source, flipped by each ingest
INGESTS = 4


def get(port: int, **params) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, json.loads(response.read())


def test_searches_during_repeated_ingests_each_see_one_whole_version(two_issues_kb, tmp_path):
    kb = copy_of(two_issues_kb, tmp_path / "data", without=["2025-06-30"])
    data = kb.settings.data_dir
    issue = tmp_path / SECOND_ISSUE.name
    original = SECOND_ISSUE.read_text(encoding="utf-8")
    shutil.copy(SECOND_ISSUE, issue)
    assert ingest(kb, [issue], progress=False).ok  # version 0, embeddings all cached

    server = make_server(create_app(kb=kb), "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    port = server.effective_port
    done = threading.Event()
    seen: list[tuple[str, int, int, frozenset]] = []
    failures: list[str] = []

    def ingester() -> None:
        try:
            for number in range(1, INGESTS + 1):
                issue.write_text(original.replace(VERSIONS[0], VERSIONS[number % 2]), encoding="utf-8")
                result = subprocess.run([str(KB_COMMAND), "ingest", str(issue), "--quiet", "--data-dir", str(data)],
                                        env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                                        timeout=120)
                if result.returncode != 0:
                    failures.append(result.stderr[-1000:])
        finally:
            done.set()

    def client(mode: str) -> None:
        while not done.is_set():
            status, body = get(port, q="钙钛矿叠层电池 空穴传输层", mode=mode, k=30)
            sources = frozenset(hit["article"]["source"] for hit in body.get("results", [])
                                if hit["article"]["source"] in VERSIONS)
            seen.append((mode, status, len(body.get("results", [])), sources))

    threads = [threading.Thread(target=ingester)] + [threading.Thread(target=client, args=(mode,))
                                                     for mode in ("keyword", "hybrid", "hybrid")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert not failures, failures
        assert len(seen) > 10 and all(status == 200 for _, status, _, _ in seen)
        assert all(len(sources) == 1 for *_, sources in seen), "a response mixed two versions"
        for mode in ("keyword", "hybrid"):
            assert len({count for m, _, count, _ in seen if m == mode}) == 1, f"{mode}: hits went missing"
        assert {next(iter(s)) for *_, s in seen} == set(VERSIONS)  # the server followed the ingests
        _, final = get(port, q="钙钛矿叠层电池 空穴传输层", mode="hybrid", k=30)
        assert {hit["article"]["source"] for hit in final["results"]} & set(VERSIONS) == {VERSIONS[INGESTS % 2]}
    finally:
        server.close()
