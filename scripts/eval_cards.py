"""Answer-card matching measured on labelled card queries: precision and recall per split and kind.

    python scripts/eval_cards.py [--queries tests/data/card_queries.jsonl] [--work /tmp/kb-devsets]

Runs over the archive dev set (the real issue plus the fictional half-year, ingested once). Each
labelled query names the card it should show (`kind`, `subject`, and the `issue` its value must
come from, when the label fixes one) or none (`kind` null: a county no table lists, a product the
report never prices, a province without a clause). A card is correct when its kind and subject
match the label and, where the label names an issue, it comes from that issue. Precision: correct
cards / cards shown; recall: labelled queries whose card is shown / labelled queries with a card.
The `holdout` split was written with the rest and never looked at while the matcher was built.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsets import DEFAULT_WORK, ingested  # noqa: E402

from kb.config import Settings  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.timewords import interpret  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def score(kb: KnowledgeBase, labels: list[dict]) -> tuple[dict, list[str]]:
    newest = kb.store.newest_issue_dates()
    tally: dict[str, dict[str, int]] = defaultdict(lambda: {"shown": 0, "correct": 0, "wanted": 0, "found": 0})
    misses = []
    for label in labels:
        said = interpret(label["q"], newest)
        week = (said.date_from, said.date_to) if said and said.mode == "filter" else None
        cards = kb.answers(label["q"], week)
        correct = [c for c in cards if c["kind"] == label["kind"] and c["subject"] == label["subject"]
                   and (label["issue"] is None or c["issue"]["id"] == label["issue"])]
        for group in (label["split"], f"{label['split']}:{label['kind'] or 'none'}", "all"):
            t = tally[group]
            t["shown"] += len(cards)
            t["correct"] += len(correct)
            t["wanted"] += label["kind"] is not None
            t["found"] += bool(correct) and label["kind"] is not None
        if len(correct) != len(cards) or (label["kind"] and not correct):
            misses.append(f"{label['id']} {label['split']:<7} {label['q']}: wanted {label['subject']} "
                          f"({label['issue'] or 'any issue'}), shown {[(c['subject'], c['issue']['id']) for c in cards]}")
    return tally, misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, default=ROOT / "tests" / "data" / "card_queries.jsonl")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args()
    labels = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    kb = KnowledgeBase(Settings.from_env(data_dir=ingested("archive", args.work)))
    tally, misses = score(kb, labels)
    print(f"{'split / kind':<18} {'precision':>9} {'recall':>7} {'cards':>6} {'queries with a card':>20}")
    for group in sorted(tally):
        t = tally[group]
        precision = t["correct"] / t["shown"] if t["shown"] else 1.0
        recall = t["found"] / t["wanted"] if t["wanted"] else float("nan")
        print(f"{group:<18} {precision:>9.3f} {recall:>7.3f} {t['shown']:>6} {t['wanted']:>20}")
    print(f"\n{len(labels)} labelled queries; misses:" if misses else f"\n{len(labels)} labelled queries; no miss")
    for line in misses:
        print("  " + line)


if __name__ == "__main__":
    main()
