"""`ChunkColumns`: the filterable fields of every chunk of one store generation, as numpy arrays.

Semantic search needs the set of chunks a filter allows before it asks the vector index. Fetching
those rowids from SQLite costs a scan per query (tens of milliseconds at 100k chunks); these
columns are read once per generation and answer any filter combination with a boolean mask in
about a millisecond. Their rowids are also the live set the vector index is brought up to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .store import HIT_JOINS, Filters, Store

CODED = ("section", "type", "source", "issue")  # Filters fields matched by equality


def _day(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


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
        rows = store.connection().execute(
            f"SELECT c.rowid, i.date_start, i.date_end, a.section, c.type, a.source, i.id"
            f" FROM chunks c {HIT_JOINS} ORDER BY c.rowid"
        ).fetchall()
        vocabulary: dict[str, dict[str, int]] = {name: {} for name in CODED}
        days: dict[str, int] = {}
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        date_start = np.fromiter((days.setdefault(r[1], _day(r[1])) for r in rows), dtype=np.int32, count=len(rows))
        date_end = np.fromiter((days.setdefault(r[2], _day(r[2])) for r in rows), dtype=np.int32, count=len(rows))
        codes = {
            name: np.fromiter(
                (-1 if r[3 + i] is None else vocabulary[name].setdefault(r[3 + i], len(vocabulary[name])) for r in rows),
                dtype=np.int32, count=len(rows),
            )
            for i, name in enumerate(CODED)
        }
        return cls(rowids, date_start, date_end, codes, vocabulary)

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Rowids (ascending) of the chunks the filters allow; None when nothing is filtered."""
        if not filters:
            return None
        mask = np.ones(len(self.rowids), dtype=bool)
        if filters.date_from is not None:
            mask &= self.date_end >= _day(filters.date_from)
        if filters.date_to is not None:
            mask &= self.date_start <= _day(filters.date_to)
        for name in CODED:
            value = getattr(filters, name)
            if value is not None:
                code = self.vocabulary[name].get(value)
                if code is None:
                    return self.rowids[:0]
                mask &= self.codes[name] == code
        return self.rowids[mask]
