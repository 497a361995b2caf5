"""`ChunkColumns`: the filterable fields of every chunk of one store generation, as numpy arrays.

Semantic search needs the set of chunks a filter allows before it asks the vector index. Fetching
those rowids from SQLite costs a scan per query (tens of milliseconds at 100k chunks); these
columns are read once per generation and answer any filter combination with a boolean mask in
about a millisecond (`Filters.mask`, kb/filters.py). Their rowids are also the live set the vector index is brought up to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import CODED, day
from .store import Store

@dataclass
class ChunkColumns:
    rowids: np.ndarray  # int64, ascending
    date_start: np.ndarray  # int32 ordinal days of the chunk's issue
    date_end: np.ndarray
    codes: dict[str, np.ndarray]  # field -> int32 code per chunk (-1: no value)
    vocabulary: dict[str, dict[str, int]]  # field -> value -> code
    articles: np.ndarray  # int32 code of each chunk's article (for grouped totals and facets)

    @classmethod
    def load(cls, store: Store) -> "ChunkColumns":
        """One read of every chunk's filter fields (call inside the snapshot being served)."""
        rows = store.filter_rows()
        vocabulary: dict[str, dict[str, int]] = {name: {} for name in CODED}
        days: dict[str, int] = {}
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        date_start = np.fromiter((days.setdefault(r[1], day(r[1])) for r in rows), dtype=np.int32, count=len(rows))
        date_end = np.fromiter((days.setdefault(r[2], day(r[2])) for r in rows), dtype=np.int32, count=len(rows))
        codes = {
            name: np.fromiter(
                (-1 if r[3 + i] is None else vocabulary[name].setdefault(r[3 + i], len(vocabulary[name])) for r in rows),
                dtype=np.int32, count=len(rows),
            )
            for i, name in enumerate(CODED)
        }
        articles: dict[str, int] = {}
        article_codes = np.fromiter((articles.setdefault(r[7], len(articles)) for r in rows), dtype=np.int32,
                                    count=len(rows))
        return cls(rowids, date_start, date_end, codes, vocabulary, article_codes)

    def contains(self, rowids: np.ndarray) -> np.ndarray:
        """Per rowid: is it a chunk of this generation?"""
        rowids = np.asarray(rowids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.rowids, rowids), max(len(self.rowids) - 1, 0))
        return (self.rowids[at] == rowids) if len(self.rowids) else np.zeros(len(rowids), dtype=bool)

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Indexes of the given (live) rowids in these columns."""
        return np.searchsorted(self.rowids, np.asarray(rowids, dtype=np.int64))

    def within(self, rowids: np.ndarray, date_from: str, date_to: str) -> np.ndarray:
        """The given rowids whose issue overlaps [date_from, date_to] (the one date rule of filters)."""
        rowids = np.asarray(rowids, dtype=np.int64)
        at = self.positions(rowids)
        return rowids[(self.date_end[at] >= day(date_from)) & (self.date_start[at] <= day(date_to))]

    def article_count(self, rowids: np.ndarray) -> int:
        return int(len(np.unique(self.articles[self.positions(rowids)]))) if len(rowids) else 0

    def facets(self, rowids: np.ndarray, names: tuple[str, ...], per_article: bool = False) -> dict[str, dict[str, int]]:
        """Counts of each field's values over a match set: passages, or articles when grouped."""
        at = self.positions(rowids)
        out: dict[str, dict[str, int]] = {}
        for name in names:
            codes = self.codes[name][at]
            if per_article:  # an article's passages share its section, source and issue; types may differ
                pairs = np.unique(np.stack([self.articles[at], codes]), axis=1) if len(at) else np.zeros((2, 0), int)
                codes = pairs[1]
            values = {code: value for value, code in self.vocabulary[name].items()}
            counted = np.bincount(codes[codes >= 0], minlength=len(values)) if len(codes) else np.zeros(0, int)
            pairs = [(values[i], int(n)) for i, n in enumerate(counted) if n]
            out[name] = dict(sorted(pairs, key=lambda item: (-item[1], item[0])))
        return out
