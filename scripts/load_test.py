"""Load test: mixed requests at a fixed concurrency against `kb serve` on loopback.

    python scripts/load_test.py [--data-dir DIR] [--requests 10000] [--concurrency 16] [--max-seconds 300]

Starts `kb serve` as a subprocess on 127.0.0.1 (only loopback: there is no host option) over
--data-dir, or over a temporary index built with `kb ingest corpus --quiet`, then sends a
seeded mix: good searches in every mode with filters, the hostile queries of
tests/data/hostile_queries.json, the search page, issue and article pages, /healthz. It prints
requests/s, p50/p95 latency per kind of request, counts per status class, 5xx and connection
errors, and the server's peak RSS (VmHWM). A benchmark: it asserts nothing, but exits 1 when
any request got a 5xx or a connection error, the two things a client must never see.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from benchlib import LOOPBACK, child_peak_rss_mb, free_port, percentiles, print_table, serve_subprocess

REPO = Path(__file__).resolve().parent.parent
# the same hostile list the tests send (tests/hostile_inputs.py reads this file too)
HOSTILE_QUERIES = [(entry["name"], entry["query_string"]) for entry in
                   json.loads((REPO / "tests" / "data" / "hostile_queries.json").read_text(encoding="utf-8"))]

MODES = ("hybrid", "keyword", "semantic")
GOOD_QUERIES = ("绿电码头", "钙钛矿", "分布式光伏", "可开放容量", "组件价格", "TOPCon 电池", "储能", "硅料",
                "嘉兴 光伏", "自发自用", "perovskite", "green power wharf", "光伏玻璃均价", "海宁市")
FILTERS = ({}, {"date_from": "2025-06-01"}, {"date_to": "2025-12-31"}, {"type": "text"}, {"type": "table_row"},
           {"type": "policy"}, {"section": "行业聚焦"}, {"k": "5"}, {"k": "20", "offset": "10"},
           {"date_from": "2025-06-23", "date_to": "2025-06-29", "k": "3"})
# (kind, share of the requests)
MIX = (("search", 0.40), ("search_page", 0.10), ("hostile", 0.20), ("article", 0.12), ("issue", 0.06),
       ("issues", 0.04), ("healthz", 0.04), ("api_issues", 0.04))
REQUEST_TIMEOUT = 60.0


@dataclass
class Outcome:
    kind: str
    status: int | None  # None: the connection failed
    seconds: float


def build_index(folder: Path) -> Path:
    """A fresh index of corpus/ in `folder`, by the CLI exactly as a user would build one."""
    kb = Path(sys.executable).parent / "kb"
    subprocess.run([str(kb), "ingest", str(REPO / "corpus"), "--data-dir", str(folder), "--quiet"], check=True,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return folder


def discover(port: int) -> tuple[list[str], list[str]]:
    """Issue ids and article ids of the served index, from its own API."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", "/api/issues")
        issues = [issue["id"] for issue in json.loads(conn.getresponse().read())["issues"]]
        articles = []
        for issue in issues:
            conn.request("GET", f"/api/issues/{issue}")
            articles += [entry["article_id"] for entry in json.loads(conn.getresponse().read())["toc"]]
        return issues, articles
    finally:
        conn.close()


