"""Near-duplicates: one story reprinted in several issues is one search hit.

Two articles whose MinHash signatures (kb/minhash.py) agree on at least DUPLICATE_SHARE of their
hashes (an estimate of the Jaccard similarity of their 5-gram sets) are the same story; search
folds a reprint's hits into the best-ranked hit of the story instead of listing them again.
Weekly reports of the same shape with new numbers stay apart: every changed number changes 5 grams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .store.rows import article_dict, issue_dict

if TYPE_CHECKING:
    from .store import Store

STORY_BLOCK = 128  # signatures compared against all earlier ones at a time
DUPLICATE_SHARE = 0.7


def story_of(store: Store, article_ids: list[str]) -> dict[str, str]:
    """article id -> the first article (in the given order) telling the same story.

    Every pair of signatures is compared, in blocks of rows so memory stays small: a few numpy
    operations per block instead of one per candidate pair (a story reprinted in 100 issues made
    per-pair comparison most of a query's time)."""
    order = list(dict.fromkeys(article_ids))
    signatures = store.signatures(order)
    story = {article: article for article in order}
    signed = [article for article in order if article in signatures]
    if len(signed) < 2:
        return story
    # a verbatim reprint has its original's very signature: compare each distinct signature once
    # (a story reprinted in 70 issues is one row, not 70) and give its copies the first one's story
    matrix, first, which = np.unique(np.vstack([signatures[article] for article in signed]), axis=0,
                                     return_index=True, return_inverse=True)
    by_appearance = np.argsort(first)
    matrix, leaders = matrix[by_appearance], [signed[i] for i in first[by_appearance]]
    for start in range(0, len(leaders), STORY_BLOCK):
        stop = min(start + STORY_BLOCK, len(leaders))
        agree = (matrix[start:stop, None, :] == matrix[None, :stop, :]).mean(axis=2) >= DUPLICATE_SHARE
        for row, i in enumerate(range(start, stop)):
            earlier = np.flatnonzero(agree[row, :i])
            if len(earlier):
                story[leaders[i]] = story[leaders[earlier[0]]]
    rank_of = np.empty(len(first), dtype=np.int64)
    rank_of[by_appearance] = np.arange(len(first))
    for article, group in zip(signed, np.asarray(which).reshape(-1)):
        story[article] = story[leaders[rank_of[group]]]
    return story


def group_duplicates(store: Store, ranked: list[tuple[int, float]]) -> tuple[list[tuple[int, float]], dict[int, list[int]]]:
    """Ranked hits with each reprint's hits folded into the best hit of its story.

    Returns the remaining (rowid, score) list and, for a hit that took others in, their rowids.
    Hits of the same article are never folded; one index holding one issue is left as it is.
    """
    if len(ranked) < 2:
        return ranked, {}
    rowids = [rowid for rowid, _ in ranked]
    placed = store.chunk_places(rowids)
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
