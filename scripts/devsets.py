"""The three dev sets, each ingested into its own data dir once (shared by eval_suite.py and calibrate.py).

seed: the real issue with ../shared/eval/dev_queries.jsonl; archive: the real issue plus the
fictional half-year with ../shared/eval/archive_dev.jsonl (its `none` queries have no answer);
cmrc: CMRC 2018 dev in the digest's layout with its 3,219 questions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SETS = {
    "seed": ([ROOT / "corpus"], SHARED / "eval" / "dev_queries.jsonl"),
    "archive": ([ROOT / "corpus", SHARED / "archive" / "issues"], SHARED / "eval" / "archive_dev.jsonl"),
    "cmrc": ([SHARED / "benchmarks" / "cmrc2018-dev" / "corpus"], SHARED / "benchmarks" / "cmrc2018-dev" / "queries.jsonl"),
}
DEFAULT_WORK = Path("/tmp/kb-devsets")


def ingested(name: str, work: Path = DEFAULT_WORK) -> Path:
    """The data dir of one dev set, ingested with `kb ingest` (unchanged files are skipped)."""
    data = work / name
    paths, _ = SETS[name]
    kb_command = Path(sys.executable).parent / "kb"
    subprocess.run([str(kb_command), "ingest", *map(str, paths), "--data-dir", str(data), "--quiet"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return data
