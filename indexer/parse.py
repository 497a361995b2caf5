"""Text of one digest -> `Issue`: header, table of contents, articles, tables, policy clauses.

Works on the plain text exported from the digest's PDF (and on the text the other readers
produce). Nothing here knows this or any issue's titles: articles are found by matching each
TOC title in the body, ignoring spacing and punctuation width.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from kb.models import Article, Issue, Table, TocEntry

from .tables import build_table, is_policy_table, policy_clauses
from .text import (
    CREDIT_LINE,
    NOTE_LINE,
    PAGE_NUMBER_LINE,
    SOURCE_LINE,
    UNIT_LINE,
    ends_sentence,
    is_heading_like,
    is_special_line,
    join_broken,
    title_key,
)
from .toc import find_toc, parse_toc


class ParseError(ValueError):
    """The text is not a recognisable digest issue (no header date, no contents)."""


DATE_RANGE = re.compile(
    r"(?P<y1>\d{4})\s*[.\-/年]\s*(?P<m1>\d{1,2})\s*[.\-/月]\s*(?P<d1>\d{1,2})\s*日?\s*"
    r"[-–—~～至到]+\s*(?:(?P<y2>\d{4})\s*[.\-/年]\s*)?(?P<m2>\d{1,2})\s*[.\-/月]\s*(?P<d2>\d{1,2})"
)
PUBLISHER = re.compile(r"^\s*(?P<name>\S{2,40}?)\s*编\s*$")
HEADER_LINES = 40
FUZZY_TITLE_RATIO = 0.85


def parse_issue(text: str, file: str) -> Issue:
    """Parse one issue's text; raise ParseError when it has no recognisable issue header."""
    lines = _clean_lines(text)
    toc_at = find_toc(lines)
    header = lines[: toc_at if toc_at is not None else HEADER_LINES]
    date_start, date_end = _date_range(header, file)
    title = next((line.strip().lstrip("#").strip() for line in header if line.strip()), "")
    if toc_at is None:
        raise ParseError(f"{file}: no table of contents (目录) found")
    toc = parse_toc(lines, toc_at)
    if not toc.entries:
        raise ParseError(f"{file}: the table of contents lists no articles")
    issue = Issue(
        id=date_start,
        title=title,
        publisher=_publisher(header),
        date_start=date_start,
        date_end=date_end,
        file=file,
        toc=toc.entries,
    )
    issue.articles = _articles(issue, lines, toc.body_start)
    return issue


def _clean_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [line.rstrip() for line in text.split("\n")]


def _date_range(header: list[str], file: str) -> tuple[str, str]:
    for line in header:
        match = DATE_RANGE.search(unicodedata.normalize("NFKC", line))
        if match:
            y1, m1, d1 = int(match["y1"]), int(match["m1"]), int(match["d1"])
            y2 = int(match["y2"]) if match["y2"] else y1
            m2, d2 = int(match["m2"]), int(match["d2"])
            if y2 == y1 and (m2, d2) < (m1, d1):  # "2025.12.29-01.04" crosses a year
                y2 += 1
            try:
                return date(y1, m1, d1).isoformat(), date(y2, m2, d2).isoformat()
            except ValueError as exc:
                raise ParseError(f"{file}: invalid issue date range {match.group(0)!r}") from exc
    raise ParseError(f"{file}: no issue date range such as (2025. 06. 23-2025. 06. 29) in the header")


def _publisher(header: list[str]) -> str | None:
    for line in header:
        match = PUBLISHER.match(line)
        if match:
            return match["name"]
    return None


# ---- locating articles -------------------------------------------------------------------


