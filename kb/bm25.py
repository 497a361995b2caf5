"""FTS5's `bm25()` for chunks another engine retrieved: the scores the fusion was calibrated on.

With the milvus backend Milvus picks the keyword leg's top chunks by its own BM25, which differs
from FTS5's in ways the fusion feels: Lucene's IDF, log(1 + (N - n + 0.5) / (n + 0.5)), where
FTS5 takes log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, and one text field where FTS5 weighs the
article title at half the body (`BM25_WEIGHTS`). Fused on Milvus's values, the archive dev set
lost 0.016 MRR@10 in hybrid mode. So the retrieved chunks are scored again here as FTS5 scores
them (sqlite's fts5_aux.c):

    score(d) = sum over query phrases p: idf(p) * f(p, d) * (k1 + 1) / (f(p, d) + k1 * (1 - b + b * |d| / avgdl))

with f the column-weighted count of p in d, |d| the tokens of all of d's columns, avgdl the table's
tokens / rows, k1 1.2, b 0.75, from the segmented text and the statistics SQLite already holds.
Milvus does the part that grows with the archive (finding the best few hundred of millions),
this the part that does not (scoring those few hundred). A query term that FTS5's unicode61
tokenizer splits (4.2 -> 4, 2) is a phrase: counted where its tokens stand side by side.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Protocol

from .store import BM25_WEIGHTS

K1, B = 1.2, 0.75
TOKEN = re.compile(r"[^\W_]+")  # unicode61: runs of letters and digits; everything else separates


class Statistics(Protocol):
    """What scoring reads of the store (kb/store/reads.py)."""

    def token_total(self) -> tuple[int, int]: ...

    def document_frequencies(self, terms: list[str]) -> tuple[int, dict[str, int]]: ...

    def postings(self, term: str): ...

    def segmented(self, rowids: list[int]) -> dict[int, tuple[str, str]]: ...


def tokens(text: str) -> list[str]:
    """Text as FTS5's unicode61 tokenizer cuts it (the stored text is already lower-cased and
    space-joined, so most pieces are whole tokens: twice as fast as one regex over the text)."""
    words: list[str] = []
    for piece in text.split():
        if piece.isalnum():
            words.append(piece)
        else:
            words.extend(TOKEN.findall(piece))
    return words


def _count(phrase: list[str], words: list[str], counts: Counter) -> int:
    if len(phrase) == 1:
        return counts[phrase[0]]
    n = len(phrase)
    return sum(1 for i in range(len(words) - n + 1) if words[i : i + n] == phrase) if counts[phrase[0]] else 0


def scores(store: Statistics, terms: list[str], rowids: list[int]) -> dict[int, float]:
    """rowid -> FTS5's bm25 of the chunk for the OR of `terms`, as a positive score (higher is better)."""
    phrases = {term: tokens(term) for term in terms}
    phrases = {term: phrase for term, phrase in phrases.items() if phrase}
    if not phrases or not rowids:
        return {}
    rows, total = store.token_total()
    _, frequencies = store.document_frequencies([p[0] for p in phrases.values() if len(p) == 1])  # 50% -> 50
    idf = {}
    for term, phrase in phrases.items():
        hits = frequencies[phrase[0]] if len(phrase) == 1 else len(store.postings(term))
        idf[term] = max(math.log((rows - hits + 0.5) / (hits + 0.5)), 1e-6)
    average = total / rows if rows else 1.0
    title_weight, body_weight = BM25_WEIGHTS
    result = {}
    for rowid, (title, body) in store.segmented(rowids).items():
        title_words, body_words = tokens(title), tokens(body)
        title_counts, body_counts = Counter(title_words), Counter(body_words)
        norm = K1 * (1 - B + B * (len(title_words) + len(body_words)) / average)
        score = 0.0
        for term, phrase in phrases.items():
            weighted = (title_weight * _count(phrase, title_words, title_counts)
                        + body_weight * _count(phrase, body_words, body_counts))
            if weighted:
                score += idf[term] * weighted * (K1 + 1) / (weighted + norm)
        result[rowid] = score
    return result
