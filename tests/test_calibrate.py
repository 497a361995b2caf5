"""scripts/calibrate.py's replay: the grid shortcut scores every point as the plain replay does,
and a threshold that pushes an answer out of the top 5 is counted."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from calibrate import FUSION_KEYS, Evidence, replay, replay_grid  # noqa: E402

from kb.matching import Calibration  # noqa: E402


def evidence(seed: int, queries: int = 30, candidates: int = 40) -> list[Evidence]:
    rng = np.random.default_rng(seed)
    out = []
    for q in range(queries):
        rowids = np.arange(candidates, dtype=np.int64) + 1000 * q
        bm25 = np.where(rng.random(candidates) < 0.5, rng.random(candidates) * 12, 0.0)
        out.append(Evidence(none=q % 5 == 0, relevant=set() if q % 5 == 0 else {int(rowids[rng.integers(candidates)])},
                            base=0.7, floor=0.6, rowids=rowids, bm25=bm25,
                            cosine=0.6 + 0.3 * rng.random(candidates), share=rng.random(candidates),
                            phrase=rng.random(candidates).round(1), allowed=rng.random(candidates) < 0.9))
    return out


def test_the_grid_shortcut_scores_every_point_as_replay_does():
    items = evidence(7)
    values = {"keyword_share": (0.4, 0.6), "semantic_min": (0.8, 0.86), "semantic_gap": (0.05,),
              "semantic_bonus": (0.0, 1.0), "keyword_weight": (0.2, 0.4), "phrase_weight": (0.0, 0.1),
              "share_weight": (0.0, 0.16)}
    rule = [k for k in values if k not in FUSION_KEYS]
    points = [Calibration(**dict(zip(FUSION_KEYS, f)), **dict(zip(rule, r)))
              for f in itertools.product(*(values[k] for k in FUSION_KEYS))
              for r in itertools.product(*(values[k] for k in rule))]
    assert replay_grid(items, points) == [replay(items, c) for c in points]


def test_an_answer_the_threshold_pushes_out_of_the_top_5_is_a_drop():
    rowids = np.arange(1, 8, dtype=np.int64)
    answer = Evidence(none=False, relevant={1}, base=None, floor=0.0, rowids=rowids,
                      bm25=np.array([9.0, 8, 7, 6, 5, 4, 3]), cosine=np.full(7, 0.5),
                      share=np.array([0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]), phrase=np.zeros(7), allowed=np.ones(7, bool))
    strict = Calibration(keyword_share=0.5, semantic_min=0.9, semantic_gap=None, semantic_bonus=0.0)
    assert replay([answer], strict)["drops"] == 1  # rank 1 without the match set, gone with it
    assert replay([answer], Calibration(keyword_share=0.2, semantic_min=0.9, semantic_bonus=0.0))["drops"] == 0
