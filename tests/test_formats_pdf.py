"""PDF issues: the same articles, tables and attribution as the text export of the same content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.parse import parse_issue
from indexer.readers import ReadError, read_document

from .conftest import REAL_ISSUE
from .format_writers import RUNNING_HEADER, issue_fields, write_pdf

DATA = Path(__file__).parent / "data"
HANDMADE = [DATA / "handmade-2025-06-30.txt", DATA / "handmade-2025-12-29.txt"]
MAX_BYTES = 10_000_000


def read_pdf_file(path: Path) -> str:
    return read_document(path, MAX_BYTES)[1]


@pytest.mark.parametrize("mirrored", [False, True], ids=["margins", "mirrored-margins"])
@pytest.mark.parametrize("source", HANDMADE, ids=lambda p: p.stem)
def test_pdf_of_an_issue_parses_to_the_same_issue_as_its_text_export(source, mirrored, tmp_path):
    text = source.read_text(encoding="utf-8")
    pdf = write_pdf(text, tmp_path / f"{source.stem}.pdf", mirrored=mirrored)
    expected, actual = parse_issue(text, source.name), parse_issue(read_pdf_file(pdf), pdf.name)
    assert issue_fields(actual, squeeze=True) == issue_fields(expected, squeeze=True)
    assert [(a.title, a.section, a.page, a.source) for a in actual.articles] == [
        (a.title, a.section, a.page, a.source) for a in expected.articles
    ]


@pytest.fixture(scope="module")
def real_issue_pdf(tmp_path_factory):
    # STSong-Light has no glyph for "²", so both versions carry "2"
    text = REAL_ISSUE.read_text(encoding="utf-8").replace("²", "2")
    pdf = write_pdf(text, tmp_path_factory.mktemp("pdf") / "real.pdf")
    return text, read_pdf_file(pdf)


def test_real_issue_as_pdf_keeps_articles_pages_sources_tables_and_policies(real_issue_pdf):
    text, from_pdf = real_issue_pdf
    expected, actual = parse_issue(text, "real.txt"), parse_issue(from_pdf, "real.pdf")
    assert issue_fields(actual, squeeze=True) == issue_fields(expected, squeeze=True)
    assert [(a.title, a.section, a.page, a.source) for a in actual.articles] == [
        (a.title, a.section, a.page, a.source) for a in expected.articles
    ]


def test_a_table_continued_on_the_next_page_is_one_table_with_one_header(real_issue_pdf):
    _, from_pdf = real_issue_pdf
    policy_article = parse_issue(from_pdf, "real.pdf").articles[8]
    (table,) = policy_article.tables
    assert table.headers[0] == "省份" and len(table.rows) == 17
    assert all(row[0] != "省份" for row in table.rows)
    assert len(policy_article.policies) == 17


def test_running_headers_and_printed_page_numbers_are_not_text(real_issue_pdf):
    _, from_pdf = real_issue_pdf
    assert RUNNING_HEADER not in from_pdf
    assert not re.search(r"^- \d+ -$", from_pdf, re.M)


def test_toc_without_page_numbers_takes_the_printed_page_each_article_starts_on(tmp_path):
    text = (DATA / "handmade-2025-06-30.txt").read_text(encoding="utf-8")
    pdf = write_pdf(text, tmp_path / "no-pages.pdf", page_per_article=True, toc_pages=False)
    issue = parse_issue(read_pdf_file(pdf), pdf.name)
    # the cover (with the contents) is unnumbered; article n opens PDF page n + 1, printed "n"
    assert [a.page for a in issue.articles] == [1, 2, 3, 4, 5]
    assert [a.section for a in issue.articles] == ["行业聚焦"] * 3 + ["技术前沿", "政策信息"]


def test_a_pdf_without_a_text_layer_is_a_read_error(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(100, 100, 300, 400, fill=1)
    page.save()
    with pytest.raises(ReadError, match="no text layer"):
        read_pdf_file(path)


def test_a_broken_pdf_is_a_read_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body\n%%EOF")
    with pytest.raises(ReadError, match="broken.pdf"):
        read_pdf_file(path)
