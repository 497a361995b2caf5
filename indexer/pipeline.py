"""ingest(paths): read -> parse -> chunk -> embed -> write, incrementally and one issue at a time.

An unchanged file (same content hash) is skipped; a changed file replaces its issue in one
transaction; a file that fails is reported and the rest of the batch goes on. The vector index
is brought up to date once at the end.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kb.check import embed_missing
from kb.crash import crash_point
from kb.knowledge_base import KnowledgeBase
from kb.vectors import text_sha

from .chunk import chunk_issue
from .parse import ParseError, parse_issue
from .readers import ReadError, read_document, supported_suffixes
from .structured import structured_issue


class IngestError(RuntimeError):
    """An issue that parsed but cannot be stored (e.g. another file already holds its id)."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason
    articles: int = 0
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"issues: {len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged,"
            f" {len(self.pruned)} pruned, {len(self.failed)} failed; articles: {self.articles};"
            f" chunks: {self.chunks} ({self.embedded} embedded); {self.seconds:.1f} s"
        )


def discover(paths: Iterable[Path]) -> tuple[list[Path], dict[str, str]]:
    """Files to ingest under the given files/folders, and the paths that do not exist."""
    files: list[Path] = []
    missing: dict[str, str] = {}
    suffixes = supported_suffixes()
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes))
        elif path.is_file():
            files.append(path)
        else:
            missing[str(path)] = f"{path}: no such file or folder"
    return files, missing


def ingest(kb: KnowledgeBase, paths: Iterable[Path], prune: bool = False, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    files, report.failed = discover(paths)
    indexed = kb.store.indexed_files()
    seen: set[str] = set()
    for path in tqdm(files, desc="ingest", unit="file", disable=not progress):
        key = str(path.resolve())
        seen.add(key)
        try:
            _ingest_file(kb, path, key, indexed, report)
        except (ReadError, ParseError, IngestError) as exc:
            report.failed[str(path)] = str(exc)
    if prune:
        gone = [issue_id for path, (issue_id, _) in indexed.items() if path not in seen and not Path(path).exists()]
        kb.store.delete_issues(gone)
        report.pruned = gone
    report.embedded += embed_missing(kb)  # chunks of unchanged files, after the model or backend changed
    kb.refresh_vectors()
    report.seconds = time.perf_counter() - started
    return report


def _ingest_file(kb: KnowledgeBase, path: Path, key: str, indexed: dict, report: IngestReport) -> None:
    if not _storable(key):
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise IngestError(f"{shown}: the file name is not valid UTF-8; rename the file")
    data, text = read_document(path, kb.settings.max_file_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    if key in indexed and indexed[key][1] == sha256:
        report.unchanged.append(str(path))
        return
    issue = parse_issue(text, path.name)
    if not issue.articles:
        raise ParseError(f"{path}: no article of the table of contents was found in the body")
    crash_point("parsed")
    holder = kb.store.issue_path(issue.id)
    if holder is not None and holder != key and Path(holder).exists():
        raise IngestError(f"{path}: issue {issue.id} is already indexed from {holder}")
    chunks = chunk_issue(issue)
    shas = [text_sha(chunk.embed_text) for chunk in chunks]
    cached = kb.store.cached_vectors(kb.model_name, shas)
    missing = {sha: chunk.embed_text for sha, chunk in zip(shas, chunks) if sha not in cached}
    new_vectors = {}
    if missing:
        vectors = kb.embedder.embed(list(missing.values()), batch_size=kb.settings.embed_batch_size)
        new_vectors = dict(zip(missing.keys(), vectors))
    kb.store.replace_issue(issue, key, sha256, chunks, shas, kb.model_name, new_vectors, structured_issue(issue))
    crash_point("committed")
    (report.replaced if key in indexed or holder is not None else report.added).append(str(path))
    report.articles += len(issue.articles)
    report.chunks += len(chunks)
    report.embedded += len(new_vectors)


def _storable(path: str) -> bool:
    """A name the database can hold: a file name in another encoding decodes to lone surrogates."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
