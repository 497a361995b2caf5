"""Dataclasses that cross module boundaries: the parsed issue, its chunks, and search hits.

The indexer produces `Issue` and `Chunk`; the store persists them; search returns `Hit`s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

ChunkType = Literal["text", "table_row", "policy"]
CHUNK_TYPES: tuple[str, ...] = ("text", "table_row", "policy")


@dataclass
class TocEntry:
    """One numbered line of the table of contents (目录)."""

    number: int
    title: str
    section: str | None
    page: int | None


@dataclass
class Table:
    """A data table inside an article: caption, unit, header row and body rows."""

    caption: str | None
    headers: list[str]
    rows: list[list[str]]
    unit: str | None = None
    note: str | None = None
    credit: str | None = None

    def row_dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.headers, row)) for row in self.rows]


@dataclass
class PolicyClause:
    """One province's rule from a provincial policy table (one row of it)."""

    province: str
    policy_name: str | None
    requirement: str | None
    self_use_ratio: str | None
    grid_ratio: str | None
    release_date: str | None  # ISO: YYYY-MM-DD, or YYYY-MM when the day is not given
    status: str | None  # 正式文件 / 征求意见
    table_index: int = 0
    row_index: int = 0


@dataclass
class Article:
    """One article of an issue; `paragraphs` are already repaired across page breaks."""

    id: str
    ordinal: int
    title: str
    section: str | None
    page: int | None
    source: str | None
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    policies: list[PolicyClause] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The article body; chunk spans are offsets into this string."""
        return PARAGRAPH_SEPARATOR.join(self.paragraphs)


PARAGRAPH_SEPARATOR = "\n"


@dataclass
class Issue:
    """One weekly digest: header, table of contents and articles."""

    id: str
    title: str
    publisher: str | None
    date_start: str  # ISO date
    date_end: str  # ISO date
    file: str
    toc: list[TocEntry] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)

    @property
    def sections(self) -> list[str]:
        seen: list[str] = []
        for article in self.articles:
            if article.section and article.section not in seen:
                seen.append(article.section)
        return seen

    def to_dict(self) -> dict:
        return asdict(self)


def embedding_text(article_title: str, text: str) -> str:
    """What the model embeds for a chunk: its text with the article title as context. One rule,
    so `kb check --repair` re-embeds a chunk exactly as the indexer did."""
    return f"{article_title}\n{text}"


@dataclass
class Chunk:
    """A searchable unit: a run of paragraphs, one table row, or one policy clause."""

    id: str
    issue_id: str
    article_id: str
    type: str  # one of CHUNK_TYPES
    text: str
    embed_text: str  # what the model sees: `embedding_text(article title, text)`
    start: int  # character span in Article.text; table rows and clauses have -1
    end: int
    ordinal: int
    table_id: str | None = None  # the table and row a table-row or policy chunk was made from
    row_index: int | None = None
    ocr: bool = False  # its text was read from a scanned page by OCR: a character may be wrong


@dataclass
class IssueRef:
    id: str
    title: str
    date_start: str
    date_end: str
    file: str


@dataclass
class ArticleRef:
    id: str
    title: str
    section: str | None
    source: str | None
    page: int | None


@dataclass
class Hit:
    """One search result in the result contract."""

    id: str
    score: float
    type: str
    text: str
    snippet: str
    issue: IssueRef
    article: ArticleRef
    ocr: bool = False  # the text was read by OCR from a scanned page

    def to_dict(self) -> dict:
        return asdict(self)