def _find_title(lines: list[str], start: int, title: str) -> tuple[int, int] | None:
    """(line index, number of lines the title spans) of `title` at or after `start`."""
    key = title_key(title)
    for index in range(start, len(lines)):
        one = title_key(lines[index])
        if one == key:
            return index, 1
        if one and key.startswith(one) and index + 1 < len(lines):
            if one + title_key(lines[index + 1]) == key:
                return index, 2
    for index in range(start, len(lines)):  # spelled a little differently in the body
        one = title_key(lines[index])
        if one and abs(len(one) - len(key)) <= max(3, len(key) // 5):
            if difflib.SequenceMatcher(None, one, key).ratio() >= FUZZY_TITLE_RATIO:
                return index, 1
    return None


def _articles(issue: Issue, lines: list[str], body_start: int) -> list[Article]:
    located: list[tuple[TocEntry, int, int]] = []
    cursor = body_start
    for entry in issue.toc:
        found = _find_title(lines, cursor, entry.title)
        if found is None:
            continue  # listed in the contents but absent from the body: nothing to index
        located.append((entry, *found))
        cursor = found[0] + found[1]
    articles = []
    for position, (entry, at, span) in enumerate(located):
        end = located[position + 1][1] if position + 1 < len(located) else len(lines)
        article = Article(
            id=f"{issue.id}-{len(articles) + 1:02d}",
            ordinal=len(articles) + 1,
            title=entry.title,
            section=entry.section,
            page=entry.page,
            source=None,
        )
        _fill_body(article, lines[at + span : end])
        articles.append(article)
    return articles


# ---- article bodies ----------------------------------------------------------------------


@dataclass
class _Block:
    """A paragraph line, or the lines of one tab-separated table."""

    text: str = ""
    table_lines: list[str] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        return bool(self.table_lines)


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    for line in lines:
        if not line.strip():
            continue
        if "\t" in line:
            if blocks and blocks[-1].is_table:
                blocks[-1].table_lines.append(line)
            else:
                blocks.append(_Block(table_lines=[line]))
        elif PAGE_NUMBER_LINE.match(line):
            continue  # a page number left by the PDF export
        else:
            blocks.append(_Block(text=line.strip()))
    return blocks


def _repair_page_breaks(blocks: list[_Block]) -> list[_Block]:
    """Rejoin a paragraph cut mid-sentence by a page break with the paragraph that continues it."""
    repaired: list[_Block] = []
    for block in blocks:
        previous = repaired[-1] if repaired else None
        if (
            previous is not None
            and not previous.is_table
            and not block.is_table
            and not ends_sentence(previous.text)
            and not is_heading_like(previous.text)
            and not is_special_line(previous.text)
            and not is_heading_like(block.text)
            and not is_special_line(block.text)
        ):
            previous.text = join_broken(previous.text, block.text)
        else:
            repaired.append(block)
    return repaired


def _fill_body(article: Article, lines: list[str]) -> None:
    blocks = _repair_page_breaks(_blocks(lines))
    paragraphs: list[str] = []
    for block in blocks:
        if block.is_table:
            table = _table_with_context(block.table_lines, paragraphs)
            if len(table.headers) >= 2 and table.rows:
                article.tables.append(table)
                if is_policy_table(table):
                    article.policies.extend(policy_clauses(table, len(article.tables) - 1))
            else:
                paragraphs.extend(" ".join(line.split()) for line in block.table_lines)
            continue
        source = SOURCE_LINE.match(block.text)
        if source:
            article.source = source["source"]
            continue
        note = NOTE_LINE.match(block.text)
        if note and article.tables and article.tables[-1].note is None:
            article.tables[-1].note = note["note"]
        paragraphs.append(block.text)
    article.paragraphs = paragraphs


def _table_with_context(table_lines: list[str], paragraphs: list[str]) -> Table:
    """Build a table, taking its caption, unit and credit from the lines just before it."""
    table = build_table(table_lines)
    while paragraphs:
        line = paragraphs[-1]
        unit, credit = UNIT_LINE.match(line), CREDIT_LINE.match(line)
        if unit and table.unit is None:
            table.unit = unit["unit"]
        elif credit and table.credit is None:
            table.credit = credit["credit"]
        elif table.caption is None and not ends_sentence(line) and len(line) <= 60:
            table.caption = line
        else:
            break
        paragraphs.pop()
    return table
