"""Test helpers: write an issue given as text export as a real HTML page, DOCX or PDF file.

Each writer lays the same content out the way that format carries it: headings for the issue
and article titles, one element per paragraph, real tables with header rows, and the noise each
format brings (navigation and scripts in HTML, tab leaders in a Word TOC, running headers, page
numbers and page breaks inside paragraphs and tables in PDF).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.text import title_key
from indexer.toc import find_toc, parse_toc
from kb.numbers import SPACE_BESIDE_CJK

from docx.oxml.ns import qn

TOC_PAGE = re.compile(r"^(?P<title>.*\S)\s+(?P<page>\d{1,3})$")
RUNNING_HEADER = "光伏信息精选 · 示例光伏协会"


@dataclass
class Line:
    kind: str  # "title", "header", "toc_heading", "toc", "heading", "para", "table"
    text: str = ""
    rows: list[list[str]] | None = None


def classify(text: str) -> list[Line]:
    """The export's lines with their roles: header, TOC, article headings, paragraphs, tables."""
    lines = text.splitlines()
    toc_at = find_toc(lines)
    toc = parse_toc(lines, toc_at)
    titles = {title_key(entry.title) for entry in toc.entries}
    out: list[Line] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if index < toc_at:
            out.append(Line("title" if not out else "header", stripped))
        elif index == toc_at:
            out.append(Line("toc_heading", stripped))
        elif index < toc.body_start:
            out.append(Line("toc", stripped))
        elif "\t" in line:
            row = [cell.strip() for cell in line.split("\t")]
            if out and out[-1].kind == "table":
                out[-1].rows.append(row)
            else:
                out.append(Line("table", rows=[row]))
        elif title_key(stripped) in titles:
            out.append(Line("heading", stripped))
        else:
            out.append(Line("para", stripped))
    return out


# ---- HTML -------------------------------------------------------------------------------

NOISE_TOP = """<header class="site-header"><a href="/">嘉兴市光伏行业协会</a></header>
<nav><ul><li><a href="/">首页</a></li><li><a href="/news">行业资讯</a></li></ul></nav>
<div class="breadcrumb">首页 &gt; 光伏信息精选</div>"""
NOISE_BOTTOM = """<aside><h3>热门文章</h3><ul><li>不相关的链接</li></ul></aside>
<footer>版权所有 © 2025 示例光伏协会 浙ICP备00000000号</footer>
<script>var ct = "1751251200"; document.write("<p>脚本输出</p>");</script>"""


