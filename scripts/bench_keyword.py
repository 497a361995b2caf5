"""Keyword top-k: FTS5's bm25 ranking against the generation's keyword ranker (kb/keyword_index.py).

    .venv/bin/python scripts/bench_keyword.py [--data-dir data/bench/search-recombined-100000] [--repeat 3]

Over an index built by scripts/bench_search.py, with its queries and filters and its term
weighting (terms in half the chunks or more left out), each query is ranked twice: by
`Store.keyword_search` (FTS5 scores every chunk holding a term, `bm25(chunks_fts, 0.5, 1.0)`)
and by `KeywordIndex.search` (postings concatenated once per generation from the per-chunk term
statistics, BM25 computed at query time with FTS5's formula). Prints the ranker's build time
from the stored statistics, the largest |score difference| and how many result lists differ in
any rowid or order, how many query runs were left to FTS5 (a term of several FTS5 tokens), and
p50/p95 of both with and without filters. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_search import FILTERS, QUERIES
from benchlib import percentiles, print_table

from kb.columns import ChunkColumns
from kb.config import Settings
from kb.keyword_index import KeywordIndex
from kb.knowledge_base import KnowledgeBase
from kb.search import weighted_terms
from kb.segment import match_expression, query_terms
from kb.filters import Filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/bench/search-recombined-100000"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(data_dir=args.data_dir, result_cache_size=0))
    with kb.snapshot():
        columns = ChunkColumns.load(kb.store)
        started = time.perf_counter()
        index = KeywordIndex.build(kb.store, columns)
        build_s = time.perf_counter() - started
    rows, worst, differ, left_to_fts, runs = [], 0.0, 0, 0, 0
    for name, fields in FILTERS.items():
        filters = Filters(**fields)
        fts, ranker = [], []
        for _ in range(args.repeat):
            for query in QUERIES:
                terms = weighted_terms(kb, query_terms(query))
                started = time.perf_counter()
                expected = kb.store.keyword_search(match_expression(terms), filters, 200)
                fts.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                found = index.search(terms, filters, 200)
                ranker.append((time.perf_counter() - started) * 1000)
                runs += 1
                left_to_fts += index.tokens(terms) is None
                differ += [r for r, _ in found[0]] != [r for r, _ in expected[0]] or found[1] != expected[1]
                if expected[0] and len(found[0]) == len(expected[0]):
                    worst = max(worst, float(np.abs(np.array([s for _, s in found[0]]) -
                                                    np.array([s for _, s in expected[0]])).max()))
        for name_, times in (("FTS5 bm25", fts), ("keyword index", ranker)):
            stats = percentiles(times)
            rows.append({"ranker": name_, "filters": name, "p50 ms": stats["p50"], "p95 ms": stats["p95"]})
    print(f"{args.data_dir}: {len(columns.rowids):,} chunks; keyword index built in {build_s:.2f} s from the stored"
          f" statistics ({len(index.docs):,} postings); largest |score difference| {worst:.1e}; {differ} of {runs}"
          f" result lists differ; {left_to_fts} query runs left to FTS5 (a multi-token term)")
    print_table(rows, ["ranker", "filters", "p50 ms", "p95 ms"])
    kb.close()


if __name__ == "__main__":
    main()
