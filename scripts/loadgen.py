"""The load test's pieces, for scripts/load_test.py (one server) and scripts/replicas.py (replicas
behind a balancer): the seeded request mix, a keep-alive client per worker thread, the run at a
fixed concurrency, and the table of outcomes. Not a script: the scripts next to it import it.

Each request carries `X-Request-Id: <its index in the plan>`, so a balancer's log can be joined to
the client's outcomes, and each outcome keeps the replica that answered (`X-KB-Replica`, sent by a
`kb serve` given `KB_REPLICA_NAME`) and when it was sent.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from benchlib import LOOPBACK, percentiles, print_table

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
    index: int  # the request's place in the plan, sent as X-Request-Id
    kind: str
    status: int | None  # None: the connection failed
    seconds: float
    started: float = 0.0  # time.perf_counter() when it was sent
    replica: str | None = None  # X-KB-Replica of the answer, when the server names itself


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

    def get(self, index: int, kind: str, path: str) -> Outcome:
        conn = getattr(self.local, "conn", None) or http.client.HTTPConnection(LOOPBACK, self.port,
                                                                                timeout=REQUEST_TIMEOUT)
        self.local.conn = conn
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"X-Request-Id": str(index)})
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
                self.local.conn = None
            return Outcome(index, kind, response.status, time.perf_counter() - started, started,
                           response.getheader("X-KB-Replica"))
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            return Outcome(index, kind, None, time.perf_counter() - started, started)


def run(port: int, requests: list[tuple[str, str]], concurrency: int, max_seconds: float,
        on_outcome: Callable[[Outcome], None] | None = None) -> tuple[list[Outcome], float]:
    """Send the planned requests from `concurrency` threads until done or `max_seconds` ran out;
    `on_outcome` is called in the sending thread after each answer (e.g. to kill a server mid-run)."""
    client = Client(port)
    deadline = time.monotonic() + max_seconds
    outcomes: list[Outcome] = []

    def send(item: tuple[int, tuple[str, str]]) -> Outcome | None:
        if time.monotonic() > deadline:
            return None  # out of time: the rest are not sent
        outcome = client.get(item[0], *item[1])
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = [outcome for outcome in pool.map(send, enumerate(requests)) if outcome is not None]
    return outcomes, time.perf_counter() - started


def status_class(status: int | None) -> str:
    return "conn_err" if status is None else f"{status // 100}xx"


def report(outcomes: list[Outcome], elapsed: float, planned: int, concurrency: int, rss_mb: float | None = None) -> int:
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
    memory = "" if rss_mb is None else f"   server peak RSS (VmHWM): {rss_mb:.0f} MB"
    print(f"5xx: {rows[-1]['5xx']}   connection errors: {rows[-1]['conn_err']}{memory}")
    return failures


