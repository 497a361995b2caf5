"""`kb check`: does the index agree with itself? And `kb check --repair`: rebuild what is derived.

SQLite is the source of truth; the FTS rows, the embeddings and the FAISS file are derived from
its chunks, so each can be rebuilt from them. The checks:

- SQLite's own `quick_check` and `foreign_key_check` (not repairable here: re-ingest the files);
- every chunk has exactly one FTS row, and no FTS row is an orphan;
- every chunk has its term statistics (the keyword ranker's, kb/store/keyword_stats.py), and
  they agree with FTS5's own vocabulary (chunks and occurrences per term) and token total;
- every chunk has a stored embedding for the model;
- the saved vector index is readable, matches its sidecar, reflects the store's generation, and
  holds exactly one vector per chunk and no vector of a deleted chunk; with the milvus backend,
  the collection records the store's generation and holds exactly one row per chunk and no row
  of a deleted chunk (repair re-syncs it from SQLite);
- no temporary file of a killed writer is left beside the index;
- every table-row and policy chunk knows its table row (an index of schema 1 learns them on the
  next `kb ingest`).

`KnowledgeBase.check()` and `.repair()` run these; the SQL they need is in kb/store/inventory.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from .config import Settings
from .store import Store
from .vector_index import VectorIndex, leftover_temporaries


class KnowledgeBase(Protocol):
    """What check and repair use of kb/knowledge_base.py's `KnowledgeBase` (which runs them)."""

    settings: Settings
    store: Store
    model_name: str
    milvus: bool

    def snapshot(self) -> AbstractContextManager: ...

    def fill_missing_embeddings(self) -> int: ...

    def rebuild_vectors(self) -> VectorIndex: ...

    def milvus_index(self): ...

SAMPLE = 5  # ids shown per problem


@dataclass
class Problem:
    code: str
    message: str
    count: int
    repairable: bool = True


@dataclass
class CheckReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, message: str, count: int = 1, repairable: bool = True) -> None:
        self.problems.append(Problem(code, message, count, repairable))

    def add_ids(self, code: str, what: str, ids) -> None:
        """One problem naming a few of `ids`, when there are any."""
        ids = list(ids)
        if ids:
            self.add(code, f"{what}: {_sample(ids)}", len(ids))

    def to_dict(self) -> dict:
        return {"ok": self.ok, "counts": self.counts, "problems": [asdict(p) for p in self.problems],
                "repaired": self.repaired}


def _sample(ids) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:SAMPLE])
    return shown + (f" and {len(ids) - SAMPLE} more" if len(ids) > SAMPLE else "")


def check(kb: KnowledgeBase) -> CheckReport:
    """Report every disagreement; change nothing."""
    report = CheckReport()
    store = kb.store
    with kb.snapshot():
        _check_sqlite(store, report)
        chunk_ids = np.array(store.chunk_rowids(), dtype=np.int64)
        fts_ids = np.array(store.fts_rowids(), dtype=np.int64)
        report.counts = {"chunks": len(chunk_ids), "fts_rows": len(fts_ids)}
        report.add_ids("fts_missing", "chunks without a full-text row", np.setdiff1d(chunk_ids, fts_ids))
        report.add_ids("fts_orphans", "full-text rows of no chunk", np.setdiff1d(fts_ids, chunk_ids))
        _check_keyword_stats(store, report, compare=np.array_equal(chunk_ids, fts_ids))
        report.add_ids("embeddings_missing", f"chunks without a {kb.model_name} embedding",
                       [r[0] for r in store.unembedded(kb.model_name)])
        if kb.milvus:
            _check_milvus(kb, chunk_ids, store.generation, report)
        else:
            _check_vectors(kb, chunk_ids, store.generation, report)
        unplaced = store.unplaced_chunks()
        if unplaced:
            report.add("chunks_unplaced", "table-row and policy chunks written by an older version do not know"
                       f" their table row: {_sample(unplaced)}; run `kb ingest` to re-read their files",
                       len(unplaced), False)
    report.add_ids("temporary_files", "temporary files of killed writers",
                   (p.name for p in leftover_temporaries(kb.settings.vectors_path)))
    return report


def _check_sqlite(store, report: CheckReport) -> None:
    verdict, broken = store.integrity()
    if verdict != ["ok"]:
        report.add("sqlite_corrupt", "SQLite quick_check: " + "; ".join(verdict[:SAMPLE]), len(verdict), False)
    if broken:
        report.add("foreign_keys", f"rows pointing at missing parents in {_sample(set(broken))}",
                   len(broken), False)


