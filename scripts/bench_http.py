"""HTTP search throughput and latency of `kb serve` on loopback, at several client concurrencies.

    .venv/bin/python scripts/bench_http.py [--data-dir DIR] [--mode hybrid] [--concurrency 1,8,32]
                                           [--requests 400] [--max-seconds 60] [--threads 4]

Starts `kb serve` as a subprocess on 127.0.0.1 (never another address) over --data-dir, or over
a temporary data dir it builds from corpus/ (vectors from the embedding cache in data/bench/ where
it has them). After one warm-up pass over the queries, each concurrency level sends --requests
GET /api/search requests (or as many as fit in --max-seconds) over a fixed list of Chinese
queries repeated in turn, one keep-alive connection per client thread (the clients of
scripts/loadgen.py), and prints requests/s, p50/p95 latency, non-200 answers and connection
errors, then the server's peak RSS (VmHWM). Target: >= 100 requests/s at concurrency 8 with
0 errors. Client and server share this machine's CPUs. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import requests
from benchlib import (
    LOOPBACK,
    child_peak_rss_mb,
    free_port,
    peak_rss_mb,
    percentiles,
    print_table,
    seed_embedding_cache,
    serve_subprocess,
    update_embedding_cache,
)
from loadgen import run  # bounded keep-alive clients (one http.client connection per thread)

from indexer.pipeline import ingest
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase
from kb.search import MODES

QUERIES = [
    "绿电码头", "钙钛矿", "分布式光伏 自用比例", "组件价格", "内卷式竞争", "碳足迹核算", "可开放容量",
    "光伏玻璃 均价", "TOPCon 电池片 报价", "印尼 组件工厂", "双面率 温度系数", "产业学院 校企合作",
]
TARGET_CONCURRENCY, TARGET_RPS = 8, 100.0


def build_data_dir(corpus: Path, data_dir: Path) -> None:
    kb = KnowledgeBase(Settings.from_env(data_dir=data_dir))
    seed_embedding_cache(kb)
    report = ingest(kb, [corpus], progress=False)
    update_embedding_cache(kb)
    kb.close()
    print(f"built {data_dir} from {corpus}: {report.summary()}")


def level(port: int, paths: list[str], concurrency: int, total: int, max_seconds: float) -> dict:
    """`total` requests over `paths` in turn from `concurrency` threads (fewer if time runs out)."""
    planned = [("search", paths[i % len(paths)]) for i in range(total)]
    outcomes, seconds = run(port, planned, concurrency, max_seconds)
    answered = [o.seconds * 1000 for o in outcomes if o.status is not None]
    figures = percentiles(answered)
    return {"concurrency": concurrency, "requests": len(outcomes), "seconds": seconds,
            "req/s": len(outcomes) / seconds, "p50 ms": figures["p50"], "p95 ms": figures["p95"],
            "non-200": sum(o.status not in (200, None) for o in outcomes),
            "conn errors": sum(o.status is None for o in outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="an index to serve (default: build one from --corpus in a temporary folder)")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="what to index when no --data-dir")
    parser.add_argument("--mode", choices=MODES, default="hybrid")
    parser.add_argument("--k", type=int, default=10, help="results per query")
    parser.add_argument("--concurrency", default="1,8,32", help="client threads per level, comma-separated")
    parser.add_argument("--requests", type=int, default=400, help="requests per level")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap per level")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads of the server")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args()
    levels = [int(value) for value in args.concurrency.split(",")]
    os.environ.pop("KB_RATE_LIMIT_PER_MINUTE", None)  # one client address: a limit would refuse the benchmark

    with ExitStack() as stack:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kb-bench-http-")))
            build_data_dir(args.corpus, data_dir)
        port = args.port or free_port()
        server = stack.enter_context(serve_subprocess(data_dir, port, args.threads))
        base = f"http://{LOOPBACK}:{port}"
        health = requests.get(f"{base}/healthz", timeout=30)
        print(f"kb serve pid {server.pid} on {base}, {args.threads} threads: /healthz {health.status_code}"
              f" {health.json().get('status')}, {health.json().get('vectors')} vectors")
        paths = [f"/api/search?{urlencode({'q': q, 'mode': args.mode, 'k': args.k})}" for q in QUERIES]
        warm = level(port, paths, 1, len(paths), args.max_seconds)
        print(f"warm-up: {warm['requests']} requests ({warm['non-200']} non-200), {warm['seconds']:.1f} s")
        rows = [level(port, paths, concurrency, args.requests, args.max_seconds) for concurrency in levels]
        server_rss = child_peak_rss_mb(server.pid)

    for row in rows:
        if row["concurrency"] == TARGET_CONCURRENCY:
            met = row["req/s"] >= TARGET_RPS and row["non-200"] == row["conn errors"] == 0
            row["target"] = f">= {TARGET_RPS:.0f} req/s, 0 errors: {'yes' if met else 'no'}"
    print(f"\nGET /api/search, mode {args.mode}, k {args.k}, {len(QUERIES)} queries repeated in turn"
          f" (latency of answered requests)")
    print_table(rows, ["concurrency", "requests", "seconds", "req/s", "p50 ms", "p95 ms", "non-200", "conn errors",
                       "target"])
    print(f"\nserver peak RSS (VmHWM): {server_rss:.0f} MB; client peak RSS: {peak_rss_mb():.0f} MB;"
          f" {os.cpu_count()} CPUs shared by client and server")


if __name__ == "__main__":
    main()
