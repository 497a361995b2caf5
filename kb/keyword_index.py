"""`KeywordIndex`: FTS5's bm25 ranking of one store generation, without asking FTS5 to score every match.

FTS5 scores every chunk holding any query term (~2 us each: 30-60 ms at 100k chunks for an
ordinary query). Here a generation's term statistics, kept per chunk beside FTS5 and written in
the issue's own transaction (kb/store/keyword_stats.py), are concatenated into term -> chunk
postings once per generation (2.9-4.8 s at 100k chunks on 2 busy cores: a read, a join and one
sort, no text tokenised again), and a query's scores are computed from them with FTS5's own formula
(fts5_aux.c), in its order of operations so the values are FTS5's to the last bit:

    bm25 = -sum over query terms t of idf(t) * (f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl))

with f = 0.5 * count in the title + 1.0 * count in the body (`BM25_WEIGHTS`), D the chunk's
tokens, avgdl the mean over the generation, idf = log((N - n + 0.5) / (n + 0.5)) floored at
1e-6, k1 1.2 and b 0.75. Filters are the generation's masks (kb/filters.py over kb/columns.py);
ties are broken by rowid. The same postings answer the match set's document frequencies and
posting lists (kb/matching.py's TermIndex). A query term FTS5 would read as a phrase of several
tokens (34.2%), or statistics that do not cover the generation's chunks (an index mid-repair),
leave the query to FTS5, which stays the full-text store (phrases, highlighting, `kb check`).
At 100k chunks of the recombined corpus: 1.5-1.9 ms p50 against FTS5's 24-84 ms, with and without
filters, 0 of 160 result lists different, largest score difference 0.0 (scripts/bench_keyword.py).
"""

from __future__ import annotations

import math

import numpy as np

from .columns import ChunkColumns
from .filters import Filters
from .store import BM25_WEIGHTS, Store
from .store.tokens import fts_tokens

K1, B = 1.2, 0.75


