"""The request -> result-contract pipeline: validate a `SearchRequest`, match, rank, group, page, shape.

`search()` validates the request (kb/request.py, filters through kb/filters.py), reads time words into a
filter or a boost (kb/timewords.py), runs FTS5 and FAISS once each, keeps only the passages
that really match (kb/matching.py), fuses the two legs (kb/hybrid.py), puts a weekly report's
newest week first (kb/recurring.py), folds reprints (kb/duplicates.py), groups passages by
article when asked (kb/grouping.py), and returns the result contract shared by the CLI and the
JSON API. `total` and the facets count the match set, exactly up to TOTAL_BOUND.
"""

from __future__ import annotations

import pickle
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .cache import LruCache
from .config import Settings
from .embedder import Embedder

from .duplicates import duplicate_refs, group_duplicates
from .errors import QueryError
from .filters import Filters, parse_date
from .glossary import expand_query
from .grouping import by_article
from .hybrid import Candidate, fuse_convex
from .matching import (BACKGROUND, Calibration, background, content_terms, keyword_match, keyword_shares,
                       phrase_share, semantic_match)
from .models import Hit
from .recurring import Passage, newest_first
from .request import GROUPS, MODES, SORTS, SearchRequest, clean_query, validate
from .segment import query_terms
from .snippets import highlight
from .store import Store
from .store.rows import article_ref, issue_ref
from .timewords import Interpretation, interpret

__all__ = ["MODES", "GROUPS", "SORTS", "QueryError", "SearchRequest", "clean_query", "parse_date", "search",
           "validate", "weighted_terms"]

FACET_FIELDS = ("section", "type", "source", "issue")
TOTAL_BOUND = 10_000  # totals and facets are exact up to here, then a lower bound ("gte")
BOOST = 0.02  # added to the fused score of a passage from the issues a month/quarter/year names


class KnowledgeBase(Protocol):
    """What search reads of kb/knowledge_base.py's `KnowledgeBase` (whose `search` runs it): the
    store's reads, the generation view (chunk columns), the two ranked legs of the chunk index
    (local or Milvus), the model and its calibration, the stored vectors' cosines, kept answers."""

    settings: Settings
    store: Store
    embedder: Embedder
    results: LruCache
    calibration: Calibration

    def snapshot(self) -> AbstractContextManager: ...

    def view(self): ...

    def cosines(self, vector: np.ndarray, rowids: list[int]) -> dict[int, float]: ...

    def keyword_leg(self, terms: list[str], filters: Filters, limit: int) -> list[tuple[int, float]]: ...

    def semantic_leg(self, vector: np.ndarray, k: int, filters: Filters, allowed: np.ndarray | None
                     ) -> list[tuple[int, float]]: ...


# ---- the two legs and the match set -----------------------------------------------------


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


@dataclass
class Ranking:
    ranked: list[Candidate]  # the match set, best first (scored candidates, then the rest)
    matched: np.ndarray  # rowids of the whole match set
    bounded: bool  # the semantic leg was cut at its limit with every hit matching: more may match
    rows: dict  # rowid -> hit row of the ranked passages (text, article, issue)


def rank(kb: KnowledgeBase, request: SearchRequest, query_text: str, terms: list[str], filters: Filters,
         boost: Interpretation | None) -> Ranking:
    settings, calibration = kb.settings, kb.calibration
    view = kb.view()
    allowed = filters.mask(view.columns)
    limit = max(settings.semantic_candidates, request.offset + request.k)
    mode = request.mode
    candidates: dict[int, Candidate] = {}

    shares = keyword_shares(view.keywords, query_text, allowed, request.query).share if mode != "semantic" else {}
    if mode != "semantic":
        keyword = kb.keyword_leg(weighted_terms(kb, terms), filters, limit)
        for position, (rowid, bm25) in enumerate(keyword, start=1):
            candidates[rowid] = Candidate(rowid, keyword=bm25, keyword_rank=position, share=shares.get(rowid, 0.0))
    semantic: list[tuple[int, float]] = []
    floor, base = 0.0, None
    if mode != "keyword":
        vector = kb.embedder.embed_query(query_text)
        semantic = kb.semantic_leg(vector, limit, filters, allowed)
        # the background is the whole archive's, not the filter's: a filter to one week would
        # otherwise make its weakest passages the background and any passage "stand out"
        unfiltered = semantic if allowed is None else kb.semantic_leg(vector, BACKGROUND.stop, Filters(), None)
        base = background(cosine for _, cosine in unfiltered)
        floor = semantic[-1][1] if semantic else 0.0
        for position, (rowid, cosine) in enumerate(semantic, start=1):
            c = candidates.setdefault(rowid, Candidate(rowid, share=shares.get(rowid, 0.0)))
            c.semantic, c.semantic_rank = cosine, position
        unseen = [c.rowid for c in candidates.values() if c.semantic is None]
        for rowid, cosine in kb.cosines(vector, unseen).items():
            candidates[rowid].semantic = cosine

    hybrid = mode == "hybrid"

    def matches(c: Candidate) -> bool:
        if mode != "semantic" and keyword_match(c.share, c.semantic, calibration, hybrid):
            return True
        return mode != "keyword" and c.semantic is not None and semantic_match(
            c.semantic, base, calibration, request.min_similarity)

    kept = [c for c in candidates.values() if matches(c)]
    rows = kb.store.hit_rows([c.rowid for c in kept])
    for c in kept:
        c.phrase = phrase_share(request.query, rows[c.rowid]["text"]) if c.rowid in rows else 0.0
    if hybrid:
        kept = fuse_convex(kept, calibration.keyword_weight, floor, calibration.phrase_weight,
                           calibration.share_weight)
    else:  # one leg alone ranks by its own score
        for c in kept:
            c.fused = (c.keyword or 0.0) if mode == "keyword" else c.semantic
    if boost is not None:
        inside = set(view.columns.within(np.array([c.rowid for c in kept], dtype=np.int64),
                                         boost.date_from, boost.date_to).tolist())
        for c in kept:
            c.fused += BOOST if c.rowid in inside else 0.0
    kept.sort(key=lambda c: (-c.fused, c.rowid))
    # keyword matches beyond the keyword leg's limit: in the match set, ranked after the scored
    seen = {c.rowid for c in kept}
    rest = sorted((r for r, s in shares.items() if r not in candidates and keyword_match(s, None, calibration, hybrid)),
                  key=lambda r: (-shares[r], r))
    ranked = kept + [Candidate(r, share=shares[r]) for r in rest[:limit]]  # the rest past the limit has no rows
    matched = np.array(sorted(seen | set(rest)), dtype=np.int64)
    bounded = mode != "keyword" and len(semantic) >= limit and all(matches(candidates[r]) for r, _ in semantic)
    rows |= kb.store.hit_rows(rest[:limit])
    return Ranking(ranked, matched, bounded, rows)


