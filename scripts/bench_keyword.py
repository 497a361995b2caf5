"""Keyword top-k: FTS5's bm25 ranking against the same BM25 as a sparse term x chunk matrix.

    .venv/bin/python scripts/bench_keyword.py [--data-dir data/bench/search-recombined-10000] [--repeat 3]

The candidate for issue 14's "keyword top-k without scoring every match": a per-generation
matrix whose cells hold each term's whole contribution to FTS5's
`bm25(chunks_fts, title weight, body weight)`:

    idf(t) * f(t, d) * (k1 + 1) / (f(t, d) + k1 * (1 - b + b * |d| / avgdl))

with f the column-weighted count of t in d, |d| the tokens of all columns, k1 1.2, b 0.75, and
idf log((N - n + 0.5) / (n + 0.5)) floored at 1e-6 (FTS5's fts5_rank.c). It is built from FTS5's
own tokens (an fts5vocab instance table), so a query's scores equal FTS5's bm25 values; a query
term FTS5 would read as a phrase of several tokens is left to FTS5. Prints the build time, the
largest score difference, and p50/p95 of both over bench_search.py's queries and filters, with
bench_search's term weighting (terms in half the chunks or more left out). Asserts nothing.

Why it is not in kb/: reading FTS5's tokens back costs ~14 us a token occurrence (2.6 s at 1k
chunks, minutes at 100k), re-tokenising the stored text in Python ~5 us (0.9 s at 1k), so a
rebuild per generation is far from "seconds at 100k"; it would need the matrix kept per issue
and merged, with its own crash-safe file. The figures are in the README's Performance section.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import numpy as np
from bench_search import FILTERS, QUERIES
from benchlib import percentiles, print_table

from kb.config import Settings
from kb.knowledge_base import KnowledgeBase
from kb.search import weighted_terms
from kb.segment import match_expression, query_terms
from kb.filters import Filters
from kb.store import BM25_WEIGHTS

K1, B = 1.2, 0.75


class KeywordIndex:
    """BM25 of one store generation as CSR rows: term -> (chunk positions, score contributions)."""

    def __init__(self, vocabulary: dict[str, int], starts: np.ndarray, docs: np.ndarray, scores: np.ndarray,
                 rowids: np.ndarray):
        self.vocabulary = vocabulary  # FTS5 token -> row of the matrix
        self.starts = starts  # CSR row offsets into docs/scores
        self.docs = docs  # int32 positions into rowids
        self.scores = scores  # float64: bm25 contributions, positive
        self.rowids = rowids  # ascending: the chunks of the generation

    @classmethod
    def build(cls, conn: sqlite3.Connection, rowids: np.ndarray, weights: tuple[float, float]) -> "KeywordIndex":
        """From FTS5's tokens of the chunks_fts table (call inside the snapshot being served)."""
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_fts_instance USING fts5vocab(main, chunks_fts, instance)")
        # one row per token occurrence, ordered by term then doc (a GROUP BY in SQLite sorts: 25x slower)
        vocabulary: dict[str, int] = {}
        term_ids, doc_ids, in_body = [], [], []
        last, current = None, -1
        for term, doc, column in conn.execute("SELECT term, doc, col FROM temp.chunks_fts_instance"):
            if term != last:
                last, current = term, len(vocabulary)
                vocabulary[term] = current
            term_ids.append(current)
            doc_ids.append(doc)
            in_body.append(column == "body")
        term_ids = np.asarray(term_ids, dtype=np.int64)
        positions = np.searchsorted(rowids, np.asarray(doc_ids, dtype=np.int64)).astype(np.int32)
        counts = np.ones(len(positions))
        weighted = np.where(np.asarray(in_body, dtype=bool), weights[1], weights[0])
        lengths = np.bincount(positions, minlength=len(rowids)).astype(np.float64)
        # one (term, doc) cell: sum the per-column rows of the same term and doc (rows come term, doc ordered)
        cell_start = np.flatnonzero(np.r_[True, (term_ids[1:] != term_ids[:-1]) | (positions[1:] != positions[:-1])])
        cell_terms, cell_docs = term_ids[cell_start], positions[cell_start]
        frequency = np.add.reduceat(weighted, cell_start) if len(weighted) else weighted
        documents = len(rowids)
        average = lengths.sum() / documents if documents else 1.0
        n = np.bincount(cell_terms, minlength=len(vocabulary)).astype(np.float64)
        idf = np.maximum(np.log((documents - n + 0.5) / (n + 0.5)), 1e-6)
        scores = idf[cell_terms] * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * lengths[cell_docs] / average))
        starts = np.searchsorted(cell_terms, np.arange(len(vocabulary) + 1))
        return cls(vocabulary, starts, cell_docs, scores, rowids)

    def rank(self, terms: list[str], limit: int, allowed: np.ndarray | None = None) -> tuple[list[tuple[int, float]], int] | None:
        """(rowid, bm25) best first, as FTS5 orders `MATCH "t1" OR "t2" ...` (bm25 negative, lower
        better; ties by rowid), and the size of the match set; only among `allowed` rowids if given.
        None when a term is not a single FTS5 token (FTS5 must answer)."""
        rows = [self.vocabulary.get(term) for term in dict.fromkeys(_fts_token(t) for t in terms)]
        if not rows or any(row is None for row in rows):
            return None
        docs = np.concatenate([self.docs[self.starts[r] : self.starts[r + 1]] for r in rows])
        scores = np.concatenate([self.scores[self.starts[r] : self.starts[r + 1]] for r in rows])
        if allowed is not None:
            mask = np.zeros(len(self.rowids), dtype=bool)
            mask[np.searchsorted(self.rowids, allowed)] = True
            keep = mask[docs]
            docs, scores = docs[keep], scores[keep]
        matched, inverse = np.unique(docs, return_inverse=True)
        totals = np.bincount(inverse, weights=scores, minlength=len(matched))
        if len(matched) > limit:
            top = np.argpartition(-totals, limit - 1)[:limit]
        else:
            top = np.arange(len(matched))
        top = top[np.lexsort((matched[top], -totals[top]))]
        return [(int(self.rowids[matched[i]]), -float(totals[i])) for i in top], len(matched)


