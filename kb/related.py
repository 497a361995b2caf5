"""Across issues: related articles by vector similarity, and one story reprinted in several issues.

Related articles: an article's vector is the normalised mean of its chunks' stored embeddings;
its nearest articles from other issues are the related ones. The article matrix is built from
SQLite once per store generation and model.

Near-duplicates: each article body gets a MinHash signature of its character 5-grams when it is
written. Two articles whose signatures agree on at least DUPLICATE_SHARE of their hashes (an
estimate of the Jaccard similarity of their 5-gram sets) are the same story; search folds a
reprint's hits into the best-ranked hit of the story instead of listing them again. Weekly
reports of the same shape with new numbers stay apart: every changed number changes 5 grams.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from typing import TYPE_CHECKING

import numpy as np

from .models import Issue
from .segment import normalize
from .structured import article_dict, issue_dict

if TYPE_CHECKING:
    from .store import Store

SHINGLE = 5
HASHES = 128
STORY_BLOCK = 128  # signatures compared against all earlier ones at a time
MIN_CHARS = 80  # shorter bodies (a title and a table) get no signature
DUPLICATE_SHARE = 0.7
_PRIME = np.uint64(4_294_967_311)  # > 2**32; a * x + b stays below 2**64 for a, b < 2**31
_rng = np.random.default_rng(20250623)  # fixed: signatures are stored and compared across runs
_A = _rng.integers(1, 2**31, HASHES, dtype=np.uint64)
_B = _rng.integers(0, 2**31, HASHES, dtype=np.uint64)


# ---- near-duplicates --------------------------------------------------------------------


def signature(text: str) -> np.ndarray | None:
    """MinHash of the text's character 5-grams (letters and digits only), or None when short."""
    chars = "".join(ch for ch in normalize(text) if ch.isalnum())
    if len(chars) < MIN_CHARS:
        return None
    shingles = {chars[i : i + SHINGLE] for i in range(len(chars) - SHINGLE + 1)}
    x = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=np.uint64, count=len(shingles))
    return ((_A[:, None] * x[None, :] + _B[:, None]) % _PRIME).min(axis=1).astype(np.uint32)


def write_signatures(conn: sqlite3.Connection, issue: Issue) -> None:
    """Store each article's signature (inside Store.replace_issue's transaction)."""
    rows = [(article.id, sig.tobytes()) for article in issue.articles if (sig := signature(article.text)) is not None]
    conn.executemany("INSERT INTO article_signatures (article_id, minhash) VALUES (?, ?)", rows)


