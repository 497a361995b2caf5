"""Answer cards: when a query names a structured record, the value itself, latest first.

Staff asking 「海宁市 可开放容量」, 「内蒙古 自用比例」 or 「N型致密料均价」 want the number, its unit,
the issue it is from and its source — not ten passages to read. A query names:

- a **price** when it holds a product of the weekly price report (「N型致密料」, spaces and case
  ignored; the longest such name wins): the card is the newest week's price (or the week a time
  word selects) with every earlier week as its history;
- a **table cell** when it holds a row's name (the row's first non-序号 cell: a county, a province,
  a project) and a column header (「可开放容量」, parentheses and units ignored): the card is the
  newest table's cell, with the same row and column of earlier tables of that caption (the
  caption with its digits masked: the quarterly capacity tables) as its history;
- a **policy clause** when it holds a province that has a clause and a field word (自用比例,
  上网比例, 发布日期, 状态, 政策要求): the newest clause's field, earlier clauses as history.

Matching is by containment of whole names in the normalised query, so a county no table lists,
a product the report never prices or a province without a clause makes no card; the labelled
card queries in tests/data/card_queries.jsonl measure it (scripts/eval_cards.py).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .segment import normalize

SPACE = re.compile(r"\s+")
PARENS = re.compile(r"[（(][^）)]*[）)]")
DIGITS = re.compile(r"\d+|[一二三四]季度|上半年|下半年")
POLICY_FIELDS = {  # words a query uses -> the clause field they ask for
    "自用比例": "self_use_ratio", "自发自用": "self_use_ratio", "上网比例": "grid_ratio", "上网电量": "grid_ratio",
    "发布日期": "release_date", "发布时间": "release_date", "什么时候发布": "release_date", "状态": "status",
    "正式文件": "status", "征求意见": "status", "政策要求": "requirement",
}
FIELD_LABELS = {"self_use_ratio": "自用比例", "grid_ratio": "上网比例", "release_date": "发布日期",
                "status": "状态", "requirement": "政策要求"}
HISTORY = 12
MIN_NAME = 2  # characters a row name must have to be matched


def key(text: str | None) -> str:
    return SPACE.sub("", normalize(text or ""))


@dataclass
class Record:
    kind: str  # "price", "table" or "policy"
    subject: str  # the product, the row name + column header, or the province + field
    value: str
    unit: str | None
    date: str  # the issue's date_start: newest first
    issue: dict
    article: dict
    family: str  # records of one family are one series across issues
    note: str = ""  # the caption, or the policy's name


@dataclass
class Card:
    kind: str
    subject: str
    value: str
    unit: str | None
    issue: dict
    article: dict
    note: str
    history: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Records:
    """Every price, table cell and policy field, indexed by the names a query can hold."""

    prices: dict[str, list[Record]]  # product key -> its weekly prices
    cells: dict[tuple[str, str], list[Record]]  # (row-name key, header key) -> cells
    policies: dict[tuple[str, str], list[Record]]  # (province key, field) -> clause fields

    @classmethod
    def build(cls, prices: list[dict], tables: list[dict], clauses: list[dict]) -> "Records":
        out = cls({}, {}, {})
        for series in prices:
            for p in series["points"]:
                out.prices.setdefault(key(series["product"]), []).append(Record(
                    "price", series["product"], f"{p['price']:g}", series["unit"], p["issue"]["date_start"],
                    p["issue"], p["article"], key(series["product"]) + "|" + series["unit"], p.get("source") or ""))
        for table in tables:
            headers = [PARENS.sub("", h) for h in table["headers"]]
            name_column = next((i for i, h in enumerate(headers) if h not in ("序号", "")), None)
            if name_column is None:
                continue
            family = DIGITS.sub("#", key(table["caption"] or table["article"]["title"]))
            for cells in table["text_rows"]:
                if name_column >= len(cells) or len(key(cells[name_column])) < MIN_NAME:
                    continue
                name = cells[name_column]
                for column, header in enumerate(headers):
                    if column == name_column or column >= len(cells) or not cells[column].strip() or header in ("", "序号"):
                        continue
                    unit = table["units"][column] or table["unit"]
                    out.cells.setdefault((key(name), key(header)), []).append(Record(
                        "table", f"{name} · {header}", cells[column], unit, table["issue"]["date_start"],
                        table["issue"], table["article"], family, table["caption"] or ""))
        for clause in clauses:
            for name, value in ((f, clause[f]) for f in FIELD_LABELS):
                if value:
                    out.policies.setdefault((key(clause["province"]), name), []).append(Record(
                        "policy", f"{clause['province']} · {FIELD_LABELS[name]}", value, None,
                        clause["issue"]["date_start"], clause["issue"], clause["article"],
                        key(clause["province"]) + "|" + name,
                        " · ".join(x for x in (clause["policy_name"], clause["release_date"] and f"{clause['release_date']} 发布",
                                               clause["status"]) if x)))
        return out

    def cards(self, query: str, week: tuple[str, str] | None = None) -> list[Card]:
        """The cards a query names, newest first; `week` (a time word's filter) picks that issue."""
        q = key(query)
        found: list[list[Record]] = []
        products = [p for p in self.prices if p and p in q]
        if products:
            found.append(self.prices[max(products, key=len)])
        cells = [(name, header) for name, header in self.cells if name in q and header in q]
        longest = max((len(n) + len(h) for n, h in cells), default=0)
        found += [self.cells[c] for c in cells if len(c[0]) + len(c[1]) == longest]
        fields = {f for word, f in POLICY_FIELDS.items() if key(word) in q}
        provinces = [p for p, f in self.policies if p in q and f in fields]
        found += [self.policies[(p, f)] for p, f in self.policies if p in provinces and f in fields]
        cards = [card for records in found if (card := _card(records, week)) is not None]
        said = {(c.article["id"], c.subject) for c in cards if c.kind == "policy"}
        return [c for c in cards if not (c.kind == "table" and (c.article["id"], c.subject) in said)]  # a clause once


def _card(records: list[Record], week: tuple[str, str] | None) -> Card | None:
    newest = sorted(records, key=lambda r: r.date, reverse=True)
    if week is not None:
        inside = [r for r in newest if r.issue["date_end"] >= week[0] and r.issue["date_start"] <= week[1]]
        if not inside:
            return None
        newest = inside + [r for r in newest if r not in inside]
    top = newest[0]
    family = [r for r in newest[1:] if r.family == top.family][:HISTORY]
    return Card(top.kind, top.subject, top.value, top.unit, top.issue, top.article, top.note,
                [{"value": r.value, "unit": r.unit, "issue": r.issue, "article": r.article, "note": r.note}
                 for r in family])
