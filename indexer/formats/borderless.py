"""Borderless PDF tables: a run of text lines whose words stand in the same columns.

A table drawn without rules has no lines to read its columns from, so they come from where its
text starts: each line is cut into segments at gaps of GAP_EM font sizes or more, and in a run of
at least MIN_ROWS such lines a column is a start position (within one font size) that holds in
most of the run's lines, so one row's odd gap never adds a column; each segment goes to the
column it starts in. MIN_COLUMNS is 3 so a table of contents (a title and, far to its right, a
page number) stays text. Limit: a line of one segment ends the run, so a borderless table whose
cells wrap onto more lines is not found (its lines stay text); ruled tables have no such limit.
"""

from __future__ import annotations

from dataclasses import dataclass

GAP_EM = 1.5  # a gap this wide between two characters of a line separates two cells
WORD_EM = 0.25  # a gap this wide between two Latin characters is a space
MIN_ROWS = 2  # a table's header and first row, left at the foot of a page, are a table already
MIN_COLUMNS = 3
HOLDS = 0.6  # a column position is found in this share of the run's lines


@dataclass
class Segment:
    x0: float
    x1: float
    text: str


def segments(chars: list[dict], size: float) -> list[Segment]:
    """A line's characters cut into segments at wide gaps."""
    em = max(size, 1.0)
    found: list[Segment] = []
    for char in sorted((c for c in chars if c["text"].strip()), key=lambda c: c["x0"]):
        last = found[-1] if found else None
        if last is None or char["x0"] - last.x1 >= GAP_EM * em:
            found.append(Segment(char["x0"], char["x1"], char["text"]))
            continue
        space = " " if char["x0"] - last.x1 >= WORD_EM * em and char["text"].isascii() and last.text[-1].isascii() else ""
        last.text += space + char["text"]
        last.x1 = char["x1"]
    return found


def columns(run: list[list[Segment]], em: float) -> list[float]:
    """The start positions that hold across the run's lines, left to right."""
    starts = sorted(segment.x0 for line in run for segment in line)
    clusters: list[list[float]] = []
    for x in starts:
        if clusters and x - clusters[-1][0] <= em:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    held = []
    for cluster in clusters:
        lo, hi = cluster[0], cluster[0] + em
        rows = sum(1 for line in run if any(lo <= segment.x0 <= hi for segment in line))
        if rows >= HOLDS * len(run):
            held.append(lo)
    return held


def rows(run: list[list[Segment]], starts: list[float], em: float) -> list[list[str]]:
    """Each line's segments placed in the column they start in."""
    table = []
    for line in run:
        cells = [""] * len(starts)
        for segment in line:
            index = max((i for i, x in enumerate(starts) if x <= segment.x0 + em), default=0)
            cells[index] = f"{cells[index]} {segment.text}".strip()
        table.append(cells)
    return table


def find_tables(lines: list[list[Segment]], sizes: list[float]) -> list[tuple[int, int, list[float], list[list[str]]]]:
    """(first line, end line, column starts, rows) of each borderless table among a page's lines."""
    found = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and len(lines[end]) >= 2:
            end += 1
        if end - start >= MIN_ROWS:
            em = max(max(sizes[start:end]), 1.0)
            starts = columns(lines[start:end], em)
            if len(starts) >= MIN_COLUMNS:
                found.append((start, end, starts, rows(lines[start:end], starts, em)))
        start = end + 1
    return found