class KeywordIndex:
    """Postings of one generation: per term id, ascending chunk positions and weighted counts."""

    def __init__(self, store: Store, columns: ChunkColumns, vocabulary: dict[str, int]):
        self.store, self.columns, self.vocabulary = store, columns, vocabulary
        rowids, counts, cells = store.keyword_cells()
        self.complete = np.array_equal(rowids, columns.rowids)  # else FTS5 answers everything
        documents = np.repeat(np.arange(len(rowids), dtype=np.int32), counts)
        title, body = cells["title"].astype(np.float64), cells["body"].astype(np.float64)
        self.lengths = np.bincount(documents, weights=title + body, minlength=len(rowids))
        self.average = float(self.lengths.sum()) / len(rowids) if len(rowids) else 1.0
        order = np.argsort(cells["term"], kind="stable")  # by term, each term's chunks ascending
        self.docs = documents[order]
        # half-integers well below 2**24: float32 holds them exactly, in half the memory
        self.frequency = (title * BM25_WEIGHTS[0] + body * BM25_WEIGHTS[1]).astype(np.float32)[order]
        size = max(vocabulary.values(), default=0) + 1
        self.starts = np.concatenate([[0], np.cumsum(np.bincount(cells["term"], minlength=size))])

    @classmethod
    def build(cls, store: Store, columns: ChunkColumns, known: dict[str, int] | None = None) -> "KeywordIndex":
        """From the stored statistics (call inside the snapshot being served); `known` term ids (an
        earlier generation's vocabulary) are extended, not read again (term ids are never reused)."""
        vocabulary = dict(known) if known is not None else {}
        last = max(vocabulary.values(), default=0)
        vocabulary.update((term, term_id) for term_id, term in store.terms_after(last))
        return cls(store, columns, vocabulary)

    # ---- the keyword ranker ----------------------------------------------------------------

    def search(self, terms: list[str], filters: Filters, limit: int) -> tuple[list[tuple[int, float]], int]:
        """(rowid, bm25) best first and the size of the match set, as `Store.keyword_search` gives
        for `MATCH "t1" OR "t2" …` (bm25 negative, lower is better)."""
        tokens = self.tokens(terms)
        if tokens is None:
            from .segment import match_expression

            match = match_expression(terms)
            return self.store.keyword_search(match, filters, limit) if match else ([], 0)
        totals, held = self._scores(tokens)
        if totals is None:
            return [], 0
        chunks = len(self.columns.rowids)
        allowed = filters.mask(self.columns)
        if allowed is not None:
            keep = np.zeros(chunks, dtype=bool)
            keep[self.columns.positions(allowed)] = True
            held &= keep
        matched = np.flatnonzero(held)
        top = matched
        if len(matched) > limit:  # the limit-th best score, and every chunk at least as good (ties kept)
            cut = np.partition(-totals[matched], limit - 1)[limit - 1]
            top = matched[-totals[matched] <= cut]
        top = top[np.lexsort((top, -totals[top]))][:limit]  # best first; ties by rowid (positions are rowid-ordered)
        rowids = self.columns.rowids
        return [(int(rowids[i]), -float(totals[i])) for i in top], len(matched)

    def scores(self, terms: list[str], rowids: list[int]) -> dict[int, float]:
        """rowid -> bm25 as a positive score, for those of the given chunks (retrieved by another
        engine: Milvus) that hold a term, exactly as `search` would score them; a phrase term asks FTS5."""
        tokens = self.tokens(terms)
        if tokens is None:
            from .segment import match_expression

            match = match_expression(terms)
            return {r: -bm25 for r, bm25 in self.store.keyword_scores(match, rowids).items()} if match else {}
        totals, held = self._scores(tokens)
        if totals is None or not rowids:
            return {}
        asked = np.asarray(rowids, dtype=np.int64)
        asked = asked[self.columns.contains(asked)]
        at = self.columns.positions(asked)
        return {int(r): float(totals[i]) for r, i in zip(asked, at) if held[i]}

    def _scores(self, tokens: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per chunk position: the positive bm25 of the OR of `tokens`, and whether it holds one;
        (None, None) when none of them occurs."""
        chunks = len(self.columns.rowids)
        docs, scores = [], []
        for token in tokens:  # in the query's order: FTS5 adds the terms' parts in that order
            postings = self._postings(token)
            n = postings.stop - postings.start
            if not n:
                continue
            idf = math.log((chunks - n + 0.5) / (n + 0.5))  # libm's log, as FTS5's
            idf = idf if idf > 0.0 else 1e-6
            f = self.frequency[postings].astype(np.float64)
            d = self.lengths[self.docs[postings]]
            docs.append(self.docs[postings])
            scores.append(idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * d / self.average))))
        if not docs:
            return None, None
        every = np.concatenate(docs)
        return (np.bincount(every, weights=np.concatenate(scores), minlength=chunks),
                np.bincount(every, minlength=chunks) > 0)

    def tokens(self, terms: list[str]) -> list[str] | None:
        """Each term's one FTS5 token, or None when a term is several (a phrase) or the
        statistics cannot answer."""
        if not self.complete:
            return None
        tokens = [fts_tokens(term) for term in terms]
        return [t[0] for t in tokens] if all(len(t) == 1 for t in tokens) else None

    def _postings(self, token: str) -> slice:
        term_id = self.vocabulary.get(token)
        if term_id is None or term_id + 1 >= len(self.starts):
            return slice(0, 0)
        return slice(int(self.starts[term_id]), int(self.starts[term_id + 1]))

    # ---- the match set's term index (kb/matching.py TermIndex) -----------------------------

    def document_frequencies(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks, chunks holding each word): the store's answer, from the postings."""
        if not self.complete:
            return self.store.document_frequencies(terms)
        return len(self.columns.rowids), {t: self._postings(t).stop - self._postings(t).start for t in terms}

    def postings(self, term: str) -> np.ndarray:
        """Ascending rowids of the chunks holding `term`; a phrase of several tokens asks FTS5."""
        tokens = fts_tokens(term)
        if not self.complete or len(tokens) != 1:
            return self.store.postings(term)
        return self.columns.rowids[self.docs[self._postings(tokens[0])]]
