"""PDF -> issue text (pdfplumber): text lines in reading order regrouped into paragraphs, ruled
tables extracted as tables, running headers and footers dropped.

A paragraph ends at a short line, a wider gap than the line spacing, or an indented or
differently sized next line; it goes on over a page break when the page's last line is full and
the next page's first line starts at the margin. Margins are
taken per page (mirrored margins), the text width from the whole document. A table continued on the
next page repeats no header row. Printed page numbers are dropped but kept as their page's label:
an article's page comes from the TOC, and a TOC entry that prints none gets the label of the page
its title is found on (the PDF page number when none is printed).
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError
from pdfplumber.utils.exceptions import PdfminerException

from .base import READERS, ReadError
from ..text import PAGE_NUMBER_LINE, join_broken, title_key
from ..toc import NUMBERED, TOC_HEADING, TRAILING_PAGE
from .layout import Block, clean_cell, to_text

EDGE_SHARE = 0.08  # top and bottom share of a page where running headers and footers live
DIGITS = re.compile(r"\d+")


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    short: bool = False  # stops short of the right margin
    at_margin: bool = True  # starts at the left margin (not indented or centred)
    centred: bool = False


@dataclass
class _Page:
    label: int  # the page number printed on it, else its 1-based PDF page number
    height: float
    items: list[tuple[float, _Line | list[list[str]]]] = field(default_factory=list)  # (top, line or table)


def read_pdf(data: bytes, name: str) -> str:
    pages = _pages(data, name)
    _drop_running_lines(pages)
    if not any(isinstance(item, _Line) for page in pages for _, item in page.items):
        raise ReadError(f"{name}: the PDF has no text layer (a scan needs OCR first)")
    blocks, block_pages = _blocks(pages)
    return to_text(_fill_toc_pages(blocks, block_pages))


def _pages(data: bytes, name: str) -> list[_Page]:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return [_read_page(page) for page in pdf.pages]
    except (PdfminerException, PDFSyntaxError) as exc:
        raise ReadError(f"{name}: not a readable PDF ({exc})") from exc


def _read_page(page) -> _Page:
    result = _Page(page.page_number, float(page.height))
    tables = page.find_tables()
    boxes = [table.bbox for table in tables]
    for table in tables:
        rows = [[clean_cell([_join_cell_lines(cell or "")]) for cell in row] for row in table.extract()]
        if rows and max(len(row) for row in rows) >= 2:
            result.items.append((table.bbox[1], rows))
        else:
            boxes.remove(table.bbox)  # a one-column frame is a box around text: read its text

    def outside_tables(obj) -> bool:
        return not any(x0 <= obj["x0"] and obj["x1"] <= x1 and top <= obj["top"] and obj["bottom"] <= bottom
                       for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside_tables) if boxes else page
    for line in text_page.extract_text_lines(return_chars=True, keep_blank_chars=False):
        sizes = [char["size"] for char in line["chars"] if char["text"].strip()]
        item = _Line(line["text"], line["x0"], line["x1"], line["top"], line["bottom"],
                     statistics.median(sizes) if sizes else 0.0)
        result.items.append((line["top"], item))
    result.items.sort(key=lambda pair: pair[0])
    return result


def _join_cell_lines(text: str) -> str:
    """A cell's wrapped lines rejoined like a paragraph's."""
    joined = ""
    for part in text.split("\n"):
        joined = _join_wrapped(joined, part.strip()) if joined else part.strip()
    return joined


def _join_wrapped(first: str, second: str) -> str:
    """Rejoin a wrapped line: Latin text wrapped after punctuation ("modules, 10.05") keeps its
    space; otherwise as the parser rejoins a sentence cut by a page break."""
    a, b = first.rstrip(), second.lstrip()
    if a and b and a[-1] in ",;:.!?)%" and b[0].isascii() and (b[0].isalnum() or b[0] in "(\"'"):
        return f"{a} {b}"
    return join_broken(a, b)


def _drop_running_lines(pages: list[_Page]) -> None:
    """Drop printed page numbers (kept as the page's label) and lines repeated near the top or
    bottom of most pages, digits ignored: running headers and footers."""

    def edge_key(page: _Page, line: _Line) -> str | None:
        near_edge = line.top < page.height * EDGE_SHARE or line.bottom > page.height * (1 - EDGE_SHARE)
        return DIGITS.sub("#", line.text.replace(" ", "")) if near_edge else None

    counts = Counter(
        key for page in pages for key in {edge_key(page, item) for _, item in page.items if isinstance(item, _Line)}
        if key
    )
    running = {key for key, count in counts.items() if len(pages) >= 2 and count >= max(2, len(pages) // 2)}
    for page in pages:
        kept = []
        for top, item in page.items:
            key = edge_key(page, item) if isinstance(item, _Line) else None
            if key is not None and PAGE_NUMBER_LINE.match(item.text):
                page.label = int(DIGITS.search(item.text).group(0))
            elif key is None or key not in running:
                kept.append((top, item))
        page.items = kept


def _blocks(pages: list[_Page]) -> tuple[list[Block], list[int]]:
    """Paragraphs and tables in reading order, each with the page label it starts on."""
    page_lines = [[item for _, item in page.items if isinstance(item, _Line)] for page in pages]
    width = _text_width(page_lines)
    gap = _line_gap([line for lines in page_lines for line in lines])
    blocks: list[Block] = []
    block_pages: list[int] = []
    header: list[str] | None = None  # the header row of the table just read, to spot a repeated one
    previous: _Line | None = None  # kept across a page break: a paragraph may go on over it
    for page, lines in zip(pages, page_lines):
        left = min((line.x0 for line in lines), default=0.0)  # this page's margins
        for line in lines:
            _place(line, left, left + width)
        for _, item in page.items:
            if isinstance(item, list):
                if header is not None and item[0] == header and isinstance(blocks[-1], list):
                    blocks[-1].extend(item[1:])  # continued from the page before, header repeated
                else:
                    blocks.append(item)
                    block_pages.append(page.label)
                header, previous = item[0], None
            elif previous is not None and not _starts_paragraph(previous, item, gap):
                blocks[-1] = _join_wrapped(blocks[-1], item.text)
                previous = item
            else:
                blocks.append(item.text)
                block_pages.append(page.label)
                header, previous = None, item
    return blocks, block_pages


def _text_width(page_lines: list[list[_Line]]) -> float:
    """The width of a full line: nine lines in ten end at or before it (an overlong word does not count)."""
    widths = sorted(line.x1 - left for lines in page_lines if lines for left in [min(l.x0 for l in lines)]
                    for line in lines)
    return widths[int(len(widths) * 0.9)]


def _place(line: _Line, left: float, right: float) -> None:
    """Where the line sits between its page's margins."""
    em = max(line.size, 1.0)
    line.short = line.x1 < right - 2 * em
    line.at_margin = line.x0 <= left + 0.8 * em
    line.centred = abs((line.x0 - left) - (right - line.x1)) < em


def _line_gap(lines: list[_Line]) -> float:
    """The usual line spacing within a paragraph, in font sizes (line top to next line top)."""
    steps = [(b.top - a.top) / a.size for a, b in zip(lines, lines[1:]) if b.top > a.top and a.size]
    return statistics.median(steps) if steps else 0.0


def _starts_paragraph(previous: _Line, line: _Line, gap: float) -> bool:
    if abs(line.size - previous.size) > 0.5 or (gap > 0 and line.top - previous.top > gap * previous.size * 1.3):
        return True  # another style, or more space than between the lines of a paragraph
    if NUMBERED.match(previous.text) and (TRAILING_PAGE.match(previous.text) or NUMBERED.match(line.text)):
        return True  # a whole TOC entry, or one entry after another
    if previous.short:
        return True  # the line before stopped short of the margin
    # an indented line opens a paragraph, unless it is the centred end of a wrapped heading
    return not line.at_margin and not (line.centred and previous.at_margin)


def _fill_toc_pages(blocks: list[Block], block_pages: list[int]) -> list[Block]:
    """Give each numbered TOC entry that prints no page number the page its title starts on."""
    lines = [block if isinstance(block, str) else "" for block in blocks]
    toc_at = next((i for i, line in enumerate(lines) if TOC_HEADING.match(line)), None)
    if toc_at is None:
        return blocks
    entries: dict[int, str] = {}  # line index -> title key
    body_start = len(lines)
    for index in range(toc_at + 1, len(lines)):
        numbered = NUMBERED.match(lines[index])
        if numbered:
            page = TRAILING_PAGE.match(numbered["rest"])
            entries[index] = title_key(numbered["rest"] if page is None else page["title"])
        elif entries and lines[index] and title_key(lines[index]) == next(iter(entries.values())):
            body_start = index
            break
    filled = list(blocks)
    for at, key in entries.items():
        if TRAILING_PAGE.match(lines[at]):
            continue
        found = next((i for i in range(body_start, len(lines)) if title_key(lines[i]) == key), None)
        if found is not None:
            filled[at] = f"{lines[at]} {block_pages[found]}"
    return filled


READERS[".pdf"] = read_pdf
