"""The table of contents (目 录): sections, numbered titles and page numbers.

Long titles wrap onto a second line that carries the page number; dotted leaders and a stray
" ." before the page number are tolerated. The TOC ends where the body repeats its first title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.models import TocEntry

from .text import title_key

TOC_HEADING = re.compile(r"^\s*目\s*录\s*$")
NUMBERED = re.compile(r"^\s*(?P<num>\d{1,3})\s*[.、．]\s*(?P<rest>\S.*?)\s*$")
TRAILING_PAGE = re.compile(r"^(?P<title>.*?)(?:\s*[.．…·]+)?\s+(?P<page>\d{1,3})$")


@dataclass
class TocResult:
    entries: list[TocEntry]
    body_start: int  # index of the first body line after the TOC


def find_toc(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if TOC_HEADING.match(line):
            return index
    return None


def _split_page(text: str) -> tuple[str, int | None]:
    match = TRAILING_PAGE.match(text.strip())
    if match and match["title"].strip():
        return match["title"].strip(), int(match["page"])
    return text.strip(), None


def parse_toc(lines: list[str], start: int) -> TocResult:
    """Parse TOC lines after the 目录 heading at `start`."""
    entries: list[TocEntry] = []
    section: str | None = None
    index = start + 1
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            index += 1
            continue
        if entries and _starts_title(line, entries[0].title):
            break  # the body begins with the first article's title (which may start "3.86GW…")
        numbered = NUMBERED.match(line)
        if numbered:
            title, page = _split_page(numbered["rest"])
            entries.append(TocEntry(int(numbered["num"]), title, section, page))
        else:
            title, page = _split_page(line)
            if page is not None and entries:
                _continue_entry(entries[-1], title, page)
            elif entries and entries[-1].page is None:
                entries[-1].title = _join_title(entries[-1].title, title)
            else:
                section = line
        index += 1
    return TocResult(entries, index)


def _starts_title(line: str, title: str) -> bool:
    """True when `line` is the title, or the first half or more of a title wrapped in the body."""
    line_key, key = title_key(line), title_key(title)
    return bool(line_key) and key.startswith(line_key) and len(line_key) * 2 >= len(key)


def _continue_entry(entry: TocEntry, more_title: str, page: int) -> None:
    """A wrapped title: the second line carries the page number."""
    if entry.page is not None:
        # the number that ended the first line was part of the title, not its page
        entry.title = f"{entry.title} {entry.page}"
    entry.title = _join_title(entry.title, more_title)
    entry.page = page


def _join_title(first: str, second: str) -> str:
    if first and second and first[-1].isascii() and second[0].isascii():
        return f"{first} {second}"
    return first + second
