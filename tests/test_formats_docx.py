"""Word documents: paragraphs, headings and tables give the same issue as the text export."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.oxml import OxmlElement

from indexer.parse import parse_issue
from indexer.readers import ReadError, read_document

from .conftest import REAL_ISSUE
from .format_writers import issue_fields, write_docx

DATA = Path(__file__).parent / "data"
MAX_BYTES = 10_000_000


def read_docx_file(path: Path) -> str:
    return read_document(path, MAX_BYTES)[1]


@pytest.mark.parametrize("source", [REAL_ISSUE, DATA / "handmade-2025-06-30.txt"], ids=lambda p: p.stem)
def test_word_document_parses_to_the_same_issue_as_its_text_export(source, tmp_path):
    text = source.read_text(encoding="utf-8")
    document = write_docx(text, tmp_path / f"{source.stem}.docx")
    assert issue_fields(parse_issue(read_docx_file(document), document.name)) == issue_fields(
        parse_issue(text, source.name)
    )


def test_toc_tab_leaders_become_spaces_and_only_tables_give_tab_rows(tmp_path):
    document = write_docx((DATA / "handmade-2025-06-30.txt").read_text(encoding="utf-8"), tmp_path / "d.docx")
    text = read_docx_file(document)
    assert "1. 光伏产业供应链价格报告 1\n" in text
    assert all(line.count("\t") in (4, 6) for line in text.splitlines() if "\t" in line)


def test_contents_in_a_content_control_and_merged_cells_are_read(tmp_path):
    document = Document()
    document.add_paragraph("光伏信息精选")
    document.add_paragraph("(2025. 07. 07-2025. 07. 13)")
    toc = [document.add_paragraph("目 录"), document.add_paragraph("1. 可开放容量汇总\t1")]
    document.add_heading("可开放容量汇总", level=2)
    document.add_paragraph("单位：兆瓦")
    table = document.add_table(rows=4, cols=3)
    for row, values in zip(table.rows, [["区县", "季度", "容量"], ["南湖区", "Q2", "658"], ["", "Q3", "700"], ["合计", "", "1358"]]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # 南湖区 spans two rows
    table.cell(3, 0).merge(table.cell(3, 1))  # 合计 spans two columns
    # a Word-made table of contents sits in a content control (w:sdt)
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    sdt.append(content)
    toc[0]._p.addprevious(sdt)
    for paragraph in toc:
        content.append(paragraph._p)
    path = tmp_path / "merged.docx"
    document.save(path)

    issue = parse_issue(read_docx_file(path), path.name)
    (article,) = issue.articles
    assert (article.title, article.page) == ("可开放容量汇总", 1)
    (parsed,) = article.tables
    assert parsed.unit == "兆瓦"
    # merged down: the text in every row it covers; merged across: once, in its first column
    assert parsed.rows == [["南湖区", "Q2", "658"], ["南湖区", "Q3", "700"], ["合计", "", "1358"]]


def test_a_file_that_is_not_a_word_document_is_a_read_error(tmp_path):
    path = tmp_path / "fake.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="fake.docx"):
        read_docx_file(path)
