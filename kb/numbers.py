"""The numbers in the issues, as types: typed table cells, price records, product names, table ids.

The indexer reads an issue's tables cell by cell (numbers as numbers, units kept, dates as ISO)
and its supply-chain price report into `PriceRecord`s, and hands them over as a
`StructuredIssue`; the store writes them in the issue's write transaction (kb/store/writes.py)
and serves them to the tables, prices and policies endpoints (kb/store/numbers.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass
class TypedCell:
    """One table cell: its text, and its number (with unit) or ISO date when it is one."""

    text: str
    number: int | float | None = None
    unit: str | None = None
    date: str | None = None  # YYYY-MM-DD, or YYYY-MM when the day is not given

    @property
    def value(self) -> int | float | str | None:
        if self.number is not None:
            return self.number
        return self.date or self.text or None


@dataclass
class PriceRecord:
    """One quoted price: '182mm TOPCon双面双玻组件报价为 0.67 元/W' -> (product, 0.67, 元/W)."""

    product: str
    price: float  # a range's midpoint
    unit: str
    low: float | None = None  # the ends of a quoted range ("0.70-0.74 元/W"), else None
    high: float | None = None


@dataclass
class StructuredIssue:
    """What the indexer read from an issue's tables and price report, keyed by article id."""

    tables: dict[str, list[list[list[TypedCell]]]] = field(default_factory=dict)  # article -> tables -> rows
    prices: dict[str, list[PriceRecord]] = field(default_factory=dict)


SPACE_BESIDE_CJK = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")


def product_name(text: str) -> str:
    """The one spelling of a product: NFKC, single spaces, none beside a Chinese character
    ('182mm TOPCon 双面双玻组件' -> '182mm TOPCon双面双玻组件'). Stored names and queries both."""
    return SPACE_BESIDE_CJK.sub("", " ".join(unicodedata.normalize("NFKC", text).split()))


def table_id(article_id: str, ordinal: int) -> str:
    """The id of an article's `ordinal`-th table (1-based)."""
    return f"{article_id}-t{ordinal}"


TOTAL_LABELS = frozenset({"合计", "总计", "小计", "全省合计", "总量"})


def numeric_columns(rows: list[list], width: int) -> list[bool]:
    """Per column (of `width`) of typed rows: does it hold numbers (sorted as numbers, right-aligned)?"""
    return [any(isinstance(row[i], (int, float)) for row in rows if i < len(row)) for i in range(width)]


def row_order(rows: list[list], column: int, descending: bool = False) -> list[int]:
    """The indexes of typed rows ordered by one column: numbers as numbers (before any text),
    text by its characters, blanks last either way; a total row (合计, 总计 …) stays at the
    bottom, where the table printed it. Stable, so equal cells keep the printed order."""
    groups: dict[str, list[int]] = {"number": [], "text": [], "blank": [], "total": []}
    for index, row in enumerate(rows):
        value = row[column] if column < len(row) else None
        if row and str(row[0]).strip() in TOTAL_LABELS:
            groups["total"].append(index)
        elif value is None or value == "":
            groups["blank"].append(index)
        else:
            groups["number" if isinstance(value, (int, float)) else "text"].append(index)
    groups["number"].sort(key=lambda index: rows[index][column], reverse=descending)
    groups["text"].sort(key=lambda index: str(rows[index][column]), reverse=descending)
    return [index for indexes in groups.values() for index in indexes]


def sorted_table(table: dict, column: int, descending: bool = False) -> dict:
    """A typed table (kb/store/numbers.get_table) with its rows, and their texts, in `row_order`."""
    order = row_order(table["rows"], column, descending)
    return table | {"rows": [table["rows"][i] for i in order], "text_rows": [table["text_rows"][i] for i in order]}
