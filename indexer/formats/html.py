"""HTML pages -> issue text: a digest published as a web page, or a single news article.

Scripts, styles, navigation, page headers and footers are dropped; block elements become
paragraphs, `<ol>` items get their numbers, `<table>`s become tab rows (colspan and rowspan
padded). A page whose text has a 目录 and an issue date range is a digest and is passed on as
it reads. Any other page is one article: it becomes an issue of one article dated by the page
(its published-time metadata, or the date printed under its title), with the page's 来源 line.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ..parse import DATE_RANGE
from .base import READERS, ReadError, decode_text
from ..text import SOURCE_LINE, iso_date, title_key
from ..toc import TOC_HEADING
from .layout import Block, clean_line, to_text

BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "blockquote", "pre", "figure", "figcaption", "dl", "dt", "dd", "address", "hr", "center",
    "caption", "header", "footer", "tr", "td", "th", "body",
}
DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button",
             "input", "select", "textarea", "nav", "aside", "head", "link", "meta", "object", "embed"]
DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
NOISE_NAME = re.compile(
    r"^(?:nav|navbar|menu|breadcrumbs?|crumbs?|sidebar|share|sharing|comments?|toolbar|pagination|pager|"
    r"skip-link|site-header|site-footer|footer|topbar|copyright|qr-?code|related(?:-\w+)?)$",
    re.I,
)
META_DATE_NAMES = ("article:published_time", "og:article:published_time", "og:published_time",
                   "publishdate", "pubdate", "publish_date", "publishtime", "dc.date", "dc.date.issued", "date")
META_LINE = re.compile(
    r"^\s*(?:(?:文章|信息)?来源|发布(?:时间|日期)|日期|时间|作者|编辑|责任编辑|浏览(?:次数)?|阅读(?:量)?)\s*[:：]"
)
SOURCE_IN_LINE = re.compile(r"(?:文章|信息)?来源\s*[:：]\s*(?P<source>[^\s|｜/]+)")
DATED_LINE = re.compile(r"(?:发布|时间|日期)\D{0,6}(?P<date>\d{4}\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2})")
SCRIPT_DATE = re.compile(r"""(?:createTime|publish_time)\s*=\s*['"](?P<date>\d{4}-\d{2}-\d{2})""")
SCRIPT_EPOCH = re.compile(r"""\bvar\s+ct\s*=\s*['"]?(?P<epoch>\d{10})\b""")
TITLE_SUFFIX = re.compile(r"\s*[-_|｜—–]\s*[^-_|｜—–]{1,30}$")
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def read_html(data: bytes, name: str) -> str:
    soup = BeautifulSoup(decode_text(data, name), "html.parser")
    page = _PageInfo.of(soup)
    _drop_noise(soup)
    blocks = _Blocks().collect(_content_root(soup))
    lines = [block for block in blocks if isinstance(block, str)]
    if _is_digest(lines):
        return to_text(blocks)
    return _single_article(blocks, page, name)


# ---- what the page says about itself ----------------------------------------------------


class _PageInfo:
    """Title, publication date (ISO), site name and 来源 of a page, from its metadata and text."""

    def __init__(self, title: str, date: str | None, site: str | None, source: str | None):
        self.title, self.date, self.site, self.source = title, date, site, source

    @classmethod
    def of(cls, soup: BeautifulSoup) -> "_PageInfo":
        text_lines = [clean_line(s) for s in soup.get_text("\n").splitlines()]
        return cls(_title(soup), _page_date(soup, text_lines), _site(soup), _source(soup, text_lines))


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag is None:
            tag = soup.find("meta", attrs={"name": re.compile(f"^{re.escape(name)}$", re.I)})
        if tag is not None and tag.get("content", "").strip():
            return tag["content"].strip()
    return None


def _title(soup: BeautifulSoup) -> str:
    heading = soup.find("h1")
    for candidate in (
        _meta(soup, "og:title", "twitter:title"),
        heading.get_text(" ") if heading else None,
        TITLE_SUFFIX.sub("", soup.title.get_text(" ")) if soup.title else None,
    ):
        if candidate and clean_line(candidate):
            return clean_line(candidate)
    return ""


def _page_date(soup: BeautifulSoup, text_lines: list[str]) -> str | None:
    candidates = [_meta(soup, *META_DATE_NAMES)]
    candidates += [tag.get("datetime") or tag.get_text(" ") for tag in soup.find_all("time")]
    published = soup.find(id="publish_time")
    candidates.append(published.get_text(" ") if published else None)
    for script in soup.find_all("script"):
        body = script.string or ""
        if match := SCRIPT_DATE.search(body):
            candidates.append(match["date"])
        elif match := SCRIPT_EPOCH.search(body):
            moment = datetime.fromtimestamp(int(match["epoch"]), tz=timezone.utc)
            candidates.append(moment.date().isoformat())
    candidates += [m["date"] for line in text_lines if (m := DATED_LINE.search(line))]
    for candidate in candidates:
        iso = iso_date(candidate) if candidate else None
        if iso and len(iso) == 10:
            return iso
    return None


def _site(soup: BeautifulSoup) -> str | None:
    account = soup.find(id="js_name")  # a WeChat article's account
    site = _meta(soup, "og:site_name", "application-name") or (account.get_text(" ") if account else None)
    return clean_line(site) if site and clean_line(site) else None


def _source(soup: BeautifulSoup, text_lines: list[str]) -> str | None:
    meta = _meta(soup, "source", "article:source")
    return clean_line(meta) if meta else _source_in(text_lines)


def _source_in(lines) -> str | None:
    """The 来源 of the first line naming one: '（来源：人民日报）' or '来源：人民日报 发布时间：…'."""
    for line in lines:
        match = SOURCE_LINE.match(line) or (SOURCE_IN_LINE.search(line) if len(line) <= 80 else None)
        if match:
            return match["source"]
    return None


# ---- the page's content as blocks -------------------------------------------------------


def _drop_noise(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        names = [tag.get("id", ""), *tag.get("class", [])]
        in_article = tag.find_parent(["article", "main"]) is not None
        if (
            tag.get("role") in DROP_ROLES
            or any(NOISE_NAME.match(n) for n in names if n)
            or (tag.name in ("header", "footer") and not in_article)
            or tag.get("hidden") is not None
            or "display:none" in tag.get("style", "").replace(" ", "")
        ):
            tag.decompose()


def _content_root(soup: BeautifulSoup) -> Tag:
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    for found in (soup.find(id="js_content"), soup.find("main"), soup.find(attrs={"role": "main"}), soup.body):
        if found is not None:
            return found
    return soup


class _Blocks:
    """Walks the DOM, gathering inline text into paragraphs and tables into rows."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[str] = []

    def collect(self, root: Tag) -> list[Block]:
        self._walk(root)
        self._flush()
        return self.blocks

    def _flush(self) -> None:
        line = _inline_text("".join(self._parts))
        self._parts.clear()
        if line:
            self.blocks.append(line)

    def _walk(self, node: Tag) -> None:
        number = int(node.get("start", 1)) if node.name == "ol" and str(node.get("start", "1")).isdigit() else 1
        for child in node.children:
            if isinstance(child, NavigableString):
                self._parts.append(str(child))
            elif not isinstance(child, Tag):
                continue
            elif child.name == "br":
                self._flush()
            elif child.name == "table" and not _is_layout_table(child):
                self._flush()
                caption = child.find("caption")
                if caption is not None:
                    self.blocks.append(_inline_text(caption.get_text(" ")))
                self.blocks.append(_table_rows(child))
            elif child.name in BLOCK_TAGS or child.name == "table":
                self._flush()
                if child.name == "li" and node.name == "ol":
                    self._parts.append(f"{number}. ")
                    number += 1
                self._walk(child)
                self._flush()
            else:
                self._walk(child)


def _inline_text(raw: str) -> str:
    """Collapse source whitespace; a line break between two CJK characters is not a space."""
    text = unicodedata.normalize("NFC", raw)

    def space(match: re.Match) -> str:
        before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
        if "\n" in match.group(0) and CJK.match(before) and CJK.match(after):
            return ""
        return " "

    return clean_line(re.sub(r"\s+", space, text))


def _is_layout_table(table: Tag) -> bool:
    """A table used for page layout: nested tables, or a single column of content."""
    if table.find("table") is not None:
        return True
    widths = {len(tr.find_all(["td", "th"], recursive=False)) for tr in _rows(table)}
    return max(widths, default=0) < 2


def _rows(table: Tag) -> list[Tag]:
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _table_rows(table: Tag) -> list[list[str]]:
    """Cell texts row by row; a cell spanning columns or rows leaves empty cells after it."""
    rows: list[list[str]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    for tr in _rows(table):
        row: list[str] = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            while pending.get(len(row), 0) > 0:
                pending[len(row)] -= 1
                row.append("")
            row.append(_cell_text(cell))
            span_rows, span_cols = _span(cell, "rowspan"), _span(cell, "colspan")
            if span_rows > 1:
                pending[len(row) - 1] = span_rows - 1
            for _ in range(span_cols - 1):
                row.append("")
        while pending.get(len(row), 0) > 0:
            pending[len(row)] -= 1
            row.append("")
        rows.append(row)
    return rows


def _span(cell: Tag, attribute: str) -> int:
    value = str(cell.get(attribute, "1")).strip()
    return max(1, min(int(value), 100)) if value.isdigit() else 1


def _cell_text(cell: Tag) -> str:
    return " ".join(b for b in _Blocks().collect(cell) if isinstance(b, str))


# ---- digest or single article -----------------------------------------------------------


def _is_digest(lines: list[str]) -> bool:
    toc_at = next((i for i, line in enumerate(lines) if TOC_HEADING.match(line)), None)
    if toc_at is None:
        return False
    return any(DATE_RANGE.search(unicodedata.normalize("NFKC", line)) for line in lines[:toc_at])


def _single_article(blocks: list[Block], page: _PageInfo, name: str) -> str:
    """One article as an issue of one article, dated by the page, in the text export's layout."""
    if not page.title:
        raise ReadError(f"{name}: a web page with no title (no <h1>, og:title or <title>)")
    if page.date is None:
        raise ReadError(f"{name}: a single-article page with no publication date")
    body = _article_body(blocks, page.title)
    source = _source_in(b for b in blocks if isinstance(b, str)) or page.source
    if source and not any(isinstance(b, str) and SOURCE_LINE.match(b) for b in body):
        body.append(f"（来源：{source}）")
    day = page.date.replace("-", ". ")
    header: list[Block] = [page.title, f"({day}-{day})"]
    if page.site:
        header.append(f"{page.site} 编")
    return to_text([*header, "目 录", f"1. {page.title}", page.title, *body])


def _article_body(blocks: list[Block], title: str) -> list[Block]:
    """The blocks after the page's own title line, less the date/source/author lines."""
    key = title_key(title)
    start = next((i + 1 for i, b in enumerate(blocks[:10]) if isinstance(b, str) and title_key(b) == key), 0)
    return [
        block for block in blocks[start:]
        if not (isinstance(block, str) and len(block) <= 80 and META_LINE.match(block))
    ]


READERS[".html"] = READERS[".htm"] = read_html
