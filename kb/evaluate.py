"""Retrieval quality over labelled queries: MRR@10, hit@1, hit@5 per mode and per query kind.

A result is relevant when its article title contains the label's `article` and its text
contains every string of `contains`, spaces ignored on both sides (labels copy an article's
body title line, 协会组织12家会员企业…, the store keeps the contents' spelling, 协会组织 12 家…).
A `date` query's hit must also come from the issue its `issue` field names: another week's
price report can hold the same figure. Queries of kind `none` have no answer: they are left out
of MRR and hits, and scored separately by the share that came back empty; `false_empty` is the
share of answerable queries that came back empty. Searches run as the CLI runs them: passages
(group=none), time words interpreted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .search import MODES, SearchRequest, search

if TYPE_CHECKING:
    from .knowledge_base import KnowledgeBase

CUTOFF = 10
NONE_KIND = "none"
SPACES = re.compile(r"\s+")


def _bare(text: str) -> str:
    return SPACES.sub("", text)


@dataclass
class LabelledQuery:
    id: str
    query: str
    article: str
    contains: list[str] = field(default_factory=list)
    kind: str = ""
    issue: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != NONE_KIND

    def is_relevant(self, result: dict) -> bool:
        if not self.answerable:
            return False
        if self.kind == "date" and self.issue and result["issue"]["id"] != self.issue:
            return False
        text = _bare(result["text"])
        return _bare(self.article) in _bare(result["article"]["title"]) and all(_bare(s) in text for s in self.contains)


@dataclass
class ModeScore:
    mode: str
    ranks: dict[str, int | None]  # answerable query id -> 1-based rank of the first relevant hit in the top 10
    empty: dict[str, bool]  # every query id -> it came back with no result

    def _values(self, ids: list[str] | None = None) -> list[int | None]:
        return [self.ranks[i] for i in (self.ranks if ids is None else ids) if i in self.ranks]

    def mrr(self, ids: list[str] | None = None) -> float:
        values = self._values(ids)
        return sum(1.0 / r for r in values if r) / len(values) if values else 0.0

    def hit_at(self, n: int, ids: list[str] | None = None) -> float:
        values = self._values(ids)
        return sum(1 for r in values if r and r <= n) / len(values) if values else 0.0

    def empty_share(self, ids: list[str]) -> float:
        return sum(self.empty[i] for i in ids) / len(ids) if ids else 0.0


def load_queries(path: Path) -> list[LabelledQuery]:
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(LabelledQuery(row["id"], row["q"], row.get("article", ""), list(row.get("contains", [])),
                                         row.get("kind", ""), row.get("issue", "") or ""))
    return queries


def evaluate(kb: KnowledgeBase, queries: list[LabelledQuery], modes: list[str], expand: bool | None = None,
             interpret: bool = True, min_similarity: float | None = None) -> list[ModeScore]:
    """Each mode's ranks and empties over the queries; `min_similarity` -1 lets every candidate
    match (what the threshold costs is the difference)."""
    scores = []
    for mode in modes:
        ranks: dict[str, int | None] = {}
        empty: dict[str, bool] = {}
        for query in queries:
            response = search(kb, SearchRequest(query.query, mode=mode, k=CUTOFF, expand=expand, interpret=interpret,
                                                   min_similarity=min_similarity))
            empty[query.id] = not response["results"]
            if query.answerable:
                ranks[query.id] = next(
                    (i for i, r in enumerate(response["results"], start=1) if query.is_relevant(r)), None
                )
        scores.append(ModeScore(mode, ranks, empty))
    return scores


def dropped(gated: ModeScore, ungated: ModeScore, n: int = 5) -> list[str]:
    """Answerable queries with a relevant hit in the top `n` without the threshold and none with it."""
    def within(score: ModeScore, i: str) -> bool:
        return bool(score.ranks.get(i)) and score.ranks[i] <= n
    return [i for i in gated.ranks if within(ungated, i) and not within(gated, i)]


def _kinds(queries: list[LabelledQuery]) -> list[str]:
    return sorted({q.kind for q in queries if q.kind and q.answerable})


def _ids(queries: list[LabelledQuery], answerable: bool) -> list[str]:
    return [q.id for q in queries if q.answerable == answerable]


def format_table(scores: list[ModeScore], queries: list[LabelledQuery]) -> str:
    """Overall metrics per mode over the answerable queries, MRR@10 per kind, and for `none`
    queries the share that came back empty."""
    kinds = _kinds(queries)
    nones = _ids(queries, answerable=False)
    answerable = _ids(queries, answerable=True)
    header = f"{'mode':<9} {'MRR@10':>7} {'hit@1':>6} {'hit@5':>6} {'empty':>6}  " + " ".join(f"{k:>8}" for k in kinds)
    if nones:
        header += f" {'none→∅':>7}"
    lines = [header, "-" * len(header)]
    for score in scores:
        per_kind = " ".join(f"{score.mrr([q.id for q in queries if q.kind == k]):>8.3f}" for k in kinds)
        line = (f"{score.mode:<9} {score.mrr():>7.3f} {score.hit_at(1):>6.3f} {score.hit_at(5):>6.3f}"
                f" {score.empty_share(answerable):>6.3f}  {per_kind}")
        if nones:
            line += f" {score.empty_share(nones):>7.3f}"
        lines.append(line)
    note = f"({len(answerable)} answerable queries; per-kind columns are MRR@10; empty = answerable queries with no result"
    note += f"; none→∅ = share of the {len(nones)} `none` queries that returned nothing)" if nones else ")"
    lines.append(note)
    return "\n".join(lines)


def format_compare(scores: list[ModeScore], queries: list[LabelledQuery]) -> str:
    """keyword / semantic / hybrid side by side, with hybrid's deltas against each leg."""
    by_mode = {s.mode: s for s in scores}
    kinds = ["all"] + _kinds(queries)
    nones = _ids(queries, answerable=False)

    def ids(kind: str) -> list[str] | None:
        return None if kind == "all" else [q.id for q in queries if q.kind == kind]

    modes = [m for m in ("keyword", "semantic", "hybrid") if m in by_mode]
    header = f"{'MRR@10':<10}" + "".join(f"{m:>10}" for m in modes)
    if "hybrid" in by_mode:
        header += "".join(f"{'Δ ' + m[:3]:>10}" for m in modes if m != "hybrid")
    lines = [header, "-" * len(header)]
    rows = [(kind, lambda s, kind=kind: s.mrr(ids(kind))) for kind in kinds]
    rows.append(("hit@1", lambda s: s.hit_at(1)))
    rows.append(("hit@5", lambda s: s.hit_at(5)))
    rows.append(("empty", lambda s: s.empty_share(_ids(queries, answerable=True))))
    if nones:
        rows.append(("none→∅", lambda s: s.empty_share(nones)))
    for name, metric in rows:
        values = {m: metric(by_mode[m]) for m in modes}
        line = f"{name:<10}" + "".join(f"{values[m]:>10.3f}" for m in modes)
        if "hybrid" in values:
            line += "".join(f"{values['hybrid'] - values[m]:>+10.3f}" for m in modes if m != "hybrid")
        lines.append(line)
    return "\n".join(lines)


def misses(scores: list[ModeScore], queries: list[LabelledQuery]) -> list[str]:
    """Lines naming answerable queries whose first relevant hit is not at rank 1, and `none`
    queries that returned something, for tuning."""
    by_id = {q.id: q for q in queries}
    lines = [f"{s.mode:<9} {qid} rank={rank} q={by_id[qid].query}" for s in scores for qid, rank in s.ranks.items() if rank != 1]
    lines += [f"{s.mode:<9} {qid} none-query returned results q={by_id[qid].query}"
              for s in scores for qid in _ids(queries, answerable=False) if not s.empty[qid]]
    return lines


ALL_MODES = list(MODES)
