"""Helpers shared by the benchmark scripts: the embedding cache, percentiles, memory, tables, and
`kb serve` subprocesses (and a `milvus-lite server`) on loopback.

The embedding cache (data/bench/embeddings.sqlite3, git-ignored) has the layout of the knowledge
base's own `embeddings` table, so a benchmark that has to build a large index copies the cached
vectors into the new database first; the ingest pipeline then embeds only texts it does not find
there. Not a script: the scripts next to it import it.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import requests

from kb.knowledge_base import KnowledgeBase

EMBED_CACHE = Path("data/bench/embeddings.sqlite3")
CACHE_SCHEMA = (  # kb/store.py's embeddings table, in the attached cache database
    "CREATE TABLE IF NOT EXISTS cache.embeddings (model TEXT NOT NULL, sha TEXT NOT NULL, vector BLOB NOT NULL,"
    " PRIMARY KEY (model, sha)) WITHOUT ROWID"
)
LOOPBACK = "127.0.0.1"


# ---- embedding cache -------------------------------------------------------------------------


def _copy_embeddings(kb: KnowledgeBase, cache: Path, source: str, target: str) -> int:
    """INSERT OR IGNORE the rows of kb.model_name from `source` into `target` ('main' or 'cache')."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    conn = kb.store.connection()
    conn.execute("ATTACH DATABASE ? AS cache", (str(cache),))
    try:
        with conn:
            conn.execute(CACHE_SCHEMA)
            return conn.execute(
                f"INSERT OR IGNORE INTO {target}.embeddings (model, sha, vector)"
                f" SELECT model, sha, vector FROM {source}.embeddings WHERE model = ?",
                (kb.model_name,),
            ).rowcount
    finally:
        conn.execute("DETACH DATABASE cache")


def seed_embedding_cache(kb: KnowledgeBase, cache: Path = EMBED_CACHE) -> int:
    """Copy the cached vectors of kb.model_name into the knowledge base; how many were new there."""
    return _copy_embeddings(kb, cache, source="cache", target="main")


def update_embedding_cache(kb: KnowledgeBase, cache: Path = EMBED_CACHE) -> int:
    """Copy the knowledge base's vectors of kb.model_name into the cache; how many were new there."""
    return _copy_embeddings(kb, cache, source="main", target="cache")


# ---- figures ---------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    """n, mean, p50 and p95 (linear interpolation); NaN figures for no values."""
    if not values:
        return {"n": 0, "mean": float("nan"), "p50": float("nan"), "p95": float("nan")}
    array = np.asarray(values, dtype=float)
    return {"n": len(array), "mean": float(array.mean()), "p50": float(np.percentile(array, 50)),
            "p95": float(np.percentile(array, 95))}


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process; NaN when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(rows: list[dict], columns: list[str]) -> None:
    """A plain-text table: numbers right-aligned, text left-aligned, "-" for a missing value."""
    cells = [[_cell(row.get(column, "-")) for column in columns] for row in rows]
    numeric = [all(isinstance(row.get(column, "-"), (int, float)) or row.get(column, "-") == "-" for row in rows)
               for column in columns]
    widths = [max([_width(column)] + [_width(line[i]) for line in cells]) for i, column in enumerate(columns)]

    def line(values: list[str]) -> str:
        padded = [
            " " * (width - _width(value)) + value if right else value + " " * (width - _width(value))
            for value, width, right in zip(values, widths, numeric)
        ]
        return "  ".join(padded).rstrip()

    print(line(columns))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for values in cells:
        print(line(values))


# ---- a served index --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@contextmanager
def serve_subprocesses(servers: list[tuple[Path, int, dict[str, str]]], threads: int,
                       timeout: float = 180.0) -> Iterator[list[subprocess.Popen]]:
    """`kb serve` on 127.0.0.1 for each (data_dir, port, extra env vars), all started at once (their
    models load side by side), yielded once every /healthz answers; each stopped at exit (one that
    was killed meanwhile is simply reaped)."""
    with ExitStack() as stack:
        started = []
        for data_dir, port, extra_env in servers:
            command = [str(Path(sys.executable).parent / "kb"), "serve", "--data-dir", str(data_dir),
                       "--host", LOOPBACK, "--port", str(port), "--threads", str(threads)]
            env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"), **extra_env}
            log = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            stack.callback(stop, process)
            started.append((process, port, log))
        for process, port, log in started:
            wait_until_answering(process, f"http://{LOOPBACK}:{port}/healthz", timeout, log)
        yield [process for process, _, _ in started]


@contextmanager
def serve_subprocess(data_dir: Path, port: int, threads: int, timeout: float = 180.0,
                     env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`kb serve` on 127.0.0.1:port over data_dir, yielded once /healthz answers; stopped at exit."""
    with serve_subprocesses([(data_dir, port, env or {})], threads, timeout) as (process,):
        yield process


@dataclass
class MilvusServer:
    uri: str  # what KB_MILVUS_URI takes
    process: subprocess.Popen


@contextmanager
def milvus_server(data_dir: Path, timeout: float = 60.0) -> Iterator[MilvusServer]:
    """`milvus-lite server` on a free loopback port over `data_dir`: one process holds the Milvus Lite
    database and serves it to any number of clients (kb serve replicas, kb ingest) over gRPC, as a
    Milvus server would. Yielded once the port accepts connections; stopped at exit."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(data_dir),
               "--host", LOOPBACK, "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"milvus-lite server did not start:\n{log.read().decode(errors='replace')}")
                try:
                    socket.create_connection((LOOPBACK, port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield MilvusServer(f"http://{LOOPBACK}:{port}", process)
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s; a process that already exited is only reaped."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_answering(process: subprocess.Popen, url: str, timeout: float, log) -> None:
    """Until `url` answers; a RuntimeError with the process's output (`log`, a binary file) if it
    exits first or the time runs out."""
    name = Path(process.args[0]).name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read().decode(errors='replace')}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.25)
    raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s")
