"""The vector index: exact below the ANN threshold, IVF above it with high recall, filtered search
exact over small subsets, and incremental updates that equal a rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from kb.vector_index import VectorIndex

DIM = 64


def clustered(count: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 centres: the shape of real embeddings (topics), unlike uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, DIM))
    vectors = centres[rng.integers(0, 50, count)] + 0.5 * rng.standard_normal((count, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    vectors = clustered(6000)
    ids = np.arange(10, 10 + 3 * len(vectors), 3, dtype=np.int64)  # rowids with gaps, as after deletes
    queries = clustered(40, seed=1)
    return ids, vectors, queries


def exact(ids, vectors, query, k, allowed=None):
    keep = np.ones(len(ids), bool) if allowed is None else np.isin(ids, allowed)
    scores = vectors[keep] @ query
    order = np.argsort(-scores)[:k]
    return [int(i) for i in ids[keep][order]]


def top_ids(index: VectorIndex, query, k, allowed=None) -> list[int]:
    return [rowid for rowid, _ in index.search(query, k, allowed)]


def test_small_indexes_are_exact_and_large_ones_ivf(data):
    ids, vectors, _ = data
    assert VectorIndex.build(ids[:500], vectors[:500], DIM, 1, "m", ann_threshold=3000).kind == "flat"
    assert VectorIndex.build(ids, vectors, DIM, 1, "m", ann_threshold=3000).kind == "ivf"


def test_ivf_recall_at_10_against_exact_search(data):
    ids, vectors, queries = data
    index = VectorIndex.build(ids, vectors, DIM, 1, "m", ann_threshold=3000, nprobe=16)
    recall = np.mean([len(set(top_ids(index, q, 10)) & set(exact(ids, vectors, q, 10))) / 10 for q in queries])
    assert recall >= 0.95


@pytest.mark.parametrize("share", [0.02, 0.5])  # a subset searched exactly; a broad filter through IVF
def test_filtered_search_returns_only_allowed_rowids_best_first(data, share, monkeypatch):
    ids, vectors, queries = data
    index = VectorIndex.build(ids, vectors, DIM, 1, "m", ann_threshold=3000, nprobe=16)
    rng = np.random.default_rng(2)
    allowed = np.sort(rng.choice(ids, int(len(ids) * share), replace=False))
    if share > 0.1:
        monkeypatch.setattr("kb.vector_index.EXACT_SUBSET", 100)  # force the IVF path with a selector
    for query in queries[:10]:
        hits = index.search(query, 10, allowed)
        assert len(hits) == 10 and set(r for r, _ in hits) <= set(allowed.tolist())
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        overlap = len({r for r, _ in hits} & set(exact(ids, vectors, query, 10, allowed)))
        assert overlap >= (10 if share < 0.1 else 8)


@pytest.mark.parametrize("threshold", [100_000, 3000])  # flat and IVF
def test_an_incremental_update_holds_the_same_vectors_as_a_rebuild(data, threshold):
    ids, vectors, queries = data
    old = VectorIndex.build(ids[:5000], vectors[:5000], DIM, 1, "m", ann_threshold=threshold)
    live = np.concatenate([ids[100:5000], ids[5000:5400]])  # 100 deleted, 400 added

    def fetch(rowids):
        positions = np.searchsorted(ids, rowids)
        return rowids, vectors[positions]

    updated = old.updated(live, fetch, 2, threshold)
    assert updated is not None and updated.generation == 2 and updated.kind == old.kind
    assert np.array_equal(np.sort(updated.ids()), np.sort(live))
    assert old.size == 5000  # the old generation's index is untouched: readers may still use it
    rebuilt = VectorIndex.build(np.sort(live), fetch(np.sort(live))[1], DIM, 2, "m", ann_threshold=threshold)
    same = np.mean([top_ids(updated, q, 10) == top_ids(rebuilt, q, 10) for q in queries])
    assert same >= (1.0 if threshold > len(ids) else 0.8)


def test_a_large_change_asks_for_a_rebuild(data):
    ids, vectors, _ = data
    old = VectorIndex.build(ids[:1000], vectors[:1000], DIM, 1, "m")
    assert old.updated(ids[600:1400], lambda r: (r, vectors[:len(r)]), 2, 100_000) is None


def test_a_saved_index_loads_with_its_kind_ids_and_generation(data, tmp_path):
    ids, vectors, queries = data
    index = VectorIndex.build(ids, vectors, DIM, 7, "m", ann_threshold=3000)
    index.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded is not None and loaded.kind == "ivf" and loaded.generation == 7
    assert np.array_equal(np.sort(loaded.ids()), ids)
    assert top_ids(loaded, queries[0], 10) == top_ids(index, queries[0], 10)
