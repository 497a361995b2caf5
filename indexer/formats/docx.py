"""Word documents (.docx, python-docx) -> issue text: paragraphs, headings and tables in body order.

Content controls (a Word-made table of contents sits in one) are read through. A tab inside a
paragraph (a TOC line's leader before its page number) becomes a space, so only tables produce
tab-separated lines; a manual line break splits a paragraph into lines. Merged cells (`gridSpan`
across columns, `vMerge` down rows) are marked on the table's grid and resolved by
`layout.logical_rows`, the same as a PDF's merged cells: a cell merged down has its text in every
row, a cell spanning columns has it once, and header rows merged into each other become one.
"""

from __future__ import annotations

import io
import zipfile

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from .base import READERS, ReadError
from .layout import FROM_ABOVE, FROM_LEFT, Block, GridCell, clean_cell, logical_rows, to_text

PARAGRAPH, TABLE, CONTENT_CONTROL = qn("w:p"), qn("w:tbl"), qn("w:sdt")


def read_docx(data: bytes, name: str) -> str:
    try:
        document = Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, XMLSyntaxError, ValueError) as exc:
        raise ReadError(f"{name}: not a readable Word (.docx) document ({exc})") from exc
    blocks = list(_blocks(document.element.body, document))
    if not blocks:
        raise ReadError(f"{name}: the Word document has no text")
    return to_text(blocks)


def _blocks(element, parent):
    for child in element.iterchildren():
        if child.tag == PARAGRAPH:
            yield from Paragraph(child, parent).text.replace("\t", " ").split("\n")
        elif child.tag == TABLE:
            yield _rows(Table(child, parent))
        elif child.tag == CONTENT_CONTROL:
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent)


def _rows(table: Table) -> list[list[str]]:
    """python-docx gives a merged cell at every grid position it covers: the same element as the
    position to the left is a `gridSpan`, the same as the one above a `vMerge`."""
    grid: list[list[GridCell]] = []
    above: list = []  # the cell elements of the row before
    for row in table.rows:
        cells, texts = [], []
        for index, cell in enumerate(row.cells):
            if cells and cell._tc is cells[-1]:
                texts.append(FROM_LEFT)
            elif index < len(above) and cell._tc is above[index]:
                texts.append(FROM_ABOVE)
            else:
                texts.append(clean_cell(p.text.replace("\t", " ") for p in cell.paragraphs))
            cells.append(cell._tc)
        grid.append(texts)
        above = cells
    return logical_rows(grid)


READERS[".docx"] = read_docx
