"""An article as HTML pieces: paragraphs cut at chunk boundaries, tables with a row per chunk.

Each text chunk's span becomes `<span class="passage" id="<chunk id>">` pieces (a chunk can run
over several paragraphs, or start inside a long one), so a search hit can link to
`/articles/<id>?hit=<chunk id>#<chunk id>`: the browser scrolls there and the `hit` piece is
highlighted. Query terms are wrapped in <mark> by `kb.snippets.highlight`, which escapes the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from kb.glossary import expand_query
from kb.knowledge_base import KnowledgeBase
from kb.models import PARAGRAPH_SEPARATOR
from kb.errors import QueryError
from kb.search import clean_query
from kb.segment import query_terms
from kb.snippets import highlight


@dataclass
class TableView:
    table: dict
    rows: list[tuple[str | None, bool, list[Markup]]]  # (chunk id, is the hit, marked cells)


def highlight_terms(kb: KnowledgeBase, query: str) -> list[str]:
    """The terms search would highlight for `query`; none for a query search would reject."""
    try:
        cleaned = clean_query(query, kb.settings.max_query_chars)
    except QueryError:
        return []
    terms = query_terms(expand_query(cleaned) if kb.settings.expand_english else cleaned)
    return [t for t in terms if len(t) > 1] or terms


def marked(text: str, terms: list[str]) -> Markup:
    """`text` escaped, with each term occurrence in <mark>."""
    if not terms or not text:
        return escape(text)
    return Markup(highlight(text, terms, width=len(text)))


def paragraphs(article: dict, hit: str | None, terms: list[str]) -> list[Markup]:
    """One HTML string per paragraph; the first piece of each text chunk carries its id."""
    spans = [(c["start"], c["end"], c["id"]) for c in article["chunks"] if c["type"] == "text" and c["start"] >= 0]
    anchored: set[str] = set()
    out: list[Markup] = []
    offset = 0
    for paragraph in article["paragraphs"]:
        first, last = offset, offset + len(paragraph)
        cuts = sorted({first, last} | {edge for s, e, _ in spans for edge in (s, e) if first < edge < last})
        pieces: list[Markup] = []
        for start, end in zip(cuts, cuts[1:]):
            inner = marked(paragraph[start - first : end - first], terms)
            owner = next((chunk_id for s, e, chunk_id in spans if s <= start < e), None)
            if owner is None:
                pieces.append(inner)
                continue
            classes = "passage hit" if owner == hit else "passage"
            anchor = Markup(' id="{}"').format(owner) if owner not in anchored else Markup("")
            anchored.add(owner)
            pieces.append(Markup('<span class="{}"{} data-chunk="{}">{}</span>').format(classes, anchor, owner, inner))
        out.append(Markup("").join(pieces))
        offset = last + len(PARAGRAPH_SEPARATOR)
    return out


def tables(article: dict, hit: str | None, terms: list[str]) -> list[TableView]:
    """Tables with each row's chunk id (table rows and policy clauses are chunks of their own)."""
    row_chunks = {(c.get("table"), c.get("row")): c["id"] for c in article["chunks"] if c["type"] != "text"}
    views = []
    for table in article["tables"]:
        rows = []
        for index, row in enumerate(table["rows"]):
            chunk_id = row_chunks.get((table["id"], index))
            rows.append((chunk_id, chunk_id is not None and chunk_id == hit, [marked(cell, terms) for cell in row]))
        views.append(TableView(table, rows))
    return views


def hit_exists(article: dict, hit: str | None) -> bool:
    return hit is not None and any(c["id"] == hit for c in article["chunks"])
