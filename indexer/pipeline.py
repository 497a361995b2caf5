"""ingest(paths): read -> parse -> chunk -> embed -> write, incrementally.

An unchanged file (same content hash) is skipped; a changed file replaces its issue in one
transaction; a file that fails is reported and the rest of the batch goes on. The new texts of
several parsed issues are embedded together (EMBED_POOL), then each issue is written in its own
transaction. The vector index is brought up to date once at the end.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kb.crash import crash_point
from kb.knowledge_base import KnowledgeBase, PreparedIssue

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
    notes: list[str] = field(default_factory=list)  # what a reader said about a file it read (a page with no text)
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
        ) + "".join(f"\nnote: {note}" for note in self.notes)


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


EMBED_POOL = 512  # texts embedded in one call across issues (see _write_pending)


@dataclass
class Pending:
    """A prepared issue, with where it came from, waiting to be written."""

    source: Path
    replaces: bool
    prepared: PreparedIssue
    notes: list[str] = field(default_factory=list)  # what the reader said of the file (a page with no text)


def ingest(kb: KnowledgeBase, paths: Iterable[Path], prune: bool = False, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    kb.open_index()  # a chunk index that cannot be opened refuses the ingest before anything is written
    files, report.failed = discover(paths)
    indexed = kb.indexed_files()
    seen: set[str] = set()
    pending: list[Pending] = []
    for path in tqdm(files, desc="ingest", unit="file", disable=not progress):
        key = str(path.resolve())
        seen.add(key)
        try:
            prepared = _prepare(kb, path, key, indexed, pending)
        except (ReadError, ParseError, IngestError) as exc:
            report.failed[str(path)] = str(exc)
            continue
        if prepared is None:
            report.unchanged.append(str(path))
            continue
        pending.append(prepared)
        report.notes.extend(prepared.notes)
        if sum(len(item.prepared.missing) for item in pending) >= EMBED_POOL:
            _write_pending(kb, pending, report)
            pending = []
    _write_pending(kb, pending, report)
    if prune:
        gone = [issue_id for path, (issue_id, _) in indexed.items() if path not in seen and not Path(path).exists()]
        kb.remove_issues(gone)
        report.pruned = gone
    report.embedded += kb.fill_missing_embeddings()  # chunks of unchanged files, after the model or backend changed
    kb.refresh_vectors()
    report.seconds = time.perf_counter() - started
    return report


def _prepare(kb: KnowledgeBase, path: Path, key: str, indexed: dict, pending: list[Pending]) -> Pending | None:
    """Read, parse and chunk one file; None when it is unchanged since it was indexed."""
    if not _storable(key):
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise IngestError(f"{shown}: the file name is not valid UTF-8; rename the file")
    data, text = read_document(path, kb.settings.max_file_bytes)
    notes = list(getattr(text, "notes", ()))
    sha256 = hashlib.sha256(data).hexdigest()
    if key in indexed and indexed[key][1] == sha256:
        return None
    issue = parse_issue(text, path.name)
    if not issue.articles:
        raise ParseError(f"{path}: no article of the table of contents was found in the body")
    crash_point("parsed")
    holder = kb.issue_path(issue.id)
    if holder is not None and holder != key and Path(holder).exists():
        raise IngestError(f"{path}: issue {issue.id} is already indexed from {holder}")
    twin = next((item for item in pending if item.prepared.issue.id == issue.id), None)
    if twin is not None:
        raise IngestError(f"{path}: issue {issue.id} is already being indexed from {twin.source}")
    chunks = chunk_issue(issue, getattr(text, "ocr", ()))
    prepared = kb.prepare(key, sha256, issue, chunks, structured_issue(issue))
    return Pending(path, key in indexed or holder is not None, prepared, notes)


def _write_pending(kb: KnowledgeBase, pending: list[Pending], report: IngestReport) -> None:
    """Write the prepared issues, their new texts embedded together (see KnowledgeBase.write_issues)."""
    report.embedded += kb.write_issues([item.prepared for item in pending])
    for item in pending:
        (report.replaced if item.replaces else report.added).append(str(item.source))
        report.articles += len(item.prepared.issue.articles)
        report.chunks += len(item.prepared.chunks)


def _storable(path: str) -> bool:
    """A name the database can hold: a file name in another encoding decodes to lone surrogates."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
