"""Search filters: parsed and validated once, then rendered as SQL conditions or as a numpy mask.

The one date rule lives here: an issue matches [date_from, date_to] when its own date range
overlaps it (`date_end >= date_from` and `date_start <= date_to`). Keyword search and the
tables/prices/policies reads render it as SQL (`where`, `issue_range`); semantic search renders
it as a boolean mask over the chunk columns of one store generation (`mask`). Dates are taken as
YYYY-MM-DD, or YYYY-MM meaning the month's first day (date_from) or last day (date_to); the CLI,
the search page, the JSON API and the data endpoints all parse them with `parse_dates`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Protocol

import numpy as np

from .errors import QueryError
from .models import CHUNK_TYPES

CODED = ("section", "type", "source", "issue")  # fields matched by equality
COLUMNS = {"section": "a.section", "type": "c.type", "source": "a.source", "issue": "i.id"}  # over hit aliases


class FilterColumns(Protocol):
    """What `Filters.mask` reads: per chunk (by ascending rowid) its issue's days and coded fields
    (kb/columns.py `ChunkColumns` is the one kind)."""

    rowids: np.ndarray
    date_start: np.ndarray
    date_end: np.ndarray
    codes: dict[str, np.ndarray]
    vocabulary: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Filters:
    """Search filters; an issue matches a date range when the two ranges overlap."""

    date_from: str | None = None
    date_to: str | None = None
    section: str | None = None
    type: str | None = None
    source: str | None = None
    issue: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def validated(self) -> Filters:
        """The same filters with dates in ISO form and empty values dropped; QueryError when bad."""
        if self.type is not None and self.type not in CHUNK_TYPES:
            raise QueryError("invalid_type", f"type must be one of {', '.join(CHUNK_TYPES)}")
        date_from, date_to = parse_dates(self.date_from, self.date_to)
        return Filters(date_from, date_to, self.section or None, self.type, self.source or None, self.issue or None)

    def narrowed(self, date_from: str, date_to: str) -> Filters:
        """These filters within [date_from, date_to] too (a week read from the query's words)."""
        start = max(filter(None, (self.date_from, date_from)))
        end = min(filter(None, (self.date_to, date_to)))
        return replace(self, date_from=start, date_to=end)

    def where(self) -> tuple[str, list]:
        """SQL conditions over aliases c (chunks), a (articles), i (issues), and their params."""
        clauses, params = issue_range(self.date_from, self.date_to, None)
        for name in CODED:
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{COLUMNS[name]} = ?")
                params.append(value)
        return (" AND ".join(clauses) or "1"), params

    def mask(self, columns: FilterColumns) -> np.ndarray | None:
        """Rowids (ascending) of the chunks of `columns` these filters allow; None when nothing is filtered."""
        if not self:
            return None
        mask = np.ones(len(columns.rowids), dtype=bool)
        if self.date_from is not None:
            mask &= columns.date_end >= day(self.date_from)
        if self.date_to is not None:
            mask &= columns.date_start <= day(self.date_to)
        for name in CODED:
            value = getattr(self, name)
            if value is not None:
                code = columns.vocabulary[name].get(value)
                if code is None:
                    return columns.rowids[:0]
                mask &= columns.codes[name] == code
        return columns.rowids[mask]


def issue_range(date_from: str | None, date_to: str | None, issue: str | None) -> tuple[list[str], list]:
    """SQL conditions on alias i (issues) and their params: the issues overlapping [date_from,
    date_to], or one issue. The date rule of every filter, in SQL."""
    clauses, params = [], []
    for condition, value in (("i.date_end >= ?", date_from), ("i.date_start <= ?", date_to), ("i.id = ?", issue)):
        if value:
            clauses.append(condition)
            params.append(value)
    return clauses, params


def day(iso: str) -> int:
    """An ISO date as an ordinal day number (what the numpy mask compares)."""
    return date.fromisoformat(iso).toordinal()


def parse_dates(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """Both ends of a date range, parsed; QueryError when one is malformed or they are reversed."""
    date_from, date_to = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError("invalid_date", "date_from is after date_to")
    return date_from, date_to


def parse_date(value: str | None, name: str) -> str | None:
    """Accept YYYY-MM-DD (or YYYY-MM, meaning its first day for date_from, last for date_to)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            if name == "date_to":
                next_month = date(year + month // 12, month % 12 + 1, 1)
                return date.fromordinal(next_month.toordinal() - 1).isoformat()
            return date(year, month, 1).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise QueryError("invalid_date", f"{name} must be a date like 2025-06-23, not {text[:40]!r}")
