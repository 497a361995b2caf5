"""The request -> result-contract pipeline: validate a `SearchRequest`, rank, group, page, shape.

`search()` validates the request (filters through kb/filters.py), runs FTS5 and FAISS once
each, fuses the ranked lists (kb/hybrid.py), folds reprints (kb/duplicates.py), and returns the
result contract shared by the CLI and the JSON API. It reads the store through `kb.store`.
"""

from __future__ import annotations

import copy
import re
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from .cache import LruCache
from .config import Settings
from .duplicates import duplicate_refs, group_duplicates
from .embedder import Embedder
from .errors import QueryError
from .filters import Filters, parse_date
from .glossary import expand_query
from .hybrid import confident_keyword_hits, fuse_rrf, fuse_weighted
from .models import Hit
from .segment import match_expression, query_terms
from .snippets import highlight
from .store import Store
from .store.rows import article_ref, issue_ref

__all__ = ["MODES", "QueryError", "SearchRequest", "clean_query", "fuse_rrf", "parse_date", "search", "validate",
           "weighted_terms"]

MODES = ("hybrid", "keyword", "semantic")
FACET_FIELDS = {"section": "section", "type": "type", "source": "source", "issue": "issue_id"}
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


class KnowledgeBase(Protocol):
    """What search reads of kb/knowledge_base.py's `KnowledgeBase` (whose `search` runs it): the
    store's reads, the generation view (chunk columns and vector index), the model, kept answers."""

    settings: Settings
    store: Store
    embedder: Embedder
    results: LruCache

    def snapshot(self) -> AbstractContextManager: ...

    def view(self): ...


@dataclass
class SearchRequest:
    query: str
    mode: str = "hybrid"
    k: int = 10
    offset: int = 0
    filters: Filters = field(default_factory=Filters)
    expand: bool | None = None  # English glossary expansion; None = the settings' default
    facets: bool = False


def clean_query(query: str, max_chars: int) -> str:
    """Strip control characters and lone surrogates; reject empty and over-long queries."""
    if not isinstance(query, str):
        raise QueryError("invalid_query", "the query must be text")
    cleaned = " ".join(CONTROL_CHARS.sub(" ", query).split())
    if not cleaned:
        raise QueryError("empty_query", "the query is empty")
    if len(cleaned) > max_chars:
        raise QueryError("query_too_long", f"the query is longer than {max_chars} characters")
    return cleaned


def validate(request: SearchRequest, kb: KnowledgeBase) -> SearchRequest:
    settings = kb.settings
    request.query = clean_query(request.query, settings.max_query_chars)
    if request.mode not in MODES:
        raise QueryError("invalid_mode", f"mode must be one of {', '.join(MODES)}")
    if not 1 <= request.k <= settings.max_k:
        raise QueryError("invalid_k", f"k must be between 1 and {settings.max_k}")
    if not 0 <= request.offset <= settings.max_offset:
        raise QueryError("invalid_offset", f"offset must be between 0 and {settings.max_offset}")
    request.filters = request.filters.validated()
    return request


# ---- ranking -----------------------------------------------------------------------------


def weighted_terms(kb: KnowledgeBase, terms: list[str]) -> list[str]:
    """The terms that can move a BM25 score. FTS5's bm25 takes a term's IDF as
    log((N - n + 0.5) / (n + 0.5)), floored at 1e-6: a term in half the chunks or more (光伏 in
    a photovoltaic digest) adds nothing to any score, yet makes FTS5 score every chunk holding
    it. Such terms are left out of MATCH unless every term is one of them."""
    if len(terms) < 2:
        return terms
    chunks, frequencies = kb.store.document_frequencies(terms)
    weighted = [term for term in terms if frequencies[term] * 2 < chunks]
    return weighted or terms


def _keyword(kb: KnowledgeBase, terms: list[str], filters: Filters, limit: int) -> tuple[list, int]:
    match = match_expression(weighted_terms(kb, terms))
    if match is None:
        return [], 0
    return kb.store.keyword_search(match, filters, limit)


def _semantic(kb: KnowledgeBase, text: str, filters: Filters, limit: int) -> list[tuple[int, float]]:
    view = kb.view()
    vector = kb.embedder.embed_query(text)
    return view.vectors.search(vector, limit, filters.mask(view.columns))


def rank(kb: KnowledgeBase, request: SearchRequest, query_text: str, terms: list[str]) -> tuple[list, int]:
    """Ranked (rowid, score) for the whole candidate set, and the size of the match set."""
    settings = kb.settings
    limit = max(settings.semantic_candidates, request.offset + request.k)
    if request.mode == "keyword":
        return _keyword(kb, terms, request.filters, limit)
    semantic = _semantic(kb, query_text, request.filters, limit)
    if request.mode == "semantic":
        return semantic, len(semantic)
    keyword, keyword_total = _keyword(kb, terms, request.filters, limit)
    keyword = confident_keyword_hits(keyword, settings.keyword_floor)
    if settings.fusion == "weighted":
        fused = fuse_weighted(keyword, semantic, settings.keyword_weight)
    else:
        fused = fuse_rrf([keyword, semantic], settings.rrf_k)
    return fused, max(len(fused), keyword_total)


# ---- the contract ------------------------------------------------------------------------


def _hit(row, score: float, highlight_terms: list[str]) -> Hit:
    return Hit(
        id=row["chunk_id"],
        score=round(float(score), 6),
        type=row["type"],
        text=row["text"],
        snippet=highlight(row["text"], highlight_terms),
        issue=issue_ref(row),
        article=article_ref(row),
    )


def search(kb: KnowledgeBase, request: SearchRequest) -> dict:
    """Run a validated search and return the result contract (plus `facets` when asked).

    The whole request reads one snapshot: an ingest committing meanwhile is seen entirely or
    not at all (keyword hits, vector hits, rows and facets all of one generation). Answers are
    kept per generation (KB_RESULT_CACHE_SIZE), so a repeated search is a lookup, and an ingest,
    which starts a new generation, retires every kept answer."""
    started = time.perf_counter()
    with kb.snapshot():
        request = validate(request, kb)
        expand = kb.settings.expand_english if request.expand is None else request.expand
        key = (kb.store.generation, request.query, request.mode, request.k, request.offset, request.filters,
               expand, request.facets)
        kept = kb.results.get(key)
        if kept is None:
            response = _search(kb, request, expand)
            kb.results.put(key, copy.deepcopy(response))
        else:
            response = copy.deepcopy(kept)  # callers add to their copy (the API adds attribution)
    response["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return response


def _search(kb: KnowledgeBase, request: SearchRequest, expand: bool) -> dict:
    query_text = expand_query(request.query) if expand else request.query
    terms = query_terms(query_text)
    ranked, total = rank(kb, request, query_text, terms)
    ranked, folded = group_duplicates(kb.store, ranked)  # a story reprinted in other issues: one hit
    page = ranked[request.offset : request.offset + request.k]
    rows = kb.store.hit_rows([rowid for rowid, _ in page])
    highlight_terms = [t for t in terms if len(t) > 1] or terms
    results = [
        _hit(rows[rowid], score, highlight_terms).to_dict() | duplicate_refs(kb.store, folded.get(rowid))
        for rowid, score in page if rowid in rows
    ]
    response = {
        "query": request.query,
        "mode": request.mode,
        "total": total,
        "took_ms": 0.0,  # set by search()
        "results": results,
    }
    if request.facets:
        rowids = [rowid for rowid, _ in ranked]
        response["facets"] = {name: kb.store.facet_counts(rowids, column) for name, column in FACET_FIELDS.items()}
    return response
