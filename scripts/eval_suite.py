"""The whole dev suite in one command: seed queries, archive queries, CMRC 2018 dev, one table.

    python scripts/eval_suite.py [--sets seed,archive,cmrc] [--work /tmp/kb-devsets]

Each set is ingested into its own data dir (kept between runs), then searched in every mode as
`kb eval` searches (passages, time words read). Per set and mode: MRR@10, hit@1 and hit@5 over
the answerable queries, the share of answerable queries that came back empty (false-empty; for
CMRC the issue's bar is 1 %), the share of `none` queries that came back empty, and (hybrid)
how many answerable queries the threshold pushes out of the top 5: searched again with every
candidate matching (min_similarity -1), their answer was in the top 5 and with the match set it
is not (the issue's bar: none on the seed and archive sets).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsets import DEFAULT_WORK, SETS, ingested  # noqa: E402

from kb.config import Settings  # noqa: E402
from kb.evaluate import dropped, evaluate, format_compare, load_queries  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.search import MODES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    rows = []
    for name in args.sets.split(","):
        kb = KnowledgeBase(Settings.from_env(data_dir=ingested(name, args.work)))
        queries = load_queries(SETS[name][1])
        scores = evaluate(kb, queries, list(MODES))
        answerable = [q.id for q in queries if q.answerable]
        nones = [q.id for q in queries if not q.answerable]
        ungated = evaluate(kb, queries, ["hybrid"], min_similarity=-1.0)[0]
        lost = dropped(next(s for s in scores if s.mode == "hybrid"), ungated)
        for s in scores:
            rows.append((name, s.mode, s.mrr(), s.hit_at(1), s.hit_at(5), s.empty_share(answerable),
                         s.empty_share(nones) if nones else None, len(lost) if s.mode == "hybrid" else None,
                         len(answerable), len(nones)))
        print(f"== {name}\n{format_compare(scores, queries)}\n"
              + (f"threshold pushed out of the top 5: {', '.join(lost)}\n" if lost else ""), flush=True)
    print(f"{'set':<8} {'mode':<9} {'MRR@10':>7} {'hit@1':>6} {'hit@5':>6} {'false∅':>7} {'none→∅':>7} {'lost@5':>6} {'queries':>8}")
    for name, mode, mrr, h1, h5, fe, ne, lost, n, nn in rows:
        none = f"{ne:>7.3f}" if ne is not None else f"{'-':>7}"
        lost_text = f"{lost:>6}" if lost is not None else f"{'-':>6}"
        print(f"{name:<8} {mode:<9} {mrr:>7.3f} {h1:>6.3f} {h5:>6.3f} {fe:>7.3f} {none} {lost_text} {n:>5}+{nn}")


if __name__ == "__main__":
    main()