def _check_keyword_stats(store, report: CheckReport, compare: bool = True) -> None:
    """Every chunk has its statistics and, when FTS5 holds exactly the chunks (`compare`), they
    count what FTS5 counts."""
    missing = store.chunks_without_stats()
    report.add_ids("keyword_stats_missing", "chunks without term statistics", missing)
    if missing or not compare:
        return
    _, _, cells = store.keyword_cells()
    names = dict(store.terms_after(0))
    size = max(names, default=0) + 1
    documents = np.bincount(cells["term"], minlength=size)
    occurrences = np.bincount(cells["term"], weights=cells["title"].astype(np.int64) + cells["body"], minlength=size)
    ours = {names.get(int(i), f"#{i}"): (int(documents[i]), int(occurrences[i])) for i in np.flatnonzero(documents)}
    theirs = store.fts_term_documents()
    report.add_ids("keyword_stats_stale", "terms whose statistics disagree with the full-text index",
                   sorted(t for t in ours.keys() | theirs.keys() if ours.get(t) != theirs.get(t)))
    tokens = store.fts_token_total()
    if int(occurrences.sum()) != tokens:
        report.add("keyword_stats_stale", f"term statistics count {int(occurrences.sum())} tokens, the full-text"
                   f" index {tokens}")


def _check_vectors(kb: KnowledgeBase, chunk_ids: np.ndarray, generation: int, report: CheckReport) -> None:
    path = kb.settings.vectors_path
    saved = VectorIndex.load(path)
    if saved is None:
        why = "is missing" if not path.exists() else "is unreadable or does not match its sidecar"
        report.add("vectors_unusable", f"the vector index {path.name} {why}")
        return
    ids = saved.ids()
    report.counts["vectors"] = len(ids)
    if saved.model != kb.model_name:
        report.add("vectors_stale", f"the vector index holds {saved.model} vectors, not {kb.model_name}")
        return
    if saved.generation != generation:
        report.add("vectors_stale", f"the vector index reflects generation {saved.generation}, the store {generation}")
    unique, counts = np.unique(ids, return_counts=True)
    report.add_ids("vectors_duplicated", "chunks with more than one vector", unique[counts > 1])
    report.add_ids("vectors_missing", "chunks without a vector", np.setdiff1d(chunk_ids, unique))
    report.add_ids("vectors_orphans", "vectors of no chunk", np.setdiff1d(unique, chunk_ids))


def _check_milvus(kb: KnowledgeBase, chunk_ids: np.ndarray, generation: int, report: CheckReport) -> None:
    index = kb.milvus_index()
    ids, rows = index.ids(), index.size
    report.counts["milvus_rows"] = rows
    if rows > len(ids):  # a Milvus server keeps both rows of a primary key inserted twice
        report.add("milvus_duplicated", f"{rows - len(ids)} Milvus rows repeat a chunk's rowid", rows - len(ids))
    recorded = index.recorded_generation()
    if recorded != generation:
        report.add("milvus_stale", f"the Milvus collection {index.collection} reflects generation {recorded},"
                   f" the store {generation}")
    report.add_ids("milvus_missing", "chunks without a Milvus row", np.setdiff1d(chunk_ids, ids))
    report.add_ids("milvus_orphans", "Milvus rows of no chunk", np.setdiff1d(ids, chunk_ids))


def repair(kb: KnowledgeBase) -> CheckReport:
    """Rebuild what is derived from the chunks (FTS rows, term statistics, embeddings, the vector index), remove
    leftover temporaries, then check again. SQLite corruption is reported, not repaired."""
    repaired = []
    fts_added, orphans = kb.store.repair_fts()
    if fts_added or orphans:
        repaired.append(f"full-text rows: {fts_added} added, {orphans} removed")
    written = kb.store.repair_keyword_stats()  # the chunks without them, then all of them if any disagree
    stale = CheckReport()
    with kb.snapshot():
        _check_keyword_stats(kb.store, stale)
    written += kb.store.repair_keyword_stats(everything=True) if stale.problems else 0
    if written:
        repaired.append(f"term statistics: {written} chunks written")
    embedded = kb.fill_missing_embeddings()
    if embedded:
        repaired.append(f"embeddings: {embedded} computed")
    leftovers = leftover_temporaries(kb.settings.vectors_path)
    kb.rebuild_vectors()  # its save sweeps the leftovers
    repaired.append("Milvus collection re-synced from the store" if kb.milvus
                    else "vector index rebuilt from the stored embeddings")
    repaired.extend(f"removed {leftover.name}" for leftover in leftovers if not leftover.exists())
    report = check(kb)
    report.repaired = repaired
    return report
