"""Where a search's time goes: the median milliseconds of each stage of kb/search.py, per mode and filter.

    .venv/bin/python scripts/bench_stages.py [--data-dir data/bench/search-recombined-100000] [--repeat 3]
                                             [--modes keyword,hybrid] [--filters none,date]

Over an index built by scripts/bench_search.py, with bench_search's queries and filters, each
stage search() calls is wrapped with a timer (nothing in kb/ changes): the query embedding, the
keyword share of every matching chunk (kb.matching.keyword_shares: document frequencies and
posting lists), the term weighting, the keyword ranker (the generation's KeywordIndex.search, or
store.keyword_search where FTS5 ranks), the vector search,
the stored cosines of keyword hits the vector leg missed (kb.cosines), the hit rows, the phrase
share, the recurring-report order, duplicate folding and its references, facets, highlighting.
A stage's time is its own: the stages it calls (the postings keyword_shares reads, the hit rows
duplicate_refs reads) count apart. Per query the stage times are summed; the table gives each
stage's median over the queries, the
whole search's median (took_ms), and what the named stages leave (the rest: fusion, sorting,
the match-set rules, the contract). Every search is computed (no kept answers) and every query
embedding is uncached, as in bench_search.py. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from bench_search import FILTERS, QUERIES
from benchlib import print_table

import kb.search as pipeline
from kb.columns import ChunkColumns
from kb.config import Settings
from kb.embedder import Embedder
from kb.filters import Filters
from kb.keyword_index import KeywordIndex
from kb.knowledge_base import KnowledgeBase
from kb.vector_index import VectorIndex

SPENT: dict[str, float] = defaultdict(float)  # stage -> ms of its own (the stages it calls not counted)
INNER: list[float] = []  # per running stage, the ms spent in the stages it called


def timed(name: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        INNER.append(0.0)
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            SPENT[name] += elapsed - INNER.pop()
            if INNER:
                INNER[-1] += elapsed

    return wrapper


def instrument(kb: KnowledgeBase) -> None:
    """Wrap each stage where search() looks it up: module globals of kb.search, methods of the
    store, the knowledge base, the embedder and the vector index."""
    for name in ("keyword_shares", "weighted_terms", "phrase_share", "newest_first", "group_duplicates",
                 "duplicate_refs", "highlight", "interpret", "expand_query", "query_terms"):
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    store = kb.store
    for name in ("keyword_search", "hit_rows", "document_frequencies", "postings"):
        setattr(store, name, timed(name, getattr(store, name)))
    for name in ("search", "postings", "document_frequencies"):  # the generation's keyword ranker
        setattr(KeywordIndex, name, timed(f"keywords.{name}", getattr(KeywordIndex, name)))
    kb.cosines = timed("cosines", kb.cosines)
    kb.embedder.embed_query = timed("embed_query", kb.embedder.embed_query)
    VectorIndex.search = timed("vector_search", VectorIndex.search)
    ChunkColumns.facets = timed("facets", ChunkColumns.facets)


STAGES = ["embed_query", "keyword_shares", "document_frequencies", "postings", "keywords.postings",
          "keywords.document_frequencies", "weighted_terms", "keyword_search", "keywords.search",
          "vector_search", "cosines", "hit_rows", "phrase_share", "newest_first", "group_duplicates",
          "duplicate_refs", "facets", "highlight", "interpret", "query_terms", "expand_query"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/bench/search-recombined-100000"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="keyword,hybrid")
    parser.add_argument("--filters", default="none,date")
    parser.add_argument("--facets", action="store_true", help="ask for facets too (the search page does)")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, result_cache_size=0)
    kb = KnowledgeBase(settings, embedder=Embedder(settings.model, cache_size=0))
    kb.warm()
    instrument(kb)
    rows = []
    for mode in args.modes.split(","):
        for filter_name in args.filters.split(","):
            per_query: dict[str, list[float]] = defaultdict(list)
            for _ in range(args.repeat):
                for query in QUERIES:
                    SPENT.clear()
                    request = pipeline.SearchRequest(query, mode=mode, k=10, filters=Filters(**FILTERS[filter_name]),
                                                     facets=args.facets)
                    took = pipeline.search(kb, request)["took_ms"]
                    per_query["total"].append(took)
                    for stage in STAGES:
                        per_query[stage].append(SPENT.get(stage, 0.0))
                    per_query["rest"].append(took - sum(SPENT.values()))
            row = {"mode": mode, "filters": filter_name, "total": round(float(np.median(per_query["total"])), 2)}
            for stage in [*STAGES, "rest"]:
                value = float(np.median(per_query[stage]))
                if value >= 0.005 or stage == "rest":
                    row[stage] = round(value, 2)
            rows.append(row)
    columns = ["mode", "filters", "total"] + [s for s in [*STAGES, "rest"] if any(s in r for r in rows)]
    print(f"{args.data_dir}: {len(kb.view().columns.rowids):,} chunks; median ms per query over"
          f" {len(QUERIES)} queries x {args.repeat}; each stage's own time (a stage it calls counts apart)")
    print_table([{c: r.get(c, "") for c in columns} for r in rows], columns)
    kb.close()


if __name__ == "__main__":
    main()
