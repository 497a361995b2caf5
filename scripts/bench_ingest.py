"""Ingest speed on a scaled synthetic corpus: cold, unchanged re-ingest, one changed issue.

    .venv/bin/python scripts/bench_ingest.py [--cold-issues 10] [--issues 100] [--repeat 3] [--seed 0]

Writes --issues synthetic issues (scripts/make_scaled_corpus.py) into a temporary folder, then:

  cold       the first --cold-issues of them into an empty data dir with no embedding cache, so
             every chunk text (all unique) is embedded for real: chunks/s, and the seconds split
             into embed (Embedder.embed), write (Store.replace_issue), vector index (the FAISS
             rebuild and save at the end) and the rest (read, hash, parse, chunk, cache lookup).
  unchanged  all --issues again over the built index, nothing changed: fresh KnowledgeBase
             objects in this process (what the pipeline costs), and `kb ingest` as a new process
             (what a user waits for, interpreter and imports included).
  changed    one article of one issue edited (a different issue each repeat), then the same two.

Building the --issues index needs every chunk embedded once; those vectors come from the
embedding cache data/bench/embeddings.sqlite3 (scripts/benchlib.py), and whatever it lacks is
embedded for real and added to it, so the first run is slow and later runs are not. The cold run
never reads the cache. Targets: >= 60 unique chunks/s cold (CPU), unchanged re-ingest of 100
issues <= 5 s. Prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from benchlib import EMBED_CACHE, peak_rss_mb, percentiles, print_table, seed_embedding_cache, update_embedding_cache
from make_scaled_corpus import make_corpus

from indexer.pipeline import IngestReport, ingest
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase
from kb.embedder import Embedder

COLD_TARGET = 60.0  # unique chunks/s
UNCHANGED_TARGET = 5.0  # seconds for 100 issues
COLUMNS = ["case", "issues", "chunks", "embedded", "seconds", "p95 s", "chunks/s", "target", "met"]


class StageTimer:
    """Seconds spent in methods of given objects, by stage name, via wrappers set on the instances."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: object, method: str, stage: str) -> None:
        original: Callable = getattr(owner, method)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        setattr(owner, method, timed)


def knowledge_base(data_dir: Path, embedder: Embedder | None = None) -> KnowledgeBase:
    return KnowledgeBase(Settings.from_env(data_dir=data_dir), embedder=embedder)


def cold(files: list[Path], data_dir: Path) -> tuple[dict, list[dict], Embedder]:
    """Ingest `files` into an empty data dir, embedding everything; the row, the stage split, the model."""
    kb = knowledge_base(data_dir)
    kb.embedder.embed(["预热"])  # model load and first-batch warm-up are not ingest time
    timer = StageTimer()
    timer.wrap(kb.embedder, "embed", "embed")
    timer.wrap(kb.store, "replace_issue", "write")
    timer.wrap(kb, "refresh_vectors", "vector index")
    report = ingest(kb, files, progress=False)
    update_embedding_cache(kb)
    embedder = kb.embedder
    kb.close()
    rate = report.embedded / report.seconds
    row = {"case": "cold (no cache)", "issues": len(report.added), "chunks": report.chunks,
           "embedded": report.embedded, "seconds": report.seconds, "chunks/s": rate,
           "target": f">= {COLD_TARGET:.0f} chunks/s", "met": "yes" if rate >= COLD_TARGET else "no"}
    stages = dict(timer.seconds)
    stages["read, parse, chunk (rest)"] = report.seconds - sum(stages.values())
    split = [{"stage": name, "seconds": seconds, "share": f"{seconds / report.seconds:.0%}",
              "chunks/s": report.embedded / seconds if seconds else float("nan")}
             for name, seconds in stages.items()]
    return row, split, embedder


def build(corpus: Path, data_dir: Path, embedder: Embedder) -> IngestReport:
    """The full index, its vectors from the embedding cache where it has them."""
    kb = knowledge_base(data_dir, embedder)
    seeded = seed_embedding_cache(kb)
    report = ingest(kb, [corpus], progress=False)
    added = update_embedding_cache(kb)
    kb.close()
    print(f"built the index of {len(report.added)} issues, {report.chunks} chunks, in {report.seconds:.1f} s:"
          f" {seeded} vectors copied from the embedding cache {EMBED_CACHE}, {report.embedded} chunks embedded"
          f" for real ({added} new vectors added to the cache)")
    return report


