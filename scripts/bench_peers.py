"""This project's keyword / semantic / hybrid search beside jieba + bm25s and txtai's hybrid search,
in one process, on the same chunks and the same labelled queries: p50/p95 ms and MRR@10.

    bash scripts/setup_bench_env.sh        # once: .venv-bench = the product's .venv + bm25s, txtai
    .venv-bench/bin/python scripts/bench_peers.py [--corpus DIR] [--queries FILE ...] [--max-queries 600]
                                                  [--systems kb-keyword,kb-semantic,kb-hybrid,bm25s,txtai]

bm25s and txtai are benchmark tools, not dependencies of the product, so they live in their own
environment (scripts/setup_bench_env.sh: a venv that sees the product's .venv through a .pth file
and adds only bm25s and txtai). The corpus (default: the CMRC 2018 dev benchmark, 84 issues) is
ingested by this project's pipeline into a temporary data dir (vectors from the embedding cache
in data/bench/ where it has them); the peers then index the very chunks of that store:
- bm25s: the chunk and its article title segmented by this project's segmenter (jieba and the PV
  dictionary), BM25 (Lucene variant, bm25s defaults), the query segmented the same way;
- txtai: `Embeddings(hybrid=True)` over the text the model sees (title + chunk) with m3e-small
  from the same folder (txtai runs it in torch via sentence-transformers; its BM25 side uses its
  default Unicode word segmentation), defaults otherwise.
This project runs as `kb serve` would, answers uncached (no result cache, no query-vector cache).
Each system answers every query once before the timed pass. A hit is relevant by kb/evaluate.py's
rule (its article title contains the label's article, its text every `contains` string).
Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchlib import percentiles, print_table, seed_embedding_cache, update_embedding_cache

from indexer.pipeline import ingest
from kb.config import Settings
from kb.evaluate import CUTOFF, LabelledQuery, load_queries
from kb.knowledge_base import KnowledgeBase
from kb.models import embedding_text
from kb.search import SearchRequest, search
from kb.segment import terms
from kb.embedder import Embedder, embedded_model_path

ROOT = Path(__file__).resolve().parents[1]
CMRC = ROOT.parent / "shared" / "benchmarks" / "cmrc2018-dev"
SYSTEMS = ["kb-keyword", "kb-semantic", "kb-hybrid", "bm25s", "txtai"]

Search = Callable[[str], list[dict]]  # query -> top hits as {"text", "article": {"title"}}


def store_chunks(kb: KnowledgeBase) -> list[dict]:
    """Every chunk of the store with its article title, as the peers index them."""
    rows = kb.store.connection().execute(
        "SELECT c.rowid, c.text, a.title FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.rowid")
    return [{"rowid": r[0], "text": r[1], "article": {"title": r[2]}} for r in rows]


def kb_search(kb: KnowledgeBase, mode: str) -> Search:
    return lambda query: search(kb, SearchRequest(query, mode=mode, k=CUTOFF))["results"]


def bm25s_search(chunks: list[dict]) -> Search:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([terms(c["article"]["title"]) + terms(c["text"]) for c in chunks], show_progress=False)

    def run(query: str) -> list[dict]:
        tokens = [t for t in terms(query) if t in retriever.vocab_dict]
        if not tokens:
            return []
        found = retriever.retrieve([tokens], k=min(CUTOFF, len(chunks)), show_progress=False, n_threads=0)
        return [chunks[i] for i, score in zip(found.documents[0], found.scores[0]) if score > 0]

    return run


def txtai_search(chunks: list[dict]) -> Search:
    from txtai import Embeddings

    embeddings = Embeddings(path=str(embedded_model_path()), hybrid=True)
    embeddings.index([(i, embedding_text(c["article"]["title"], c["text"]), None) for i, c in enumerate(chunks)])
    return lambda query: [chunks[int(i)] for i, _ in embeddings.search(query, CUTOFF)]


def measure(run: Search, queries: list[LabelledQuery]) -> dict:
    for query in queries:  # warm: model loads, caches of the peers' own
        run(query.query)
    times, reciprocal, first = [], [], []
    for query in queries:
        started = time.perf_counter()
        hits = run(query.query)
        times.append((time.perf_counter() - started) * 1000)
        rank = next((i for i, hit in enumerate(hits[:CUTOFF], start=1) if query.is_relevant(hit)), None)
        reciprocal.append(1 / rank if rank else 0.0)
        first.append(rank == 1)
    stats = percentiles(times)
    return {"p50 ms": stats["p50"], "p95 ms": stats["p95"], "MRR@10": statistics.mean(reciprocal),
            "hit@1": statistics.mean(first)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CMRC / "corpus")
    parser.add_argument("--queries", type=Path, nargs="+", default=[CMRC / "queries.jsonl"])
    parser.add_argument("--max-queries", type=int, default=600, help="an evenly spaced subset of the queries")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()
    systems = args.systems.split(",")
    queries = [q for path in args.queries for q in load_queries(path)]
    if len(queries) > args.max_queries:
        queries = [queries[int(i)] for i in np.linspace(0, len(queries) - 1, args.max_queries)]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        settings = Settings(data_dir=Path(tmp), result_cache_size=0)
        kb = KnowledgeBase(settings, embedder=Embedder(settings.model, cache_size=0))
        seed_embedding_cache(kb)
        report = ingest(kb, [args.corpus], progress=False)
        update_embedding_cache(kb)
        chunks = store_chunks(kb)
        print(f"{args.corpus}: {report.summary()}; {len(chunks):,} chunks, {len(queries):,} queries", file=sys.stderr)
        builders: dict[str, Callable[[], Search]] = {
            "kb-keyword": lambda: kb_search(kb, "keyword"), "kb-semantic": lambda: kb_search(kb, "semantic"),
            "kb-hybrid": lambda: kb_search(kb, "hybrid"), "bm25s": lambda: bm25s_search(chunks),
            "txtai": lambda: txtai_search(chunks),
        }
        rows = []
        for name in systems:
            started = time.perf_counter()
            run = builders[name]()
            build_s = time.perf_counter() - started
            rows.append({"system": name, "index s": build_s, **measure(run, queries)})
            print(f"{name}: {rows[-1]}", file=sys.stderr)
        kb.close()
    print(f"{len(chunks):,} chunks of {args.corpus}, {len(queries):,} queries, one process, one query at a time")
    print_table(rows, ["system", "index s", "p50 ms", "p95 ms", "MRR@10", "hit@1"])


if __name__ == "__main__":
    main()
