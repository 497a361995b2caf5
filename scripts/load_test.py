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
import os
import sys
import tempfile
from pathlib import Path

from benchlib import LOOPBACK, child_peak_rss_mb, free_port, serve_subprocess
from loadgen import build_index, discover, plan, report, run


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