def timed_ingest(corpus: Path, data_dir: Path, embedder: Embedder) -> IngestReport:
    """One ingest by a fresh KnowledgeBase (the model object is shared: loading it is not ingest)."""
    kb = knowledge_base(data_dir, embedder)
    report = ingest(kb, [corpus], progress=False)
    kb.close()
    return report


def cli_ingest(corpus: Path, data_dir: Path) -> float:
    """Wall seconds of `kb ingest` in a new process."""
    command = [str(Path(sys.executable).parent / "kb"), "ingest", str(corpus), "--data-dir", str(data_dir), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def edit_one_article(path: Path, mark: str) -> None:
    """Lengthen the longest paragraph of the issue by one sentence (so one or two chunks change)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    longest = max((i for i, line in enumerate(lines) if "\t" not in line), key=lambda i: len(lines[i]))
    lines[longest] += f"编辑部补充：本段数据已于第{mark}次复核后更新。"
    path.write_text("\n".join(lines), encoding="utf-8")


def repeated(case: str, seconds: list[float], embedded: int | None, issues: int, chunks: int, target: str,
             limit: float | None = None) -> dict:
    """A table row over repeated runs; the median decides `met`."""
    figures = percentiles(seconds)
    met = "-" if limit is None else ("yes" if figures["p50"] <= limit else "no")
    return {"case": case, "issues": issues, "chunks": chunks, "embedded": "-" if embedded is None else embedded,
            "seconds": figures["p50"], "p95 s": figures["p95"], "chunks/s": chunks / figures["p50"],
            "target": target, "met": met}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-issues", type=int, default=10, help="issues in the cold run (about 44 chunks each)")
    parser.add_argument("--issues", type=int, default=100, help="issues in the re-ingest runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each re-ingest case (median and p95)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    parser.add_argument("--cli", action=argparse.BooleanOptionalAction, default=True,
                        help="also time `kb ingest` in a new process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kb-bench-ingest-") as work:
        work = Path(work)
        files = make_corpus(max(args.issues, args.cold_issues), work / "corpus", args.seed)
        corpus = work / "corpus"
        print(f"{len(files)} synthetic issues in {corpus}; cold run on the first {args.cold_issues}")
        row, split, embedder = cold(files[: args.cold_issues], work / "cold")
        rows = [row]
        data_dir = work / "data"
        built = build(corpus, data_dir, embedder)
        chunks, issues = built.chunks, len(built.added)
        limit = UNCHANGED_TARGET * issues / 100
        target = f"<= {limit:g} s"

        reports = [timed_ingest(corpus, data_dir, embedder) for _ in range(args.repeat)]
        rows.append(repeated("unchanged", [r.seconds for r in reports], max(r.embedded for r in reports),
                             issues, chunks, target, limit))
        if args.cli:
            seconds = [cli_ingest(corpus, data_dir) for _ in range(args.repeat)]
            rows.append(repeated("unchanged, kb ingest CLI", seconds, None, issues, chunks, target, limit))

        reports = []
        for number in range(args.repeat):
            edit_one_article(files[number], f"{number + 1}")
            reports.append(timed_ingest(corpus, data_dir, embedder))
        rows.append(repeated("1 issue changed", [r.seconds for r in reports], max(r.embedded for r in reports),
                             issues, chunks, "-"))
        if args.cli:
            seconds = []
            for number in range(args.repeat):
                edit_one_article(files[number], f"{number + 1}-cli")
                seconds.append(cli_ingest(corpus, data_dir))
            rows.append(repeated("1 issue changed, kb ingest CLI", seconds, None, issues, chunks, "-"))

    print()
    print_table(rows, COLUMNS)
    print(f"\ncold run split ({row['embedded']} chunks embedded, {row['seconds']:.1f} s):")
    print_table(split, ["stage", "seconds", "share", "chunks/s"])
    print(f"\nre-ingest rows: seconds is the median of {args.repeat} runs, chunks/s counts the chunks of the"
          f" corpus checked, embedded is the most any run embedded; CLI rows time a new process (imports, and"
          f" the model load when something changed). Peak RSS here: {peak_rss_mb():.0f} MB; {os.cpu_count()} CPUs.")


if __name__ == "__main__":
    main()