def write_html(text: str, path: Path) -> Path:
    """A digest as its association's web page: the content in <article>, noise around it."""
    parts = []
    for line in classify(text):
        escaped = html.escape(line.text)
        if line.kind == "title":
            parts.append(f"<h1>{escaped}</h1>")
        elif line.kind == "toc_heading":
            parts.append(f"<h2 class='toc'>{escaped}</h2>")
        elif line.kind == "heading":
            parts.append(f"<h2>\n  {escaped}\n</h2>")
        elif line.kind == "table":
            head, *body = line.rows
            cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
            parts.append(f"<table border='1'><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            parts.append(f"<p>{_wrap_source(escaped)}</p>")
    return _page(path, "光伏信息精选", "\n".join(parts))


def _wrap_source(text: str) -> str:
    """Pretty-printed source: a line break inside a paragraph, between two Chinese characters."""
    if len(text) > 40 and "\n" not in text:
        middle = len(text) // 2
        if "\u4e00" <= text[middle - 1] <= "\u9fff" and "\u4e00" <= text[middle] <= "\u9fff":
            return f"{text[:middle]}\n      {text[middle:]}"
    return text


def _page(path: Path, title: str, article: str, head: str = "") -> Path:
    path.write_text(
        f"<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(title)} - 示例站</title>"
        f"<style>p {{ text-indent: 2em; }}</style>{head}</head>\n<body>\n{NOISE_TOP}\n"
        f"<main><article>\n{article}\n</article></main>\n{NOISE_BOTTOM}\n</body></html>\n",
        encoding="utf-8",
    )
    return path


# ---- PDF --------------------------------------------------------------------------------


def write_pdf(
    text: str, path: Path, page_per_article: bool = False, toc_pages: bool = True, mirrored: bool = False
) -> Path:
    """A digest as its PDF: STSong-Light (reportlab's built-in Chinese font), a running header,
    page numbers printed from the second page on (the cover has none, so the printed number is
    the PDF page less one), ruled tables whose header row repeats on a continuation page.
    page_per_article starts each article on a new page; toc_pages=False prints a TOC without
    page numbers; mirrored gives odd and even pages different margins, as a printed book."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Table, TableStyle

    font = "STSong-Light"
    pdfmetrics.registerFont(UnicodeCIDFont(font))

    def style(name: str, size: float, **extra) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **extra)

    title = style("title", 22, alignment=TA_CENTER, spaceAfter=12)
    centred = style("centred", 11, alignment=TA_CENTER, spaceAfter=4)
    heading = style("heading", 14, alignment=TA_CENTER, spaceBefore=10, spaceAfter=8)
    toc = style("toc", 11, spaceAfter=2)
    body = style("body", 10.5, firstLineIndent=21, spaceAfter=6)
    cell = style("cell", 6)

    story = []
    for line in _toc_entries_joined(classify(text)):
        escaped = html.escape(line.text)
        if line.kind == "title":
            story.append(Paragraph(escaped, title))
        elif line.kind in ("header", "toc_heading"):
            story.append(Paragraph(escaped, centred))
        elif line.kind == "toc":
            entry = TOC_PAGE.match(line.text)
            story.append(Paragraph(escaped if toc_pages or not entry else html.escape(entry["title"]), toc))
        elif line.kind == "heading":
            if page_per_article:
                story.append(PageBreak())
            story.append(Paragraph(escaped, heading))
        elif line.kind == "table":
            data = [row + [""] * (len(line.rows[0]) - len(row)) for row in line.rows]
            story.append(Table([[Paragraph(html.escape(c), cell) for c in row] for row in data],
                               colWidths=_column_widths(data, A4[0] - 108, cell.fontSize), repeatRows=1,
                               style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)])))
        else:
            story.append(Paragraph(escaped, body))

    def decorate(canvas, document) -> None:
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 30, RUNNING_HEADER)
        if document.page > 1:
            canvas.drawCentredString(A4[0] / 2, 30, f"- {document.page - 1} -")

    inner, outer = (72, 36) if mirrored else (54, 54)  # a text width of A4 less 108 pt either way
    odd = Frame(inner, 72, A4[0] - inner - outer, A4[1] - 144, id="odd")
    even = Frame(outer, 72, A4[0] - inner - outer, A4[1] - 144, id="even")
    document = BaseDocTemplate(str(path), pagesize=A4)
    document.addPageTemplates([
        PageTemplate("odd", [odd], onPage=decorate, autoNextPageTemplate="even"),
        PageTemplate("even", [even], onPage=decorate, autoNextPageTemplate="odd"),
    ])
    document.build(story)
    return path


def _toc_entries_joined(lines: list[Line]) -> list[Line]:
    """A TOC entry the export wrapped (its page number on the second line) as one line again,
    for the typesetter to wrap."""
    joined: list[Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if (
            line.kind == "toc" and previous is not None and previous.kind == "toc"
            and re.match(r"\d+\.", previous.text) and not TOC_PAGE.match(previous.text)
            and not re.match(r"\d+\.", line.text) and TOC_PAGE.match(line.text)
        ):
            previous.text += line.text
        else:
            joined.append(line)
    return joined


def _column_widths(rows: list[list[str]], total: float, size: float) -> list[float]:
    """Short columns as wide as their longest cell (a number never wraps), long ones share the rest."""
    longest = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    short = {i: n * size + 14 for i, n in enumerate(longest) if n <= 20}
    rest = max(total - sum(short.values()), 40.0)
    long_total = sum(n for i, n in enumerate(longest) if i not in short) or 1
    return [short.get(i, rest * n / long_total) for i, n in enumerate(longest)]


# ---- DOCX -------------------------------------------------------------------------------


def write_docx(text: str, path: Path) -> Path:
    """A digest as a Word document: title and headings styled, TOC lines with a tab before the
    page number, real tables with a styled header row."""
    from docx import Document

    return _write_lines(Document(), text, path, _grid_table, office=False)


def _write_lines(document, text: str, path: Path, add_table, office: bool) -> Path:
    """The export's lines into `document`: headings for titles, `add_table(document, rows)` for
    tables; office=True justifies body paragraphs with a first-line indent, spreads the title and
    the publisher line over the line's width (分散对齐, which letter-spaces them) and writes TOC
    lines as typed (no tab leader)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for line in classify(text):
        if line.kind == "title":
            title = document.add_heading(line.text, level=0)
            if office:
                title.alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
        elif line.kind == "heading":
            document.add_heading(line.text, level=2)
        elif line.kind == "toc" and not office:
            match = TOC_PAGE.match(line.text)
            document.add_paragraph(f"{match['title']}\t{match['page']}" if match else line.text)
        elif line.kind == "table":
            add_table(document, line.rows)
        else:
            paragraph = document.add_paragraph(line.text)
            if office and line.kind == "header" and line.text.endswith("编"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.DISTRIBUTE
            elif office and line.kind == "para":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
                paragraph.paragraph_format.first_line_indent = Pt(21)
    document.save(path)
    return path


# ---- comparing what the parser makes of two versions ------------------------------------

def issue_fields(issue, squeeze: bool = False) -> dict:
    """The parsed issue as a dict, less the file name (which names the format).

    squeeze=True drops spaces beside a Chinese character: a PDF line wrapped at such a space
    loses it, as a text export made from that PDF would.
    """
    fields = asdict(issue)
    fields.pop("file")
    return squeezed(fields) if squeeze else fields


def squeezed(value):
    """Strings anywhere in `value` without the spaces beside Chinese characters."""
    if isinstance(value, str):
        return SPACE_BESIDE_CJK.sub("", value)
    if isinstance(value, dict):
        return {key: squeezed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [squeezed(item) for item in value]
    return value


# ---- an office suite's DOCX and PDF -------------------------------------------------------

OFFICE_HEADER = "光伏信息精选 · 嘉兴市光伏行业协会"
CJK_FONT = "WenQuanYi Micro Hei"


def write_office_docx(text: str, path: Path, merged: bool = False, borderless: bool = False) -> Path:
    """A digest as its editor writes it in Word: A4, a running header, a 「第 N 页」 footer with a
    PAGE field, headings for titles, justified body text with a first-line indent, ruled tables
    whose header row repeats on every page. merged=True writes the policy table with a 比例 header
    spanning 自用比例/上网比例 (the other header cells merged down over both header rows) and each
    发布日期 shared by neighbouring rows merged down over them, as editors do. borderless=True draws
    the tables other than the policy table without rules."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)
    section.header.paragraphs[0].text = OFFICE_HEADER
    section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _page_field(footer.add_run())
    footer.add_run(" 页")

    def add_table(document, rows: list[list[str]]) -> None:
        if merged and rows[0][0] == "省份":
            _merged_policy_table(document, rows)
        else:
            _grid_table(document, rows, ruled=not (borderless and rows[0][0] != "省份"), repeat_header=True)

    return _write_lines(document, text, path, add_table, office=True)


def _page_field(run) -> None:
    from docx.oxml import OxmlElement

    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == " PAGE " else "w:t")
            element.text = text
        run._r.append(element)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _grid_table(document, rows: list[list[str]], ruled: bool = True, repeat_header: bool = False):
    width = len(rows[0])
    table = document.add_table(rows=len(rows), cols=width)
    if ruled:
        table.style = "Table Grid"
    if repeat_header:
        _repeat_header(table.rows[0])
    for cells, row in zip(table.rows, rows):
        for cell, value in zip(cells.cells, row + [""] * (width - len(row))):
            cell.text = value
    return table


def _merged_policy_table(document, rows: list[list[str]]) -> None:
    header, *body = rows
    ratio = [header.index("自用比例"), header.index("上网比例")]
    date = header.index("发布日期")
    table = document.add_table(rows=len(body) + 2, cols=len(header))
    table.style = "Table Grid"
    for row in table.rows[:2]:
        _repeat_header(row)
    for column, name in enumerate(header):
        if column in ratio:
            table.cell(1, column).text = name
        else:
            table.cell(0, column).merge(table.cell(1, column)).text = name
    table.cell(0, ratio[0]).merge(table.cell(0, ratio[1])).text = "比例"
    for index, row in enumerate(body, start=2):
        for column, value in enumerate(row):
            table.cell(index, column).text = value
    start = 0
    for index in range(1, len(body) + 1):  # merge each run of equal dates down
        if index == len(body) or body[index][date] != body[start][date]:
            if index - start > 1:
                table.cell(start + 2, date).merge(table.cell(index + 1, date)).text = body[start][date]
            start = index


def office_pdf(document: Path, out_dir: Path) -> Path:
    """The document converted by LibreOffice, with a profile of its own for this run (a shared
    profile makes parallel or repeated conversions block or differ)."""
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice")
    if soffice is None:
        import pytest

        pytest.skip("LibreOffice (soffice) is not installed; scripts/setup.sh installs it")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(out_dir), str(document)],
            check=True, capture_output=True, timeout=240,
        )
    return out_dir / f"{document.stem}.pdf"
