"""Retrieval quality over labelled queries: MRR@10, hit@1, hit@5 per mode (and per query kind).

A result is relevant when its article title contains the label's `article` and its text
contains every string of `contains`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .knowledge_base import KnowledgeBase
from .search import MODES, SearchRequest, search

CUTOFF = 10


@dataclass
class LabelledQuery:
    id: str
    query: str
    article: str
    contains: list[str] = field(default_factory=list)
    kind: str = ""

    def is_relevant(self, result: dict) -> bool:
        return self.article in result["article"]["title"] and all(s in result["text"] for s in self.contains)


@dataclass
class ModeScore:
    mode: str
    ranks: dict[str, int | None]  # query id -> 1-based rank of the first relevant hit in the top 10

    def _values(self, ids: list[str] | None = None) -> list[int | None]:
        return [self.ranks[i] for i in (ids if ids is not None else self.ranks)]

    def mrr(self, ids: list[str] | None = None) -> float:
        values = self._values(ids)
        return sum(1.0 / r for r in values if r) / len(values) if values else 0.0

    def hit_at(self, n: int, ids: list[str] | None = None) -> float:
        values = self._values(ids)
        return sum(1 for r in values if r and r <= n) / len(values) if values else 0.0


def load_queries(path: Path) -> list[LabelledQuery]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(
                LabelledQuery(row["id"], row["q"], row["article"], list(row.get("contains", [])), row.get("kind", ""))
            )
    return queries


def evaluate(kb: KnowledgeBase, queries: list[LabelledQuery], modes: list[str], expand: bool | None = None) -> list[ModeScore]:
    scores = []
    for mode in modes:
        ranks: dict[str, int | None] = {}
        for query in queries:
            response = search(kb, SearchRequest(query.query, mode=mode, k=CUTOFF, expand=expand))
            ranks[query.id] = next(
                (i for i, r in enumerate(response["results"], start=1) if query.is_relevant(r)), None
            )
        scores.append(ModeScore(mode, ranks))
    return scores


def format_table(scores: list[ModeScore], queries: list[LabelledQuery]) -> str:
    """A plain-text table: overall metrics per mode, then MRR@10 per query kind."""
    kinds = sorted({q.kind for q in queries if q.kind})
    header = f"{'mode':<9} {'MRR@10':>7} {'hit@1':>6} {'hit@5':>6}  " + " ".join(f"{k:>8}" for k in kinds)
    lines = [header, "-" * len(header)]
    for score in scores:
        per_kind = " ".join(f"{score.mrr([q.id for q in queries if q.kind == k]):>8.3f}" for k in kinds)
        lines.append(f"{score.mode:<9} {score.mrr():>7.3f} {score.hit_at(1):>6.3f} {score.hit_at(5):>6.3f}  {per_kind}")
    lines.append(f"({len(queries)} queries; per-kind columns are MRR@10)")
    return "\n".join(lines)


def misses(scores: list[ModeScore], queries: list[LabelledQuery]) -> list[str]:
    """Lines naming queries whose first relevant hit is not at rank 1, for tuning."""
    by_id = {q.id: q for q in queries}
    return [
        f"{s.mode:<9} {qid} rank={rank} q={by_id[qid].query}"
        for s in scores
        for qid, rank in s.ranks.items()
        if rank != 1
    ]


ALL_MODES = list(MODES)
