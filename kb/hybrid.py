"""Hybrid ranking: how the keyword and the semantic legs are fused.

`fuse_convex` adds keyword_weight x BM25/best and (1 - keyword_weight) x cosine over the match
set (kb/matching.py), with the weights calibrated per model (kb/data/calibration.json); each
`Candidate` keeps what both legs said of it, which the result contract shows as `scores`. The
candidates it was measured against (reciprocal-rank fusion, min-max weighted combination) are
replayed by scripts/tune_fusion.py; the README's Fusion section has their table.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def convex(keyword, semantic, phrase, share, keyword_weight: float, phrase_weight: float = 0.0,
           share_weight: float = 0.0):
    """The fused score of BM25/best, cosine, phrase share and keyword share: one passage's numbers
    or arrays of them (scripts/calibrate.py replays the dev sets' evidence through it)."""
    return (keyword_weight * keyword + (1 - keyword_weight) * semantic + phrase_weight * phrase
            + share_weight * share)


def fuse_convex(candidates: list[Candidate], keyword_weight: float, floor: float,
                phrase_weight: float = 0.0, share_weight: float = 0.0) -> list[Candidate]:
    """weight x BM25/best + (1 - weight) x cosine + phrase_weight x phrase share
    + share_weight x keyword share, best first.

    BM25 divided by the query's best BM25 is in [0, 1] like a cosine, so the two add up without a
    learned scale; a passage the keyword leg missed gets 0 there, one whose cosine was not
    computed gets `floor` (the lowest cosine the semantic leg returned). The phrase term only breaks
    near-ties in favour of the passage that says the query's words as written. The keyword share is
    Lucene's coordination factor: BM25/best says how well the best-scoring terms fit, the share how
    much of the whole question (by IDF) the passage covers, which BM25's saturation under-rewards for
    long questions (CMRC: +0.003 MRR@10 gated). Measured against RRF and
    min-max combinations on all three dev sets (README, Fusion)."""
    best = max((c.keyword for c in candidates if c.keyword is not None), default=0.0)
    for c in candidates:
        keyword = (c.keyword / best) if (best > 0 and c.keyword is not None) else 0.0
        semantic = c.semantic if c.semantic is not None else floor
        c.fused = convex(keyword, semantic, c.phrase, c.share, keyword_weight, phrase_weight, share_weight)
    return sorted(candidates, key=lambda c: (-c.fused, c.rowid))
