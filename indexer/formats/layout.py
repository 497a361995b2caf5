"""The text export's layout, written from blocks: one paragraph a line, blank lines between,
tables as tab-separated rows (header row first) with no blank line inside.

The format readers collect `Block`s (a paragraph's text, or a table's rows of cell texts) and
hand them to `to_text`; cell and paragraph text is normalised here, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Block = str | list[list[str]]  # a paragraph, or a table's rows (the first row is the header)

SPACES = re.compile(r"[ \t\xa0\u2002\u2003\u2009\u200b\ufeff]+")
EDGE_SPACES = " \t\xa0\u3000\ufeff\u200b"


def clean_line(text: str) -> str:
    """One line of text: tabs and runs of spaces become one space, edges trimmed."""
    return SPACES.sub(" ", text).strip(EDGE_SPACES)


def clean_cell(lines: Iterable[str]) -> str:
    """A table cell's lines joined with a space (a cell never holds a tab or a line break)."""
    return " ".join(line for line in (clean_line(part) for part in lines) if line)


def to_text(blocks: Iterable[Block]) -> str:
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
    return "\n\n".join(parts) + "\n"
