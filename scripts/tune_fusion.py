"""The fusion candidates side by side on the three dev sets, with and without the match set.

    python scripts/calibrate.py            # once: collects both legs' evidence per dev query
    python scripts/tune_fusion.py          # then: one table of every candidate

Replays, over the evidence `calibrate.py` collected (both legs of every seed, archive and CMRC
dev query), each fusion candidate — reciprocal-rank fusion (k 30 and 60, with the old 10 %
keyword floor), min-max weighted combination, the convex combination of BM25/best and cosine
(with and without the phrase term and the keyword-share term) — first over every candidate (the
old behaviour: every query "matches" the index), then over the calibrated match set. Prints MRR@10 per set, the share of
the archive's `none` queries that come back empty, and CMRC's false-empty share.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibrate import Evidence, convex_score, load_evidence, replay  # noqa: E402
from devsets import DEFAULT_WORK  # noqa: E402

from kb.matching import load_calibration  # noqa: E402


def _rrf(e: Evidence, k: int, floor: float) -> np.ndarray:
    best = e.bm25.max() if len(e.bm25) else 0.0
    keyword = (e.bm25 > 0) & (e.bm25 >= floor * best)
    score = np.zeros(len(e.rowids))
    order = np.argsort(-np.where(keyword, e.bm25, -np.inf), kind="stable")
    ranks = np.empty(len(order), dtype=int)
    ranks[order] = np.arange(1, len(order) + 1)
    score += np.where(keyword, 1.0 / (k + ranks), 0.0)
    order = np.argsort(-e.cosine, kind="stable")
    ranks[order] = np.arange(1, len(order) + 1)
    return score + 1.0 / (k + ranks)


def _minmax(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    if not present.any():
        return np.zeros_like(values)
    low, high = values[present].min(), values[present].max()
    return np.where(present, (values - low) / ((high - low) or 1.0), 0.0)


def candidates(calibration) -> list[tuple[str, object]]:
    """(name, score function of an Evidence) for every candidate."""
    def convex(weight: float, phrase: float, share: float = 0.0):
        return convex_score(replace(calibration, keyword_weight=weight, phrase_weight=phrase, share_weight=share))

    shipped = (calibration.keyword_weight, calibration.phrase_weight, calibration.share_weight)
    return [
        ("RRF k=30, keyword floor 0.1 (before)", lambda e: _rrf(e, 30, 0.1)),
        ("RRF k=60, keyword floor 0.1", lambda e: _rrf(e, 60, 0.1)),
        ("RRF k=30, no floor", lambda e: _rrf(e, 30, 0.0)),
        ("min-max weighted 0.5", lambda e: 0.5 * _minmax(e.bm25, e.bm25 > 0) + 0.5 * _minmax(e.cosine, e.cosine > 0)),
        ("convex 0.2 BM25/best + 0.8 cosine", convex(0.2, 0.0)),
        ("convex 0.4 BM25/best + 0.6 cosine", convex(0.4, 0.0)),
        (f"convex {shipped[0]} (no phrase term)", convex(shipped[0], 0.0)),
        (f"convex {shipped[0]} + phrase {shipped[1]}", convex(shipped[0], shipped[1])),
        ("convex 0.3 + phrase 0.1 (shipped before share)", convex(0.3, 0.1)),
        (f"convex {shipped[0]} + phrase {shipped[1]} + share {shipped[2]} (shipped)", convex(*shipped)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--key", default="m3e-small+onnx-int8", help="the vector key whose calibration is replayed")
    args = parser.parse_args()
    evidence = load_evidence(args.work)
    calibration = load_calibration(args.key)
    names = list(evidence)
    print(f"{'candidate':<54} {'match set':<10}" + "".join(f"{n + ' MRR':>13}" for n in names)
          + f"{'none→∅':>8}{'cmrc ∅':>8}")
    for name, score in candidates(calibration):
        for gated in (False, True):
            scores = {n: replay(evidence[n], calibration, score, gated) for n in names}
            none = scores.get("archive", {}).get("none_empty")
            cmrc = scores.get("cmrc", {}).get("false_empty")
            print(f"{name:<54} {'yes' if gated else 'no':<10}" + "".join(f"{scores[n]['mrr']:>13.3f}" for n in names)
                  + (f"{none:>8.3f}" if none is not None else f"{'-':>8}")
                  + (f"{cmrc:>8.3f}" if cmrc is not None else f"{'-':>8}"))


if __name__ == "__main__":
    main()
