"""Scanned pages: pages rendered to images (pdftoppm) and wrapped as image-only PDF pages
(img2pdf), read back through Tesseract; their chunks are marked OCR, and a page that yields no
text is named in the ingest report. Needs tesseract-ocr with chi_sim, poppler-utils, img2pdf and
LibreOffice, which scripts/setup.sh installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest

from indexer.parse import parse_issue
from indexer.pipeline import ingest
from kb.search import SearchRequest, search

from .conftest import REAL_ISSUE, copy_of
from .format_writers import office_pdf, write_office_docx, write_pdf

TOOLS = ["tesseract", "pdftoppm", "pdfseparate", "pdfunite", "img2pdf"]
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS),
    reason=f"OCR tests need {', '.join(TOOLS)} (scripts/setup.sh installs them as root)",
)
HANDMADE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=300)


def scanned(pdf: Path, out: Path, dpi: int = 200) -> Path:
    """An image-only PDF of `pdf`: each page rendered to a greyscale image, as a scanner gives it."""
    run("pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(out / f"{pdf.stem}-scan"))
    images = sorted(out.glob(f"{pdf.stem}-scan-*.png"))
    target = out / f"{pdf.stem}-scanned.pdf"
    run("img2pdf", *map(str, images), "-o", str(target))
    return target


def with_page_replaced(pdf: Path, number: int, page: Path, out: Path) -> Path:
    """`pdf` with its page `number` replaced by the one-page PDF `page` (poppler's tools)."""
    run("pdfseparate", str(pdf), str(out / "page-%d.pdf"))
    count = len(list(out.glob("page-*.pdf")))
    parts = [str(page) if n == number else str(out / f"page-{n}.pdf") for n in range(1, count + 1)]
    target = out / f"{pdf.stem}-with-scan.pdf"
    run("pdfunite", *parts, str(target))
    return target


def chunk_flags(kb, issue: str) -> list[tuple[str, int]]:
    return kb.store.connection().execute("SELECT text, ocr FROM chunks WHERE issue_id = ?", (issue,)).fetchall()


def test_a_scanned_page_among_text_pages_is_searchable_and_marked_ocr(corpus_kb, tmp_path):
    pdf = office_pdf(write_office_docx(REAL_ISSUE.read_text(encoding="utf-8"), tmp_path / "issue.docx"), tmp_path)
    with pdfplumber.open(pdf) as document:
        number = max(page.page_number for page in document.pages if "绿电码头" in (page.extract_text() or ""))
    single = tmp_path / "single"
    single.mkdir()
    run("pdfseparate", "-f", str(number), "-l", str(number), str(pdf), str(single / "one.pdf"))
    mixed = with_page_replaced(pdf, number, scanned(single / "one.pdf", single, dpi=300), tmp_path)
    kb = copy_of(corpus_kb, tmp_path / "data", without=["2025-06-23"])

    report = ingest(kb, [mixed], progress=False)

    assert report.ok and report.articles == 10 and not report.notes, (report.failed, report.notes)
    hits = search(kb, SearchRequest("绿电码头", mode="keyword"))["results"]
    assert any(hit["ocr"] and "绿电码头" in hit["text"] for hit in hits)
    flags = [ocr for _, ocr in chunk_flags(kb, "2025-06-23")]
    assert 0 < sum(flags) < len(flags)  # the scanned page's chunks, not the text pages'


def test_a_whole_image_only_issue_indexes_with_its_dates_read_by_ocr(make_kb, tmp_path):
    text = HANDMADE.read_text(encoding="utf-8")
    scan = scanned(office_pdf(write_office_docx(text, tmp_path / "hand.docx"), tmp_path), tmp_path)
    expected = parse_issue(text, HANDMADE.name)
    kb = make_kb()

    report = ingest(kb, [scan], progress=False)

    assert report.ok and report.articles >= 1, report.failed
    ((issue, end),) = kb.store.connection().execute("SELECT id, date_end FROM issues").fetchall()
    assert (issue, end) == (expected.id, expected.date_end)
    flags = chunk_flags(kb, issue)
    assert flags and all(ocr for _, ocr in flags)
    hits = search(kb, SearchRequest("绿电码头", mode="keyword"))["results"]
    assert hits and all(hit["ocr"] for hit in hits)


def test_a_page_that_yields_no_text_is_named_in_the_report(make_kb, tmp_path):
    from PIL import Image

    pdf = write_pdf(HANDMADE.read_text(encoding="utf-8"), tmp_path / "hand.pdf")
    Image.new("L", (1654, 2339), 255).save(tmp_path / "blank.png")  # an A4 page scanned at 200 dpi
    run("img2pdf", str(tmp_path / "blank.png"), "-o", str(tmp_path / "blank.pdf"))
    with pdfplumber.open(pdf) as document:
        pages = len(document.pages)
    target = tmp_path / "with-blank.pdf"
    run("pdfunite", str(pdf), str(tmp_path / "blank.pdf"), str(target))

    report = ingest(make_kb(), [target], progress=False)

    assert report.ok and report.articles == 5, report.failed
    assert report.notes == [f"{target}: page {pages + 1} has no text (OCR read nothing on it)"]
    assert f"note: {target}: page {pages + 1}" in report.summary()
