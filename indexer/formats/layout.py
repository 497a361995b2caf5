"""The layout layer every format reader writes through: office-suite noise removed once, tables
made logical, and the result written in the text export's layout (one paragraph a line, blank
lines between, tables as tab-separated rows, header row first, no blank line inside).

The readers collect `Block`s (a paragraph's text, or a table's rows of cell texts) and hand them
to `to_text`; what an office suite adds that the text is not lives here, for every format:
- spacing: tabs and runs of spaces become one space; a line whose Chinese characters are spaced
  apart (justified text spread by its typesetter, Tesseract's output) has those spaces removed;
- running headers, footers and printed page numbers (「第 3 页」, 「- 3 -」, 「3」): `page_label`;
- wraps: a Latin word wrapped at its hyphen (TOP-/Con) rejoins without a space, Latin words
  wrapped at a space keep it (`join_wrapped`);
- merged table cells: `logical_rows` turns a grid with cells covered by a merge into the table a
  reader means (see its docstring for the representation and why).
Punctuation width (（ or (, ： or :) is left as printed: every comparison goes through
`indexer.text.title_key`, which folds widths, so the stored text stays what the issue says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..text import join_broken

Block = str | list[list[str]]  # a paragraph, or a table's rows (the first row is the header)

SPACES = re.compile(r"[ \t\xa0\u2002\u2003\u2009\u200b\ufeff]+")
EDGE_SPACES = " \t\xa0\u3000\ufeff\u200b"
WIDE = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201d"  # CJK and full-width punctuation
WIDE_PAIR = re.compile(rf"(?<=[{WIDE}])(?P<gap> ?)(?=[{WIDE}])")
WIDE_GAP = re.compile(rf"(?<=[{WIDE}]) (?=[{WIDE}])")
PAGE_LABEL = re.compile(r"^\s*(?:第\s*(?P<cn>\d{1,3})\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|[-–—]?\s*(?P<n>\d{1,3})\s*[-–—]?"
                        r"|(?:page|p\.)\s*(?P<en>\d{1,3})(?:\s*(?:of|/)\s*\d{1,3})?)\s*$", re.I)


def clean_line(text: str) -> str:
    """One line of text: tabs and runs of spaces become one space, edges trimmed, and the
    spaces of a letter-spaced Chinese line removed."""
    return unspace_letter_spaced(SPACES.sub(" ", text).strip(EDGE_SPACES))


def unspace_letter_spaced(line: str, ocr: bool = False) -> str:
    """A line where most neighbouring Chinese characters stand a space apart was spaced by its
    typesetter, not by its writer: those spaces go, and so does every space between Chinese
    characters in a line read by OCR (Tesseract spaces them apart). A writer's occasional space
    between two Chinese characters in a text layer (「三链融合 为光伏」) stays."""
    return WIDE_GAP.sub("", line) if ocr or is_letter_spaced(line) else line


def is_letter_spaced(line: str) -> bool:
    """Most neighbouring Chinese characters (four pairs at least) stand a space apart: a line
    spread by justification (Word's 分散对齐) rather than spaces its writer typed."""
    gaps = [match["gap"] for match in WIDE_PAIR.finditer(line)]
    return len(gaps) >= 4 and sum(1 for gap in gaps if gap) * 2 >= len(gaps)


def clean_cell(lines: Iterable[str]) -> str:
    """A table cell's lines joined with a space (a cell never holds a tab or a line break)."""
    return " ".join(line for line in (clean_line(part) for part in lines) if line)


def join_wrapped(first: str, second: str) -> str:
    """Rejoin a line the typesetter wrapped: Latin text wrapped after punctuation ("modules, 10.05")
    keeps its space; otherwise as the parser rejoins a sentence cut by a page break (Latin words
    keep their space, a word wrapped at its hyphen, TOP-Con, and Chinese text join without one)."""
    a, b = first.rstrip(), second.lstrip()
    if a and b and a[-1] in ",;:.!?)%" and b[0].isascii() and (b[0].isalnum() or b[0] in "(\"'"):
        return f"{a} {b}"
    return join_broken(a, b)


def join_cell_lines(text: str) -> str:
    """A cell's wrapped lines rejoined like a paragraph's."""
    joined = ""
    for part in text.split("\n"):
        joined = join_wrapped(joined, part.strip()) if joined else part.strip()
    return joined


def page_label(line: str) -> int | None:
    """The page number a printed page-number line gives (「第 3 页」, 「- 3 -」, 「Page 3 of 9」)."""
    match = PAGE_LABEL.match(line)
    if match is None:
        return None
    return int(match["cn"] or match["n"] or match["en"])


class Covered:
    """A grid position covered by a merged cell that starts to its left or above it."""

    def __init__(self, direction: str) -> None:
        self.direction = direction

    def __repr__(self) -> str:
        return f"Covered({self.direction!r})"


FROM_LEFT, FROM_ABOVE = Covered("left"), Covered("above")
GridCell = str | Covered
HEADER_JOIN = "·"


def header_depth(grid: list[list[GridCell]]) -> int:
    """How many rows the header takes: row 0, and each next row that holds only cells merged down
    from the header and cells under a header cell spanning columns (比例 over 自用比例/上网比例)."""
    if not grid:
        return 0
    first = grid[0]
    under_span = {c for c, cell in enumerate(first)
                  if cell is FROM_LEFT or (c + 1 < len(first) and first[c + 1] is FROM_LEFT)}
    depth = 1
    while depth < len(grid):
        row = grid[depth]
        if not any(cell is FROM_ABOVE for cell in row) or not all(
            cell is FROM_ABOVE or c in under_span for c, cell in enumerate(row)
        ):
            break
        depth += 1
    return depth


def logical_rows(grid: list[list[GridCell]]) -> list[list[str]]:
    """A grid with merged cells -> one header row and body rows of plain cell texts.

    The representation: a cell merged down over several rows has its text in every row it
    covers (江苏 and 山西 both released on 2025年4月29日): each body row is then a record on its
    own, as a row chunk and a policy clause need it. A cell spanning columns has its text once,
    in its first column, the covered ones empty: a label across columns (合计 over 序号 and 名称)
    is one value, and repeated it would fake a county called 合计. A header of several rows
    becomes one row, each column's header its distinct texts top-down joined by 「·」
    (比例·自用比例), so every column keeps a name of its own.
    """
    depth = header_depth(grid)
    resolved: list[list[str]] = []
    for r, row in enumerate(grid):
        texts = []
        for c, cell in enumerate(row):
            if cell is FROM_ABOVE:
                texts.append(resolved[r - 1][c] if r and c < len(resolved[r - 1]) else "")
            elif cell is FROM_LEFT:
                texts.append(texts[-1] if r < depth and texts else "")
            else:
                texts.append(cell)
        resolved.append(texts)
    if not resolved:
        return []
    header = []
    for c in range(len(resolved[0])):
        names: list[str] = []
        for row in resolved[:depth]:
            if c < len(row) and row[c] and row[c] not in names:
                names.append(row[c])
        header.append(HEADER_JOIN.join(names))
    return [header, *resolved[depth:]]


class DocumentText(str):
    """A reader's text, and what the text alone cannot say: the lines read by OCR (so the chunks
    holding them can say a character may be wrong) and notes about the file (a page that gave no
    text), which the ingest report shows."""

    ocr: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def to_text(blocks: Iterable[Block], ocr: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> DocumentText:
    """Blocks -> text export layout; empty paragraphs and tables with no cell text are dropped."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            line = clean_line(block)
            if line:
                parts.append(line)
            continue
        rows = [[clean_cell([cell]) for cell in row] for row in block]
        rows = [row for row in rows if any(row)]
        if rows:
            parts.append("\n".join("\t".join(row) for row in rows))
    text = DocumentText("\n\n".join(parts) + "\n")
    text.ocr, text.notes = ocr, notes
    return text
