"""What a user waits for before the first answer: cold `kb search` and `kb serve` start.

    .venv/bin/python scripts/bench_cold.py [--data-dir DIR] [--runs 5] [--query 绿电码头]

Over --data-dir (or a temporary one ingested from corpus/), each figure is a median over --runs
fresh processes, so nothing stays in memory between runs (the OS file cache does, as it would for
a user who searched a minute ago):
- the import graph of a hybrid `kb search` (`python -X importtime`), summed per top-level package;
- the wall time and peak RSS of `kb search QUERY` in hybrid, keyword and semantic mode, and the
  hybrid / keyword ratio (target <= 2);
- `kb serve`: seconds from start until /healthz answers, the first /api/search after that, and
  the server's RSS then (targets: ready <= 5 s, RSS <= 400 MB at 1k chunks).
Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import requests
from benchlib import LOOPBACK, child_peak_rss_mb, free_port, print_table

KB = str(Path(sys.executable).parent / "kb")
IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(.*)$")
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def timed_run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one process run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024


def import_graph(data_dir: Path, query: str) -> list[dict]:
    """Self import time per top-level package of one hybrid search, biggest first."""
    command = [sys.executable, "-X", "importtime", "-c", "from cli import main; main()",
               "search", query, "--data-dir", str(data_dir)]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, check=True)
    per_package: dict[str, int] = defaultdict(int)
    for line in result.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            per_package[match.group(3).strip().split(".")[0]] += int(match.group(1))
    total = sum(per_package.values())
    rows = [{"package": name, "self ms": us / 1000} for name, us in sorted(per_package.items(), key=lambda kv: -kv[1])]
    return [*rows[:12], {"package": f"all ({len(per_package)} packages)", "self ms": total / 1000}]


def cold_searches(data_dir: Path, query: str, runs: int) -> list[dict]:
    rows = []
    for mode in ("keyword", "hybrid", "semantic"):
        command = [KB, "search", query, "--mode", mode, "--data-dir", str(data_dir)]
        timed_run(command)  # the OS file cache warm, as for any user after the first search
        walls, rss = zip(*(timed_run(command) for _ in range(runs)))
        rows.append({"kb search": mode, "runs": runs, "wall s p50": statistics.median(walls),
                     "wall s min": min(walls), "peak RSS MB": statistics.median(rss)})
    keyword = rows[0]["wall s p50"]
    for row in rows:
        row["x keyword"] = row["wall s p50"] / keyword
    return rows


def serve_start(data_dir: Path, query: str, runs: int) -> list[dict]:
    ready, first, rss = [], [], []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        process = subprocess.Popen([KB, "serve", "--data-dir", str(data_dir), "--host", LOOPBACK, "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"kb serve exited with {process.returncode}")
                try:
                    requests.get(f"http://{LOOPBACK}:{port}/healthz", timeout=5)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            ready.append(time.perf_counter() - start)
            before = time.perf_counter()
            requests.get(f"http://{LOOPBACK}:{port}/api/search?{urlencode({'q': query})}", timeout=60).raise_for_status()
            first.append((time.perf_counter() - before) * 1000)
            rss.append(child_peak_rss_mb(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=10)
    return [{"kb serve": "hybrid", "runs": runs, "ready s p50": statistics.median(ready),
             "first search ms p50": statistics.median(first), "peak RSS MB": statistics.median(rss)}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="An ingested index (default: corpus/ ingested)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="绿电码头")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(tmp) / "data"
            subprocess.run([KB, "ingest", "--quiet", "--data-dir", str(data_dir)], env=ENV, check=True)
        print(f"index {data_dir}, query {args.query!r}, {args.runs} runs each, {os.cpu_count()} CPUs\n")
        print_table(import_graph(data_dir, args.query), ["package", "self ms"])
        print()
        print_table(cold_searches(data_dir, args.query, args.runs),
                    ["kb search", "runs", "wall s p50", "wall s min", "x keyword", "peak RSS MB"])
        print()
        print_table(serve_start(data_dir, args.query, args.runs),
                    ["kb serve", "runs", "ready s p50", "first search ms p50", "peak RSS MB"])


if __name__ == "__main__":
    main()
