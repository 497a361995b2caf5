"""Hybrid ranking: how the keyword and the semantic lists are fused, and which keyword hits may vote.

`fuse_rrf` (the default, KB_FUSION=rrf, KB_RRF_K) sums 1/(k + rank); `fuse_weighted` combines
min-max normalised scores (KB_FUSION=weighted, KB_KEYWORD_WEIGHT); `confident_keyword_hits`
(KB_KEYWORD_FLOOR) lets only the keyword hits within a share of the best BM25 score into the fusion.
"""

from __future__ import annotations


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
