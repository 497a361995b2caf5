"""`kb check`: does the index agree with itself? And `kb check --repair`: rebuild what is derived.

SQLite is the source of truth; the FTS rows, the embeddings and the FAISS file are derived from
its chunks, so each can be rebuilt from them. The checks:

- SQLite's own `quick_check` and `foreign_key_check` (not repairable here: re-ingest the files);
- every chunk has exactly one FTS row, and no FTS row is an orphan;
- every chunk has a stored embedding for the model;
- the saved vector index is readable, matches its sidecar, reflects the store's generation, and
  holds exactly one vector per chunk and no vector of a deleted chunk;
- no temporary file of a killed writer is left beside the index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .knowledge_base import KnowledgeBase
from .models import embedding_text
from .segment import document_text
from .vectors import VectorIndex, leftover_temporaries, text_sha

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
    conn = kb.store.connection()
    with kb.snapshot():
        _check_sqlite(conn, report)
        chunk_ids = np.array([r[0] for r in conn.execute("SELECT rowid FROM chunks ORDER BY rowid")], dtype=np.int64)
        fts_ids = np.array([r[0] for r in conn.execute("SELECT rowid FROM chunks_fts ORDER BY rowid")], dtype=np.int64)
        report.counts = {"chunks": len(chunk_ids), "fts_rows": len(fts_ids)}
        report.add_ids("fts_missing", "chunks without a full-text row", np.setdiff1d(chunk_ids, fts_ids))
        report.add_ids("fts_orphans", "full-text rows of no chunk", np.setdiff1d(fts_ids, chunk_ids))
        report.add_ids("embeddings_missing", f"chunks without a {kb.model_name} embedding", _unembedded_chunks(kb))
        _check_vectors(kb, chunk_ids, kb.store.generation, report)
    report.add_ids("temporary_files", "temporary files of killed writers",
                   (p.name for p in leftover_temporaries(kb.settings.vectors_path)))
    return report


def _check_sqlite(conn, report: CheckReport) -> None:
    verdict = [r[0] for r in conn.execute("PRAGMA quick_check")]
    if verdict != ["ok"]:
        report.add("sqlite_corrupt", "SQLite quick_check: " + "; ".join(verdict[:SAMPLE]), len(verdict), False)
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        report.add("foreign_keys", f"rows pointing at missing parents in {_sample({r[0] for r in broken})}",
                   len(broken), False)


UNEMBEDDED = (
    "SELECT c.rowid, c.text, a.title FROM chunks c JOIN articles a ON a.id = c.article_id"
    " LEFT JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha WHERE e.sha IS NULL ORDER BY c.rowid"
)


def _unembedded_chunks(kb: KnowledgeBase) -> list[int]:
    return [r[0] for r in kb.store.connection().execute(UNEMBEDDED, (kb.model_name,))]


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


def repair(kb: KnowledgeBase) -> CheckReport:
    """Rebuild what is derived from the chunks (FTS rows, embeddings, the vector index), remove
    leftover temporaries, then check again. SQLite corruption is reported, not repaired."""
    repaired = []
    conn = kb.store.connection()
    with conn:
        fts_added = conn.execute(
            "SELECT c.rowid, c.text, a.title FROM chunks c JOIN articles a ON a.id = c.article_id"
            " WHERE c.rowid NOT IN (SELECT rowid FROM chunks_fts)"
        ).fetchall()
        conn.executemany("INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)",
                         [(r[0], document_text(r[2]), document_text(r[1])) for r in fts_added])
        orphans = conn.execute("DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT rowid FROM chunks)").rowcount
        if fts_added or orphans:
            repaired.append(f"full-text rows: {len(fts_added)} added, {orphans} removed")
    embedded = embed_missing(kb)
    if embedded:
        repaired.append(f"embeddings: {embedded} computed")
    if fts_added or orphans:
        with conn:
            kb.store.bump_generation(conn)
    leftovers = leftover_temporaries(kb.settings.vectors_path)
    kb.rebuild_vectors()  # its save sweeps the leftovers
    repaired.append("vector index rebuilt from the stored embeddings")
    repaired.extend(f"removed {leftover.name}" for leftover in leftovers if not leftover.exists())
    report = check(kb)
    report.repaired = repaired
    return report


def embed_missing(kb: KnowledgeBase) -> int:
    """Embed the chunks that have no stored vector under kb.model_name, exactly as the indexer would
    have, in one transaction with a new generation; how many. Ingest calls it too, so a changed
    model or embedding backend fills in the chunks of files it skips as unchanged."""
    conn = kb.store.connection()
    rows = conn.execute(UNEMBEDDED, (kb.model_name,)).fetchall()
    if not rows:
        return 0
    texts = [embedding_text(r[2], r[1]) for r in rows]
    shas = [text_sha(text) for text in texts]
    vectors = kb.embedder.embed(texts, batch_size=kb.settings.embed_batch_size)
    with conn:
        kb.store.write_embeddings(conn, kb.model_name, dict(zip(shas, vectors)))
        conn.executemany("UPDATE chunks SET embed_sha = ? WHERE rowid = ?", [(sha, r[0]) for sha, r in zip(shas, rows)])
        kb.store.bump_generation(conn)
    return len(rows)
