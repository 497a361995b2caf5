"""PDF -> issue text (pdfplumber): text lines in reading order regrouped into paragraphs, ruled
tables extracted as tables, running headers and footers dropped, scanned pages read by OCR.

A paragraph ends at a short line, a wider gap than the line spacing, or an indented or
differently sized next line; it goes on over a page break when the page's last line is full and
the next page's first line starts at the margin. Margins are
taken per page (mirrored margins), the text width from the whole document.

Tables come from their ruling lines (pdfplumber's lattice), never from the text in them; a cell
covered by a merge is marked so `layout.logical_rows` can resolve it. A table piece that opens a
page, right after a table that closed the page before, with the same column rules, continues
that table: a repeated header row is dropped, and a first row whose first cell is empty under a
row whose first cell is not is the rest of that row, cut by the page break (the office suites'
default lets a row break across pages), so its cells join the cells above.

A page with no text layer is read by Tesseract (`ocr`) when it is installed; its lines are
kept in `DocumentText.ocr` so their chunks are marked, and a page that yields no text either way
is named in `DocumentText.notes`. Printed page numbers are dropped but kept as their page's label:
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
from ..text import title_key
from ..toc import NUMBERED, TOC_HEADING, TRAILING_PAGE
from . import borderless, ocr
from .layout import (FROM_ABOVE, FROM_LEFT, Block, DocumentText, GridCell, clean_cell, clean_line,
                     header_depth, is_letter_spaced, join_cell_lines, join_wrapped, logical_rows, page_label, to_text,
                     unspace_letter_spaced)

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
    spread: bool = False  # letter-spaced to the margin (分散对齐): a paragraph's last line, however wide
    at_margin: bool = True  # starts at the left margin (not indented or centred)
    centred: bool = False


@dataclass
class _Table:
    grid: list[list[GridCell]]
    columns: list[float]  # the x of each column rule, left to right


@dataclass
class _Page:
    label: int  # the page number printed on it, else its 1-based PDF page number
    height: float
    items: list[tuple[float, _Line | _Table]] = field(default_factory=list)  # (top, line or table)
    ocr: bool = False  # its lines were read by OCR


def read_pdf(data: bytes, name: str) -> DocumentText:
    pages, notes = _pages(data, name)
    _drop_running_lines(pages)
    if not any(isinstance(item, _Line) for page in pages for _, item in page.items):
        hint = "OCR found none" if ocr.available() else "a scan needs OCR: install tesseract-ocr"
        raise ReadError(f"{name}: the PDF has no text layer ({hint})")
    ocr_lines = tuple(clean_line(item.text) for page in pages if page.ocr for _, item in page.items)
    blocks, block_pages = _blocks(pages)
    return to_text(_fill_toc_pages(blocks, block_pages), ocr=ocr_lines, notes=tuple(notes))


def _pages(data: bytes, name: str) -> tuple[list[_Page], list[str]]:
    pages, notes = [], []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                pages.append(_read_page(page))
                if not pages[-1].items and ocr.available():
                    pages[-1] = _ocr_page(page, name)
                if not pages[-1].items and len(pdf.pages) > 1:
                    notes.append(f"{name}: page {page.page_number} has no text"
                                 + (" (OCR read nothing on it)" if ocr.available() else " (no OCR installed)"))
    except (PdfminerException, PDFSyntaxError) as exc:
        raise ReadError(f"{name}: not a readable PDF ({exc})") from exc
    return pages, notes


def _read_page(page) -> _Page:
    result = _Page(page.page_number, float(page.height))
    tables = page.find_tables()
    boxes = [table.bbox for table in tables]
    for table in tables:
        grid, columns = _grid(table)
        if grid and len(columns) >= 3:
            result.items.append((table.bbox[1], _Table(grid, columns)))
        else:
            boxes.remove(table.bbox)  # a one-column frame is a box around text: read its text

    def outside_tables(obj) -> bool:
        # by the centre: a cell's glyphs may stick out of its rules by a fraction of a point
        x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside_tables) if boxes else page
    lines = text_page.extract_text_lines(return_chars=True, keep_blank_chars=False)
    sizes = [statistics.median(sizes) if sizes else 0.0
             for sizes in ([char["size"] for char in line["chars"] if char["text"].strip()] for line in lines)]
    texts = [clean_line(line["text"]) for line in lines]  # a letter-spaced line joined before it is wrapped on
    # a line spread out by justification has wide gaps between its characters but is no table row
    cells = [[] if is_letter_spaced(line["text"]) else borderless.segments(line["chars"], size)
             for line, size in zip(lines, sizes)]
    taken: set[int] = set()
    for start, end, starts, rows in borderless.find_tables(cells, sizes):
        result.items.append((lines[start]["top"], _Table(rows, starts + [max(l["x1"] for l in lines[start:end])])))
        taken.update(range(start, end))
    for index, (line, text, size) in enumerate(zip(lines, texts, sizes)):
        if index not in taken:
            item = _Line(text, line["x0"], line["x1"], line["top"], line["bottom"], size,
                         spread=is_letter_spaced(line["text"]))
            result.items.append((line["top"], item))
    result.items.sort(key=lambda pair: pair[0])
    return result


def _ocr_page(page, name: str) -> _Page:
    try:
        lines = ocr.ocr_page(page)
    except ocr.OcrError as exc:
        raise ReadError(f"{name}: page {page.page_number}: {exc}") from exc
    result = _Page(page.page_number, float(page.height), ocr=True)
    result.items = [(line.top, _Line(unspace_letter_spaced(clean_line(line.text), ocr=True), line.x0, line.x1,
                                     line.top, line.bottom, line.size)) for line in lines]
    return result


def _grid(table) -> tuple[list[list[GridCell]], list[float]]:
    """The table's cell texts on its column grid, a position no cell starts at marked as covered
    by the merged cell to its left (when one reaches over it) or above."""
    columns = sorted({cell[0] for row in table.rows for cell in row.cells if cell}) + [table.bbox[2]]
    grid = []
    for row, texts in zip(table.rows, table.extract()):
        cells: list[GridCell] = []
        for index, (box, text) in enumerate(zip(row.cells, texts)):
            if box is not None:
                cells.append(clean_cell([join_cell_lines(text or "")]))
            elif any(other is not None and other[2] > columns[index] + 1 for other in row.cells[:index]):
                cells.append(FROM_LEFT)
            else:
                cells.append(FROM_ABOVE)
        grid.append(cells)
    return grid, columns


def _drop_running_lines(pages: list[_Page]) -> None:
    """Drop printed page numbers (kept as the page's label) and lines repeated near the top or
    bottom of most pages, digits ignored: running headers and footers."""

    def edge_key(page: _Page, line: _Line) -> str | None:
        near_edge = line.top < page.height * EDGE_SHARE or line.bottom > page.height * (1 - EDGE_SHARE)
        # compared as title keys: a running line read by OCR on one page may lose its 「·」
        return DIGITS.sub("#", title_key(line.text)) if near_edge else None

    counts = Counter(
        key for page in pages for key in {edge_key(page, item) for _, item in page.items if isinstance(item, _Line)}
        if key
    )
    running = {key for key, count in counts.items() if len(pages) >= 2 and count >= max(2, len(pages) // 2)}
    for page in pages:
        kept = []
        for top, item in page.items:
            key = edge_key(page, item) if isinstance(item, _Line) else None
            label = page_label(item.text) if key is not None else None
            if label is not None:
                page.label = label
            elif key is None or key not in running:
                kept.append((top, item))
        page.items = kept


def _blocks(pages: list[_Page]) -> tuple[list[Block], list[int]]:
    """Paragraphs and tables in reading order, each with the page label it starts on."""
    page_lines = [[item for _, item in page.items if isinstance(item, _Line)] for page in pages]
    width = _text_width(page_lines)
    gap = _line_gap([line for lines in page_lines for line in lines])
    blocks: list[str | _Table] = []
    block_pages: list[int] = []
    open_table: _Table | None = None  # the table just read, which the next page may continue
    previous: _Line | None = None  # kept across a page break: a paragraph may go on over it
    for page, lines in zip(pages, page_lines):
        left = min((line.x0 for line in lines), default=0.0)  # this page's margins
        for line in lines:
            _place(line, left, left + width)
        for position, (_, item) in enumerate(page.items):
            if isinstance(item, _Table):
                if open_table is not None and position == 0 and _same_columns(open_table, item):
                    _continue_table(open_table, item)
                else:
                    blocks.append(item)
                    block_pages.append(page.label)
                    open_table = item
                previous = None
            elif previous is not None and not _starts_paragraph(previous, item, gap):
                blocks[-1] = join_wrapped(blocks[-1], item.text)
                previous = item
            else:
                blocks.append(item.text)
                block_pages.append(page.label)
                open_table, previous = None, item
    return [logical_rows(b.grid) if isinstance(b, _Table) else b for b in blocks], block_pages


def _same_columns(table: _Table, piece: _Table, tolerance: float = 2.0) -> bool:
    return len(table.columns) == len(piece.columns) and all(
        abs(a - b) <= tolerance for a, b in zip(table.columns, piece.columns))


def _continue_table(table: _Table, piece: _Table) -> None:
    """Append a piece of `table` from the next page: without its repeated header, and with the
    rest of a row the page break cut joined to that row."""
    rows = piece.grid
    depth = header_depth(table.grid)
    if rows[:depth] == table.grid[:depth]:
        rows = rows[depth:]
    if rows and len(table.grid) > depth and _rest_of_row(table.grid[-1], rows[0]):
        table.grid[-1] = [_join_cells(above, below) for above, below in zip(table.grid[-1], rows[0])]
        rows = rows[1:]
    table.grid.extend(rows)


def _rest_of_row(last: list[GridCell], first: list[GridCell]) -> bool:
    return first[0] == "" and isinstance(last[0], str) and last[0] != "" and any(
        isinstance(cell, str) and cell for cell in first)


def _join_cells(above: GridCell, below: GridCell) -> GridCell:
    if isinstance(above, str) and isinstance(below, str):
        return join_wrapped(above, below) if above and below else above or below
    return above


def _text_width(page_lines: list[list[_Line]]) -> float:
    """The width of a full line: nine lines in ten end at or before it (an overlong word does not count)."""
    widths = sorted(line.x1 - left for lines in page_lines if lines for left in [min(l.x0 for l in lines)]
                    for line in lines)
    return widths[int(len(widths) * 0.9)]


def _place(line: _Line, left: float, right: float) -> None:
    """Where the line sits between its page's margins."""
    em = max(line.size, 1.0)
    line.short = line.spread or line.x1 < right - 2 * em
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