def plan(count: int, issues: list[str], articles: list[str], seed: int) -> list[tuple[str, str]]:
    """`count` (kind, path) pairs drawn by the seeded mix."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX)
    requests = []
    for kind in rng.choices(kinds, weights, k=count):
        if kind == "search":
            params = {"q": rng.choice(GOOD_QUERIES), "mode": rng.choice(MODES), **rng.choice(FILTERS)}
            path = f"/api/search?{urlencode(params)}"
        elif kind == "search_page":
            path = f"/search?{urlencode({'q': rng.choice(GOOD_QUERIES), 'mode': rng.choice(MODES)})}"
        elif kind == "hostile":
            _, query_string = rng.choice(HOSTILE_QUERIES)
            prefix = rng.choice(("/api/search", "/api/search", "/search"))
            path = f"{prefix}?{query_string}&mode={rng.choice(MODES)}"
        elif kind == "article":
            path = f"/articles/{quote(rng.choice(articles))}"
        elif kind == "issue":
            path = f"/issues/{quote(rng.choice(issues))}"
        else:
            path = {"issues": "/issues", "healthz": "/healthz", "api_issues": "/api/issues"}[kind]
        requests.append((kind, path))
    return requests


class Client:
    """One keep-alive connection per worker thread, reopened after a failure."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def get(self, kind: str, path: str) -> Outcome:
        conn = getattr(self.local, "conn", None) or http.client.HTTPConnection(LOOPBACK, self.port,
                                                                                timeout=REQUEST_TIMEOUT)
        self.local.conn = conn
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
                self.local.conn = None
            return Outcome(kind, response.status, time.perf_counter() - started)
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            return Outcome(kind, None, time.perf_counter() - started)


def run(port: int, requests: list[tuple[str, str]], concurrency: int, max_seconds: float) -> tuple[list[Outcome], float]:
    client = Client(port)
    deadline = time.monotonic() + max_seconds
    outcomes: list[Outcome] = []

    def send(item: tuple[str, str]) -> Outcome | None:
        if time.monotonic() > deadline:
            return None  # out of time: the rest are not sent
        return client.get(*item)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = [outcome for outcome in pool.map(send, requests) if outcome is not None]
    return outcomes, time.perf_counter() - started


def status_class(status: int | None) -> str:
    return "conn_err" if status is None else f"{status // 100}xx"


def report(outcomes: list[Outcome], elapsed: float, planned: int, concurrency: int, rss_mb: float) -> int:
    """Print the figures; the number of requests that got a 5xx or no answer at all."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    classes = ["2xx", "3xx", "4xx", "429", "5xx", "conn_err"]

    def row(name: str, group: list[Outcome]) -> dict:
        figures = percentiles([o.seconds * 1000 for o in group])
        counts = Counter(status_class(o.status) for o in group)
        counts["429"] = sum(o.status == 429 for o in group)
        counts["4xx"] -= counts["429"]
        return {"kind": name, "requests": len(group), "p50 ms": figures["p50"], "p95 ms": figures["p95"],
                **{c: counts[c] for c in classes}}

    rows = [row(kind, by_kind[kind]) for kind, _ in MIX if by_kind[kind]] + [row("all", outcomes)]
    print_table(rows, ["kind", "requests", "p50 ms", "p95 ms", *classes])
    failures = rows[-1]["5xx"] + rows[-1]["conn_err"]
    print()
    print(f"{len(outcomes):,} of {planned:,} requests in {elapsed:.1f} s at concurrency {concurrency}: "
          f"{len(outcomes) / elapsed:.1f} requests/s")
    print(f"5xx: {rows[-1]['5xx']}   connection errors: {rows[-1]['conn_err']}   server peak RSS (VmHWM): "
          f"{rss_mb:.0f} MB")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="A built index (default: ingest corpus/ "
                        "into a temporary folder).")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="Stop sending after this long.")
    parser.add_argument("--threads", type=int, default=4, help="kb serve --threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.pop("KB_RATE_LIMIT_PER_MINUTE", None)  # one client address: a limit would refuse the test
    with tempfile.TemporaryDirectory(prefix="kb-load-") as scratch:
        data_dir = args.data_dir or build_index(Path(scratch) / "data")
        port = free_port()
        with serve_subprocess(data_dir, port, args.threads) as server:
            issues, articles = discover(port)
            requests = plan(args.requests, issues, articles, args.seed)
            outcomes, elapsed = run(port, requests, args.concurrency, args.max_seconds)
            rss_mb = child_peak_rss_mb(server.pid)
    print(f"kb serve --threads {args.threads} on {LOOPBACK}:{port}, {len(issues)} issues, {len(articles)} articles")
    failures = report(outcomes, elapsed, args.requests, args.concurrency, rss_mb)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
