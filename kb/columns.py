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
        return cls(rowids, date_start, date_end, codes, vocabulary)