def _fts_token(term: str) -> str:
    """The term as FTS5's unicode61 tokenizer (remove_diacritics 2) would index it, if it is one token:
    folded to lower case; a term it would split keeps a separator, so it is in no vocabulary."""
    folded = term.lower()
    return folded if folded.isalnum() else f" {folded}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/bench/search-recombined-10000"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(data_dir=args.data_dir, result_cache_size=0))
    columns = kb.view().columns
    started = time.perf_counter()
    index = KeywordIndex.build(kb.store.connection(), columns.rowids, BM25_WEIGHTS)
    build_s = time.perf_counter() - started
    rows, worst, left_to_fts = [], 0.0, 0
    for name, fields in FILTERS.items():
        filters = Filters(**fields)
        allowed = filters.mask(columns)
        fts, sparse = [], []
        for _ in range(args.repeat):
            for query in QUERIES:
                terms = weighted_terms(kb, query_terms(query))
                started = time.perf_counter()
                expected, expected_total = kb.store.keyword_search(match_expression(terms), filters, 200)
                fts.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                found = index.rank(terms, 200, filters.mask(columns) if allowed is not None else None)
                sparse.append((time.perf_counter() - started) * 1000)
                if found is None:
                    left_to_fts += 1
                    continue
                if found[1] != expected_total or len(found[0]) != len(expected):
                    raise SystemExit(f"{query!r} ({name}): {found[1]} matches, FTS5 {expected_total}")
                if expected:
                    worst = max(worst, float(np.abs(np.array([s for _, s in found[0]]) -
                                                    np.array([s for _, s in expected])).max()))
        for ranker, times in (("FTS5 bm25", fts), ("sparse matrix", sparse)):
            stats = percentiles(times)
            rows.append({"ranker": ranker, "filters": name, "p50 ms": stats["p50"], "p95 ms": stats["p95"]})
    chunks = len(columns.rowids)
    print(f"{args.data_dir}: {chunks:,} chunks; sparse matrix built in {build_s:.2f} s ({len(index.docs):,} cells);"
          f" largest |score difference| {worst:.1e}; {left_to_fts} query runs left to FTS5 (a multi-token term)")
    print_table(rows, ["ranker", "filters", "p50 ms", "p95 ms"])
    kb.close()


if __name__ == "__main__":
    main()
