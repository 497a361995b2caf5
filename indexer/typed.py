"""Table cells as values: numbers as numbers (with their unit), dates as ISO, the rest as text.

A cell is typed only when the whole cell is a number or a date: '34.5元/千克' is 34.5 in 元/千克,
'1,862.5' is 1862.5, '2025年6月30日' is 2025-06-30; '≥50%' or '22个区县≥20%' stay text. A number
without a unit of its own takes its column's unit ('可开放容量（兆瓦）') or the table's (单位：兆瓦),
except in a running-number column (序号).
"""

from __future__ import annotations

import re
import unicodedata

from kb.models import Table
from kb.numbers import TypedCell

from .text import iso_date

NUMBER = re.compile(
    r"^(?P<number>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<unit>%|‰|[^\d\s.,;:，；：、][^\d]{0,11})?$"
)
# '2025年6月30日', '2025年4月', '2025-06-30', '2025.6.30'; not '2025.5' (a number, or a month?)
DATE = re.compile(
    r"^(?:19|20)\d{2}\s*(?:年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|([./\-])\s*\d{1,2}\s*\1\s*\d{1,2})$"
)
HEADER_UNIT = re.compile(r"[（(]\s*(?:单位\s*[:：]\s*)?(?P<unit>[^（()）]{1,12}?)\s*[）)]\s*$")
RUNNING_NUMBER_HEADERS = ("序号", "编号", "排名", "No", "NO", "#")


def type_cell(text: str, column_unit: str | None = None) -> TypedCell:
    value = unicodedata.normalize("NFKC", text).strip()
    if DATE.match(value):
        return TypedCell(text, date=iso_date(value))
    match = NUMBER.match(value)
    if not match:
        return TypedCell(text)
    digits = match["number"].replace(",", "")
    number = float(digits) if "." in digits else int(digits)
    unit = match["unit"].strip() if match["unit"] else column_unit
    return TypedCell(text, number=number, unit=unit)


def column_units(table: Table) -> list[str | None]:
    """Each column's unit: from its header's parentheses, else the table's, none for 序号."""
    units = []
    for header in table.headers:
        in_header = HEADER_UNIT.search(header)
        if in_header:
            units.append(in_header["unit"])
        elif header.strip().startswith(RUNNING_NUMBER_HEADERS):
            units.append(None)
        else:
            units.append(table.unit)
    return units


def typed_rows(table: Table) -> list[list[TypedCell]]:
    units = column_units(table)
    return [
        [type_cell(cell, units[index] if index < len(units) else table.unit) for index, cell in enumerate(row)]
        for row in table.rows
    ]
