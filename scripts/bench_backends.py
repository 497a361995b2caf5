"""The two chunk-index backends side by side: the local FTS5 + FAISS pair and Milvus, in one run.

    .venv/bin/python scripts/bench_backends.py [--set archive] [--work /tmp/kb-devsets]
                                               [--milvus-uri URI] [--repeat 3]

One dev set (scripts/devsets.py) is ingested locally, its database copied to a second data dir
whose chunk index is a Milvus collection (Milvus Lite inside that dir unless --milvus-uri names a
server, e.g. `milvus-lite server` on loopback), synced from the copy (so nothing is embedded
twice). Both then answer the set's queries in every mode, uncached (no result cache; each query's
vector is computed once beforehand and shared, so the model's time is in neither figure), and the
script prints per backend and mode: p50/p95 ms of a search, MRR@10 over the answerable queries,
and how many top hits the two backends agree on. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import percentiles, print_table  # noqa: E402
from devsets import DEFAULT_WORK, SETS, ingested  # noqa: E402

from kb.config import Settings  # noqa: E402
from kb.evaluate import load_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.search import MODES, SearchRequest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="archive", choices=sorted(SETS))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--milvus-uri", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    local_dir = ingested(args.set, args.work)
    milvus_dir = args.work / f"{args.set}-milvus"
    shutil.rmtree(milvus_dir, ignore_errors=True)
    milvus_dir.mkdir(parents=True)
    shutil.copy(local_dir / "kb.sqlite3", milvus_dir / "kb.sqlite3")
    base = Settings.from_env(result_cache_size=0)
    local = KnowledgeBase(replace(base, data_dir=local_dir, backend="local"))
    milvus = KnowledgeBase(replace(base, data_dir=milvus_dir, backend="milvus", milvus_uri=args.milvus_uri))
    started = time.perf_counter()
    size = milvus.refresh_vectors().size
    print(f"{args.set}: {size} chunks synced into Milvus ({milvus.milvus_index().kind}) in"
          f" {time.perf_counter() - started:.1f} s")
    queries = [q for q in load_queries(SETS[args.set][1]) if q.answerable]
    for kb in (local, milvus):
        kb.warm()
        for q in queries:  # every query vector computed (and cached) once, outside the timings
            kb.search(SearchRequest(q.query, mode="semantic"))

    rows, tops = [], {}
    for mode in MODES:
        for name, kb in (("local", local), ("milvus", milvus)):
            times, reciprocal, top = [], [], []
            for _ in range(args.repeat):
                times.clear()
                reciprocal.clear()
                top.clear()
                for q in queries:
                    t = time.perf_counter()
                    hits = kb.search(SearchRequest(q.query, mode=mode, k=10, interpret=True))["results"]  # as kb eval
                    times.append((time.perf_counter() - t) * 1000)
                    rank = next((i for i, hit in enumerate(hits, 1) if q.is_relevant(hit)), None)
                    reciprocal.append(1 / rank if rank else 0.0)
                    top.append(hits[0]["id"] if hits else None)
            tops[name, mode] = top
            p = percentiles(times)
            rows.append({"backend": name, "mode": mode, "p50 ms": p["p50"], "p95 ms": p["p95"],
                         "MRR@10": round(sum(reciprocal) / len(reciprocal), 3), "queries": len(queries)})
        same = sum(a == b for a, b in zip(tops["local", mode], tops["milvus", mode]))
        rows[-1]["same top hit"] = f"{same}/{len(queries)}"
    print_table(rows, ["backend", "mode", "p50 ms", "p95 ms", "MRR@10", "same top hit", "queries"])
    local.close()
    milvus.close()


if __name__ == "__main__":
    main()
