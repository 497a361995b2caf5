"""Time words in a question, read into a date range over the issues.

Staff ask `8月11日当周N型复投料均价`, `6月30日那周…报价`, `上周`, `三季度`, `最新`. `interpret`
finds the first such expression and says which issues it means, relative to the newest issue
for relative words and for a day written without its year:

- a day with a week word (当周/那周/这周/这一周), or a relative week (本周/这周/上周/上上周), is a
  **filter**: only the issues whose dates cover that day (the overlap rule of `filters`) answer it;
- a month, quarter, half-year or year, a relative month or year (本月/上个月/今年/去年), a bare day,
  and 最新/最近 only **boost** the issues in that range, because such words often describe the
  content rather than the issue (`2025年1-8月全国新增装机` is answered by a September issue, a
  CMRC question about `2013年` by an issue of 2020, a policy "released on 6月20日" by the issue of
  the week after).

The expression stays in the query: its words remain optional keyword terms, but `matching`
leaves them out of the share of the query a passage must hold. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta

CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
WEEK_WORD = r"(?:当周|那周|这周|这一周|那一周|该周)"
_YEAR = r"(?:(?P<year>\d{4})年)?"

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("week_of_day", re.compile(_YEAR + r"(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]?" + WEEK_WORD)),
    ("iso_day", re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})")),
    ("day", re.compile(_YEAR + r"(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]")),
    ("relative_week", re.compile(r"(?P<rel>上上周|上周|本周|这周|这一周)")),
    ("quarter", re.compile(_YEAR + r"(?:第?(?P<q>[一二三四1-4])季度|[Qq](?P<qq>[1-4]))")),
    ("half", re.compile(_YEAR + r"(?P<half>上半年|下半年)")),
    ("month", re.compile(_YEAR + r"(?<![\d\-~—至到])(?P<month>1[0-2]|0?[1-9])月(?:份)?(?![\d日号])")),
    ("relative_month", re.compile(r"(?P<rel>本月|这个月|上个月|上月)")),
    ("year", re.compile(r"(?P<year>(?:19|20)\d{2})年(?!\d{1,2}月)")),
    ("relative_year", re.compile(r"(?P<rel>今年|去年|前年)")),
    ("latest", re.compile(r"(?P<rel>最新|最近|近期)")),
]


@dataclass(frozen=True)
class Interpretation:
    date_from: str
    date_to: str
    mode: str  # "filter" (only these issues) or "boost" (these issues first among equals)
    from_text: str  # the words it was read from

    def to_dict(self) -> dict:
        return asdict(self)


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _year_of(month: int, day: int, explicit: str | None, newest: date) -> int:
    """A day written without its year is the latest such day not after the newest issue."""
    if explicit:
        return int(explicit)
    year = newest.year
    try:
        if date(year, month, day) > newest:
            year -= 1
    except ValueError:
        pass
    return year


def _range(kind: str, m: re.Match, newest_start: date, newest_end: date) -> tuple[date, date] | None:
    g = m.groupdict()
    year = int(g["year"]) if g.get("year") else None
    if kind in ("week_of_day", "iso_day", "day"):
        month, day = int(g["month"]), int(g["day"])
        d = date(_year_of(month, day, g.get("year"), newest_end), month, day)
        return d, d
    if kind == "relative_week":
        back = {"上上周": 14, "上周": 7}.get(g["rel"], 0)
        return newest_start - timedelta(days=back), newest_end - timedelta(days=back)
    if kind == "quarter":
        q = CN_DIGITS[g["q"] or g["qq"]]
        y = year or newest_end.year
        return date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
    if kind == "half":
        y = year or newest_end.year
        return (date(y, 1, 1), date(y, 6, 30)) if g["half"] == "上半年" else (date(y, 7, 1), date(y, 12, 31))
    if kind == "month":
        month = int(g["month"])
        y = year or (newest_end.year if month <= newest_end.month else newest_end.year - 1)
        return date(y, month, 1), _month_end(y, month)
    if kind == "relative_month":
        first = newest_end.replace(day=1)
        if g["rel"] in ("上个月", "上月"):
            first = (first - timedelta(days=1)).replace(day=1)
        return first, _month_end(first.year, first.month)
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    if kind == "relative_year":
        y = newest_end.year - {"今年": 0, "去年": 1, "前年": 2}[g["rel"]]
        return date(y, 1, 1), date(y, 12, 31)
    if kind == "latest":
        return newest_start, newest_end
    return None


FILTER_KINDS = frozenset({"week_of_day", "relative_week"})


def interpret(query: str, newest: tuple[str, str] | None) -> Interpretation | None:
    """The first time expression of `query` as a date range, or None (none found, or no issues).

    `newest` is the (date_start, date_end) of the newest issue: relative words and days without
    a year are read against it, never against today's clock, so an archive answers the same way
    whenever it is asked."""
    if not newest:
        return None
    newest_start, newest_end = date.fromisoformat(newest[0]), date.fromisoformat(newest[1])
    found: list[tuple[int, str, re.Match]] = []
    for kind, pattern in PATTERNS:
        m = pattern.search(query)
        if m:
            found.append((m.start(), kind, m))
    for _, kind, m in sorted(found, key=lambda item: (item[0], [k for k, _ in PATTERNS].index(item[1]))):
        try:
            span = _range(kind, m, newest_start, newest_end)
        except ValueError:  # 2月30日: not a day
            continue
        if span is None:
            continue
        mode = "filter" if kind in FILTER_KINDS else "boost"
        return Interpretation(span[0].isoformat(), span[1].isoformat(), mode, m.group(0))
    return None


def time_words(query: str) -> list[str]:
    """Every time expression in the query (their words are optional, never required, terms)."""
    return [m.group(0) for _, pattern in PATTERNS for m in pattern.finditer(query)]