def _signatures(store: Store, article_ids: list[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(article_ids), 900):
        batch = article_ids[start : start + 900]
        marks = ",".join("?" * len(batch))
        for row in store.connection().execute(
            f"SELECT article_id, minhash FROM article_signatures WHERE article_id IN ({marks})", batch
        ):
            found[row[0]] = np.frombuffer(row[1], dtype=np.uint32)
    return found


def story_of(store: Store, article_ids: list[str]) -> dict[str, str]:
    """article id -> the first article (in the given order) telling the same story.

    Every pair of signatures is compared, in blocks of rows so memory stays small: a few numpy
    operations per block instead of one per candidate pair (a story reprinted in 100 issues made
    per-pair comparison most of a query's time)."""
    order = list(dict.fromkeys(article_ids))
    signatures = _signatures(store, order)
    story = {article: article for article in order}
    signed = [article for article in order if article in signatures]
    if len(signed) < 2:
        return story
    matrix = np.vstack([signatures[article] for article in signed])
    for start in range(0, len(signed), STORY_BLOCK):
        stop = min(start + STORY_BLOCK, len(signed))
        agree = (matrix[start:stop, None, :] == matrix[None, :stop, :]).mean(axis=2) >= DUPLICATE_SHARE
        for row, i in enumerate(range(start, stop)):
            earlier = np.flatnonzero(agree[row, :i])
            if len(earlier):
                story[signed[i]] = story[signed[earlier[0]]]
    return story


def group_duplicates(store: Store, ranked: list[tuple[int, float]]) -> tuple[list[tuple[int, float]], dict[int, list[int]]]:
    """Ranked hits with each reprint's hits folded into the best hit of its story.

    Returns the remaining (rowid, score) list and, for a hit that took others in, their rowids.
    Hits of the same article are never folded; one index holding one issue is left as it is.
    """
    if len(ranked) < 2:
        return ranked, {}
    rowids = [rowid for rowid, _ in ranked]
    placed: dict[int, tuple[str, str]] = {}
    for start in range(0, len(rowids), 900):
        batch = rowids[start : start + 900]
        marks = ",".join("?" * len(batch))
        for row in store.connection().execute(
            f"SELECT rowid, article_id, issue_id FROM chunks WHERE rowid IN ({marks})", batch
        ):
            placed[row[0]] = (row[1], row[2])
    if len({issue for _, issue in placed.values()}) < 2:
        return ranked, {}
    story = story_of(store, [placed[rowid][0] for rowid in rowids if rowid in placed])
    kept: list[tuple[int, float]] = []
    folded: dict[int, list[int]] = {}
    first_hit: dict[str, tuple[int, str]] = {}  # story -> (rowid, article) of its best hit
    for rowid, score in ranked:
        article = placed.get(rowid, ("", ""))[0]
        lead = first_hit.setdefault(story.get(article, article), (rowid, article))
        if lead[1] != article:
            folded.setdefault(lead[0], []).append(rowid)
        else:
            kept.append((rowid, score))
    return kept, folded


def duplicate_refs(store: Store, rowids: list[int] | None) -> dict:
    """{'duplicates': [{id, issue, article}, …]} for the hits folded into one, or {} when none."""
    if not rowids:
        return {}
    rows = store.hit_rows(rowids)
    return {"duplicates": [
        {"id": rows[r]["chunk_id"], "issue": issue_dict(rows[r]), "article": article_dict(rows[r])}
        for r in rowids if r in rows
    ]}


# ---- related articles -------------------------------------------------------------------

_matrices: dict[str, tuple[int, str, list[str], np.ndarray, np.ndarray]] = {}
_matrices_lock = threading.Lock()


def _article_matrix(store: Store, model: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(article ids, their issue ids, normalised mean chunk vectors), for this generation."""
    key, generation = str(store.path), store.generation
    with _matrices_lock:
        cached = _matrices.get(key)
        if cached and cached[0] == generation and cached[1] == model:
            return cached[2], cached[3], cached[4]
    rows = store.connection().execute(
        "SELECT c.article_id, c.issue_id, e.vector FROM chunks c"
        " JOIN embeddings e ON e.model = ? AND e.sha = c.embed_sha ORDER BY c.article_id",
        (model,),
    ).fetchall()
    ids = list(dict.fromkeys(r[0] for r in rows))
    if not rows:
        return [], np.zeros(0, dtype=object), np.zeros((0, 0), dtype=np.float32)
    index = {article: i for i, article in enumerate(ids)}
    vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
    sums = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, [index[r[0]] for r in rows], vectors)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    issues = np.array([None] * len(ids), dtype=object)
    for r in rows:
        issues[index[r[0]]] = r[1]
    with _matrices_lock:
        _matrices[key] = (generation, model, ids, issues, sums)
    return ids, issues, sums


def related_articles(store: Store, model: str, article_id: str, k: int = 5) -> list[dict] | None:
    """The k articles from other issues nearest to `article_id`; None when there is no such article."""
    conn = store.connection()
    if conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is None:
        return None
    ids, issues, matrix = _article_matrix(store, model)
    if article_id not in ids:
        return []
    at = ids.index(article_id)
    scores = matrix @ matrix[at]
    scores[issues == issues[at]] = -np.inf
    order = [i for i in np.argsort(-scores)[:k] if np.isfinite(scores[i])]
    if not order:
        return []
    chosen = [ids[i] for i in order]
    marks = ",".join("?" * len(chosen))
    rows = {r["article_id"]: r for r in conn.execute(
        "SELECT a.id AS article_id, a.title AS article_title, a.section, a.source, a.page,"
        " i.id AS issue_id, i.title AS issue_title, i.date_start, i.date_end, i.file"
        f" FROM articles a JOIN issues i ON i.id = a.issue_id WHERE a.id IN ({marks})", chosen)}
    return [
        {"score": round(float(scores[i]), 6), "article": article_dict(rows[ids[i]]), "issue": issue_dict(rows[ids[i]])}
        for i in order if ids[i] in rows
    ]
