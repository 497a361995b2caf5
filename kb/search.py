"""Keyword (FTS5 BM25), semantic (FAISS) and hybrid search, with filters, fusion and snippets.

`search()` validates a `SearchRequest`, runs FTS5 and FAISS once each, fuses the ranked lists,
and returns the result contract shared by the CLI and the JSON API.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from datetime import date

from .glossary import expand_query
from .knowledge_base import KnowledgeBase
from .models import CHUNK_TYPES, ArticleRef, Hit, IssueRef
from .related import duplicate_refs, group_duplicates
from .segment import match_expression, query_terms
from .snippets import highlight
from .store import Filters

MODES = ("hybrid", "keyword", "semantic")
FACET_FIELDS = {"section": "section", "type": "type", "source": "source", "issue": "issue_id"}
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


class QueryError(ValueError):
    """A request the caller must fix; `code` names the parameter at fault."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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


def parse_date(value: str | None, name: str) -> str | None:
    """Accept YYYY-MM-DD (or YYYY-MM, meaning its first day for date_from, last for date_to)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            if name == "date_to":
                next_month = date(year + month // 12, month % 12 + 1, 1)
                return date.fromordinal(next_month.toordinal() - 1).isoformat()
            return date(year, month, 1).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise QueryError("invalid_date", f"{name} must be a date like 2025-06-23, not {text[:40]!r}")


def validate(request: SearchRequest, kb: KnowledgeBase) -> SearchRequest:
    settings = kb.settings
    request.query = clean_query(request.query, settings.max_query_chars)
    if request.mode not in MODES:
        raise QueryError("invalid_mode", f"mode must be one of {', '.join(MODES)}")
    if not 1 <= request.k <= settings.max_k:
        raise QueryError("invalid_k", f"k must be between 1 and {settings.max_k}")
    if not 0 <= request.offset <= settings.max_offset:
        raise QueryError("invalid_offset", f"offset must be between 0 and {settings.max_offset}")
    f = request.filters
    if f.type is not None and f.type not in CHUNK_TYPES:
        raise QueryError("invalid_type", f"type must be one of {', '.join(CHUNK_TYPES)}")
    date_from, date_to = parse_date(f.date_from, "date_from"), parse_date(f.date_to, "date_to")
    if date_from and date_to and date_from > date_to:
        raise QueryError("invalid_date", "date_from is after date_to")
    request.filters = Filters(date_from, date_to, f.section or None, f.type, f.source or None, f.issue or None)
    return request


# ---- ranking -----------------------------------------------------------------------------


def fuse_rrf(ranked_lists: list[list[tuple[int, float]]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: sum of 1/(k + rank) over the lists an item appears in."""
    scores: dict[int, float] = {}
    for ranked in ranked_lists:
        for rank, (rowid, _) in enumerate(ranked, start=1):
            scores[rowid] = scores.get(rowid, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def _min_max(ranked: list[tuple[int, float]]) -> dict[int, float]:
    if not ranked:
        return {}
    values = [score for _, score in ranked]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return {rowid: (score - low) / span for rowid, score in ranked}


def fuse_weighted(
    keyword: list[tuple[int, float]], semantic: list[tuple[int, float]], keyword_weight: float
) -> list[tuple[int, float]]:
    """Min-max normalised scores, combined linearly (an item missing from a list scores 0 there)."""
    kw = _min_max([(rowid, -score) for rowid, score in keyword])  # bm25: lower is better
    sem = _min_max(semantic)
    combined = {
        rowid: keyword_weight * kw.get(rowid, 0.0) + (1 - keyword_weight) * sem.get(rowid, 0.0)
        for rowid in kw.keys() | sem.keys()
    }
    return sorted(combined.items(), key=lambda item: -item[1])


def confident_keyword_hits(ranked: list[tuple[int, float]], floor: float) -> list[tuple[int, float]]:
    """Keyword hits scoring at least `floor` x the best BM25 score.

    A hit far below the best matched only near-ubiquitous terms (光伏, 组件), whose IDF is ~0;
    letting it into the fusion lets semantic noise outvote a confident keyword match.
    """
    if not ranked or floor <= 0:
        return ranked
    best = -ranked[0][1]  # bm25() is negative: more negative is better
    return [(rowid, score) for rowid, score in ranked if -score >= floor * best]


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
    return view.vectors.search(vector, limit, view.columns.allowed(filters))


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
        issue=IssueRef(row["issue_id"], row["issue_title"], row["date_start"], row["date_end"], row["file"]),
        article=ArticleRef(row["article_id"], row["article_title"], row["section"], row["source"], row["page"]),
        ocr=bool(row["ocr"]),
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