# ---- ordering ---------------------------------------------------------------------------


def order(ranked: list[Candidate], rows: dict, sort: str) -> list[Candidate]:
    """Relevance (a recurring report's weeks newest first among themselves) or issue date
    (stable: passages of one date keep their relevance order)."""
    ranked = [c for c in ranked if c.rowid in rows]
    if sort == "relevance":
        by_rowid = {c.rowid: c for c in ranked}
        passages = [Passage(c.rowid, rows[c.rowid]["article_title"], rows[c.rowid]["date_start"], rows[c.rowid]["text"])
                    for c in ranked]
        return [by_rowid[rowid] for rowid in newest_first(passages)]
    return sorted(ranked, key=lambda c: rows[c.rowid]["date_start"], reverse=sort == "newest")


# ---- the contract ------------------------------------------------------------------------


def _hit(row, c: Candidate, highlight_terms: list[str]) -> dict:
    hit = Hit(
        id=row["chunk_id"],
        score=round(float(c.fused), 6),
        type=row["type"],
        text=row["text"],
        snippet=highlight(row["text"], highlight_terms),
        issue=issue_ref(row),
        article=article_ref(row),
        ocr=bool(row["ocr"]),
    ).to_dict()
    hit["scores"] = c.scores()
    return hit


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
               expand, request.facets, request.group, request.sort, request.interpret, request.min_similarity)
        kept = kb.results.get(key)
        if kept is None:
            response = _search(kb, request, expand)
            kb.results.put(key, pickle.dumps(response, pickle.HIGHEST_PROTOCOL))
        else:
            # a fresh copy per caller (the API adds attribution), kept pickled: an answer listing a story's
            # reprints holds hundreds of small dicts, which pickle copies ~3x faster than deepcopy
            response = pickle.loads(kept)
    response["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return response


def _search(kb: KnowledgeBase, request: SearchRequest, expand: bool) -> dict:
    query_text = expand_query(request.query) if expand else request.query
    terms = query_terms(query_text)
    interpreted = interpret(request.query, kb.store.newest_issue_dates()) if request.interpret else None
    filters = request.filters
    if interpreted is not None and interpreted.mode == "filter":
        filters = filters.narrowed(interpreted.date_from, interpreted.date_to)
    boost = interpreted if interpreted is not None and interpreted.mode == "boost" else None
    ranking = rank(kb, request, query_text, terms, filters, boost)
    rows = ranking.rows
    ordered = order(ranking.ranked, rows, request.sort)
    ranked, folded = group_duplicates(kb.store, [(c.rowid, c.fused) for c in ordered])  # a reprint: one hit
    by_rowid = {c.rowid: c for c in ordered}
    hits = [by_rowid[rowid] for rowid, _ in ranked]
    columns = kb.view().columns
    groups = None
    if request.group == "article":
        groups = by_article([c.rowid for c in hits], {r: row["article_id"] for r, row in rows.items()})
        hits = [by_rowid[g.best] for g in groups]
    page = hits[request.offset : request.offset + request.k]
    phrases = [t.text.replace(" ", "") for t in content_terms(query_text)[0] if t.phrase]
    highlight_terms = ([t for t in terms if len(t) > 1] or terms) + phrases
    chunk_ids = {r: row["chunk_id"] for r, row in rows.items()}
    group_of = {g.best: g for g in groups} if groups is not None else {}
    results = []
    for c in page:
        hit = _hit(rows[c.rowid], c, highlight_terms) | duplicate_refs(kb.store, folded.get(c.rowid))
        if c.rowid in group_of:
            hit["passages"] = group_of[c.rowid].passages(chunk_ids)
        results.append(hit)
    matched = ranking.matched
    count = columns.article_count(matched) if groups is not None else len(matched)
    total, relation = min(count, TOTAL_BOUND), ("gte" if ranking.bounded or count > TOTAL_BOUND else "eq")
    response = {  # the first five keys are the contract as it was; the rest came with the match set
        "query": request.query,
        "mode": request.mode,
        "total": total,
        "took_ms": 0.0,  # set by search()
        "results": results,
        "total_relation": relation,
        "group": request.group,
        "sort": request.sort,
        "interpreted": interpreted.to_dict() if interpreted is not None else None,
    }
    if request.facets:
        response["facets"] = columns.facets(matched, FACET_FIELDS, per_article=groups is not None)
    return response
