"""Hybrid ranking: how the keyword and the semantic lists are fused.

The default (`fuse_convex`) adds keyword_weight x BM25/best and (1 - keyword_weight) x cosine
over the match set (kb/matching.py), with the weight calibrated per model (kb/data/calibration.json);
each `Candidate` keeps what both legs said of it, which the result contract shows as `scores`.
The rank-based candidates it was measured against stay here for scripts/tune_fusion.py:

`fuse_rrf` (the default, KB_FUSION=rrf, KB_RRF_K) sums 1/(k + rank); `fuse_weighted` combines
min-max normalised scores (KB_FUSION=weighted, KB_KEYWORD_WEIGHT); `confident_keyword_hits`
(KB_KEYWORD_FLOOR) lets only the keyword hits within a share of the best BM25 score into the fusion.
"""

from __future__ import annotations

from dataclasses import dataclass


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


# ---- the calibrated fusion (the default) ------------------------------------------------


@dataclass
class Candidate:
    """One passage's evidence: what each leg said of it, and where the fusion put it."""

    rowid: int
    keyword: float | None = None  # BM25 (positive: higher is better), None when the keyword leg missed it
    keyword_rank: int | None = None
    semantic: float | None = None  # cosine, None when not computed
    semantic_rank: int | None = None
    share: float = 0.0  # IDF-weighted share of the informative query terms it holds (kb/matching.py)
    phrase: float = 0.0  # share of the query's segments it holds verbatim
    fused: float = 0.0

    def scores(self) -> dict:
        """The `scores` object of the result contract."""
        return {
            "keyword": None if self.keyword is None else round(self.keyword, 4),
            "keyword_rank": self.keyword_rank,
            "semantic": None if self.semantic is None else round(self.semantic, 4),
            "semantic_rank": self.semantic_rank,
            "keyword_share": round(self.share, 4),
            "phrase_share": round(self.phrase, 4),
            "fused": round(self.fused, 6),
        }


def fuse_convex(candidates: list[Candidate], keyword_weight: float, floor: float,
                phrase_weight: float = 0.0) -> list[Candidate]:
    """weight x BM25/best + (1 - weight) x cosine + phrase_weight x phrase share, best first.

    BM25 divided by the query's best BM25 is in [0, 1] like a cosine, so the two add up without a
    learned scale; a passage the keyword leg missed gets 0 there, one whose cosine was not
    computed gets `floor` (the lowest cosine the semantic leg returned). The phrase term only breaks
    near-ties in favour of the passage that says the query's words as written. Measured against RRF and
    min-max combinations on all three dev sets (README, Fusion)."""
    best = max((c.keyword for c in candidates if c.keyword is not None), default=0.0)
    for c in candidates:
        keyword = (c.keyword / best) if (best > 0 and c.keyword is not None) else 0.0
        semantic = c.semantic if c.semantic is not None else floor
        c.fused = keyword_weight * keyword + (1 - keyword_weight) * semantic + phrase_weight * c.phrase
    return sorted(candidates, key=lambda c: (-c.fused, c.rowid))
