"""Compare hybrid fusion methods on labelled queries: RRF (several k) vs weighted score combination.

    python scripts/tune_fusion.py ../shared/eval/dev_queries.jsonl [--data-dir data]

Prints MRR@10 / hit@1 / hit@5 for each setting; the index must already be built (`kb ingest`).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from kb.config import Settings
from kb.evaluate import evaluate, load_queries
from kb.knowledge_base import KnowledgeBase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    base = Settings.from_env(data_dir=args.data_dir)
    queries = load_queries(args.queries)
    embedder = KnowledgeBase(base).embedder
    settings = [
        ("rrf", replace(base, fusion="rrf", rrf_k=k, keyword_floor=floor))
        for floor in (0.0, 0.1, 0.2, 0.3)
        for k in (10, 30, 60)
    ]
    settings += [
        ("weighted", replace(base, fusion="weighted", keyword_weight=w, keyword_floor=floor))
        for floor in (0.0, 0.2)
        for w in (0.3, 0.5, 0.7)
    ]
    print(f"{'fusion':<9} {'param':>6} {'floor':>5} {'MRR@10':>7} {'hit@1':>6} {'hit@5':>6}  misses (query id: rank)")
    for name, setting in settings:
        kb = KnowledgeBase(setting, embedder=embedder)
        (score,) = evaluate(kb, queries, ["hybrid"])
        param = setting.rrf_k if name == "rrf" else setting.keyword_weight
        missed = ", ".join(f"{qid}:{rank}" for qid, rank in score.ranks.items() if rank != 1)
        print(f"{name:<9} {param:>6} {setting.keyword_floor:>5} {score.mrr():>7.3f} {score.hit_at(1):>6.3f} {score.hit_at(5):>6.3f}  {missed}")


if __name__ == "__main__":
    main()
