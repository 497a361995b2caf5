"""Issues as an office suite makes them: the shipped issue written as a Word document (running
header, 「第 N 页」 footer field, headings, justified text, ruled tables with repeating header rows)
read directly and as LibreOffice's PDF of it, plain, with the policy table's merged cells, and
with the county table drawn without rules (its columns then come from where its text starts).

No test says where a page breaks: whatever LibreOffice's layout, the policy table crosses pages
and the result must be the text export's tables and clauses.
"""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from indexer.parse import parse_issue
from indexer.pipeline import ingest
from indexer.readers import read_document
from kb.search import SearchRequest, search
from kb.filters import Filters

from .conftest import REAL_ISSUE, copy_of
from .format_writers import OFFICE_HEADER, office_pdf, write_office_docx

MAX_BYTES = 20_000_000
ISSUE = "2025-06-23"
VARIANTS = ["office-pdf", "merged-docx", "merged-office-pdf", "borderless-office-pdf"]


@pytest.fixture(scope="module")
def office_files(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("office")
    text = REAL_ISSUE.read_text(encoding="utf-8")
    plain = write_office_docx(text, out / "office.docx")
    merged = write_office_docx(text, out / "merged.docx", merged=True)
    borderless = write_office_docx(text, out / "borderless.docx", borderless=True)  # the county table unruled
    return {"office-pdf": office_pdf(plain, out), "merged-docx": merged, "merged-office-pdf": office_pdf(merged, out),
            "borderless-office-pdf": office_pdf(borderless, out)}


def read(path) -> str:
    return read_document(path, MAX_BYTES)[1]


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("variant", VARIANTS)
def test_office_issue_has_the_text_exports_articles_tables_and_policy_clauses(variant, office_files):
    expected = parse_issue(REAL_ISSUE.read_text(encoding="utf-8"), REAL_ISSUE.name)
    path = office_files[variant]
    actual = parse_issue(read(path), path.name)

    assert [(a.title, a.section, a.page, a.source) for a in actual.articles] == [
        (a.title, a.section, a.page, a.source) for a in expected.articles]
    assert [[squeezed(p) for p in a.paragraphs] for a in actual.articles] == [
        [squeezed(p) for p in a.paragraphs] for a in expected.articles]
    county, policy = [table for article in actual.articles for table in article.tables]
    want_county, want_policy = [table for article in expected.articles for table in article.tables]
    assert (county.caption, county.unit, county.note, county.headers, county.rows) == (
        want_county.caption, want_county.unit, want_county.note, want_county.headers, want_county.rows)
    assert [row[1] for row in county.rows][:8] and county.rows[-1][0] == "合计" and len(county.rows) == 9
    assert (policy.caption, policy.credit, policy.rows) == (want_policy.caption, want_policy.credit, want_policy.rows)
    assert [asdict(c) for a in actual.articles for c in a.policies] == [
        asdict(c) for a in expected.articles for c in a.policies]
    assert len([c for a in actual.articles for c in a.policies]) == 17


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_running_header_footer_or_page_number_reaches_the_text(variant, office_files):
    text = read(office_files[variant])
    assert OFFICE_HEADER not in text
    assert not re.search(r"^第 ?\d+ ?页$", text, re.M)


@pytest.mark.parametrize("variant", ["office-pdf", "borderless-office-pdf"])
def test_lines_spread_over_the_width_read_as_their_words_not_as_a_table(variant, office_files):
    issue = parse_issue(read(office_files[variant]), "office.pdf")
    assert (issue.title, issue.publisher) == ("光伏信息精选", "嘉兴市光伏行业协会")


def test_a_merged_header_reads_as_one_header_row_naming_both_levels(office_files):
    issue = parse_issue(read(office_files["merged-docx"]), "merged.docx")
    (table,) = issue.articles[8].tables
    assert table.headers == ["省份", "政策名称", "政策要求", "比例·自用比例", "比例·上网比例", "发布日期", "备注"]
    dates = {row[0]: row[5] for row in table.rows}
    # one 发布日期 cell merged down over two provinces is in both rows
    assert dates["江苏"] == dates["山西"] == "2025年4月29日"
    assert dates["山东"] == dates["福建"] == "2025年6月17日"


@pytest.mark.parametrize("variant", ["office-pdf", "merged-docx"])
def test_office_issue_is_searchable_by_policy_clause(variant, office_files, corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "data", without=[ISSUE])
    report = ingest(kb, [office_files[variant]], progress=False)
    assert report.ok and report.articles == 10, report.failed
    chunks = [row[0] for row in kb.store.connection().execute("SELECT text FROM chunks WHERE issue_id = ?", (ISSUE,))]
    assert not any(OFFICE_HEADER in chunk or re.search(r"第 ?\d+ ?页", chunk) for chunk in chunks)

    top = search(kb, SearchRequest("内蒙古 自用比例", filters=Filters(type="policy")))["results"][0]
    assert top["type"] == "policy" and "内蒙古" in top["text"] and "≥80%" in top["text"] and not top["ocr"]
    (date,) = kb.store.connection().execute(
        "SELECT release_date FROM policies WHERE issue_id = ? AND province = '内蒙古'", (ISSUE,)).fetchone()
    assert date == "2025-06-20"
