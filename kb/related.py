"""Related articles: an article's nearest articles from other issues, by vector similarity.

An article's vector is the normalised mean of its chunks' stored embeddings; its nearest
articles from other issues are the related ones. The article matrix is built from the store
once per store generation and model.
"""

from __future__ import annotations

import threading

import numpy as np

from .store import Store
from .store.rows import article_dict, issue_dict


_matrices: dict[str, tuple[int, str, list[str], np.ndarray, np.ndarray]] = {}
_matrices_lock = threading.Lock()


def _article_matrix(store: Store, model: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(article ids, their issue ids, normalised mean chunk vectors), for this generation."""
    key, generation = str(store.path), store.generation
    with _matrices_lock:
        cached = _matrices.get(key)
        if cached and cached[0] == generation and cached[1] == model:
            return cached[2], cached[3], cached[4]
    rows = store.article_vectors(model)
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
    if not store.has_article(article_id):
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
    rows = store.article_rows(chosen)
    return [
        {"score": round(float(scores[i]), 6), "article": article_dict(rows[ids[i]]), "issue": issue_dict(rows[ids[i]])}
        for i in order if ids[i] in rows
    ]
