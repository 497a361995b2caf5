"""The match set: which passages a query really matches, before any ranking.

A passage matches a query when it holds enough of the query's informative terms, or when its
meaning is close enough (`Calibration`, measured per model and backend by
`scripts/calibrate.py`). Without this every query "matched" the whole index: 绿电码头 reported
44 matches on a 44-chunk index and 足球比赛 returned ten confident hits.

**Informative terms** (`content_terms`): the query's words without stop words, question words
(哪一年, 多少, 什么样, 有没有, and the sub-words jieba finds inside them, 没有 of 有没有: they ask,
they do not describe) and time expressions (`timewords`: optional terms, never required). A run of single characters jieba could not place — a name it
does not know, 嘉钛 of 嘉钛新能源 cut as 嘉 / 钛 — becomes one phrase, matched as adjacent
characters, as Elasticsearch's CJK analyzers do with bigrams. In an English question the words
absent from the (Chinese) archive are dropped: its glossary expansion carries the meaning; in a
Chinese question the glossary's Chinese for an English word (吉瓦 for GW) is optional.

**Keyword share** (`keyword_share`): the IDF-weighted share of those terms a passage holds
(Elasticsearch's and Solr's minimum-should-match, weighted by IDF so that 光伏 or 组件 alone is
no match). A term no passage holds still counts in the denominator: a question about 土地租金
in an archive that never mentions 租金 matches nothing by keyword. A word of the question and the
sub-words jieba indexes with it (户用光伏: 户用 / 用光 / 光伏 / 户用光伏) are one concept, weighing as
its heaviest term, and a passage earns the part of it that its terms hold: counted apart, 会员单位
made three of the four terms of 协会会员单位会费, and a passage about member units that never says
会费 held most of the question.

**Semantic match**: cosine at or above `semantic_min`, or at least `semantic_gap` above the
query's own background (the mean cosine of its 10th–50th neighbours) and at least `gap_floor`,
so a passage that stands out from an archive of near-identical topics matches even when the
archive as a whole is close (the floor keeps a tiny index, whose background is most of it, from
letting a far-off passage "stand out").
In hybrid mode the keyword share is lifted by `semantic_bonus` × (cosine − `bonus_base`): a
passage sharing most of the words *and* close in meaning matches where either alone would not.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from .segment import QUERY_STOPWORDS, normalize, precise_spans, spans, terms as segment_terms
from .timewords import time_words

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"
CJK = re.compile(r"[\u4e00-\u9fff]")
QUESTION_WORD = re.compile(
    r"^(哪.*|几.*|多(少|长|大|久|高|远|重|宽|快|早|晚|深).*|第几.*|什么.*|怎么.*|怎样.*|为什么|为何|如何|"
    r"是否|有没有|是不是|能不能|可不可以|啥.*|时候|吗|呢)$"
)
BACKGROUND = slice(10, 50)
SPACE = re.compile(r"\s+")  # neighbours whose mean cosine is a query's background


def is_question_word(term: str) -> bool:
    return term in QUERY_STOPWORDS or bool(QUESTION_WORD.match(term))


@dataclass(frozen=True)
class Calibration:
    """Thresholds of one embedding model + backend, chosen on the dev sets (scripts/calibrate.py)."""

    keyword_share: float = 0.6  # IDF share of the informative terms a passage must hold
    semantic_min: float | None = None  # cosine that matches on its own; None: not calibrated
    semantic_gap: float | None = None  # cosine above the query's background that matches
    gap_floor: float = 0.70  # ... if the cosine itself reaches this (a tiny index's background is all of it)
    semantic_bonus: float = 1.0  # hybrid: keyword share + bonus x max(0, cosine - bonus_base)
    bonus_base: float = 0.70
    keyword_weight: float = 0.3  # fusion: weight x BM25/best + (1 - weight) x cosine
    phrase_weight: float = 0.05  # fusion: + weight x the share of the query's segments found verbatim
    share_weight: float = 0.0  # fusion: + weight x the keyword share (Lucene's coord: how much of the query it holds)

    @property
    def calibrated(self) -> bool:
        return self.semantic_min is not None

    def to_dict(self) -> dict:
        return asdict(self)


def load_calibration(vector_key: str, path: Path = CALIBRATION_FILE) -> Calibration:
    """The calibration stored for this vector key; an uncalibrated model keeps the keyword rule
    and lets every semantic hit through (as before there was a threshold), and says so."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get(vector_key)
    except (OSError, ValueError):
        stored = None
    if not stored:
        return Calibration()
    known = set(Calibration.__dataclass_fields__)
    return Calibration(**{k: v for k, v in stored.items() if k in known})


@dataclass(frozen=True)
class Term:
    text: str  # as indexed: a word, or a phrase of adjacent tokens joined by spaces
    phrase: bool = False
    concept: int = 0  # the word of the query it comes from (where it starts): a word and its sub-words are one


@lru_cache(maxsize=1024)
def content_terms(query: str) -> tuple[tuple[Term, ...], bool]:
    """The informative terms of a query, in order, each once, and whether the query is English.
    Kept per query text: search asks for them for the match set and again for highlighting."""
    times = {t for expression in time_words(query) for t in segment_terms(expression)}
    text = normalize(query)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    found: dict[str, Term] = {}
    run: list[tuple[str, int]] = []

    def close_run() -> None:
        if len(run) >= 2:
            phrase = " ".join(token for token, _ in run)
            found.setdefault(phrase, Term(phrase, phrase=True, concept=run[0][1]))
        run.clear()

    words = precise_spans(text)
    for token, start, _ in words:
        if len(token) == 1 and CJK.match(token) and not is_question_word(token) and token not in times:
            run.append((token, start))
        else:
            close_run()
    close_run()
    for term, start, end in spans(text):
        if is_question_word(term) or term in times or (len(term) == 1 and CJK.match(term)):
            continue
        word = next((w for w in words if w[1] <= start and end <= w[2]), (term, start, end))
        if is_question_word(word[0]):  # a sub-word of a question word (没有 of 有没有) asks too
            continue
        found.setdefault(term, Term(term, concept=word[1]))
    ordered = sorted(found.values(), key=lambda t: text.find(t.text.replace(" ", "")))
    return tuple(ordered), latin > len(CJK.findall(text))


def idf(chunks: int, frequency: int) -> float:
    """FTS5's bm25 IDF, log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, so the share agrees with
    the BM25 it is fused with (a term in half the archive weighs nothing)."""
    return max(math.log((chunks - frequency + 0.5) / (frequency + 0.5)), 1e-6)


class TermIndex(Protocol):
    """What the match set needs of the full-text store."""

    def document_frequencies(self, terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks, chunks holding each word)."""
        ...

    def postings(self, term: str) -> np.ndarray:
        """Ascending rowids of the chunks holding `term` (a word, or a phrase of space-joined tokens)."""
        ...


@dataclass
class KeywordMatch:
    weights: dict[str, float]  # informative term -> IDF (terms no passage holds included)
    share: dict[int, float]  # rowid -> IDF-weighted share of the terms it holds (rowids holding any)

    @property
    def informative(self) -> bool:
        return sum(self.weights.values()) > 0


def keyword_shares(index: TermIndex, query: str, allowed: np.ndarray | None, original: str | None = None) -> KeywordMatch:
    """The keyword share of every chunk holding at least one informative term (within `allowed`).

    `query` may be the glossary-expanded text of `original` (kb/glossary.expand_query: the Chinese
    for its English words). In an English question the expansion carries the meaning and counts
    like the rest; in a Chinese question its terms only stand in for the word they translate (吉瓦
    for the GW of 多少GW): they add to the share of a passage holding them (capped at 1) and never
    count against one that does not.
    Word frequencies come from the full-text vocabulary; a posting list is read only for a term
    that can move a share (光伏, in half the archive, weighs nothing: its 50k rowids are skipped)."""
    terms, english = content_terms(query)
    optional = set()
    if original is not None and original != query and not english:
        optional = {t.text for t in terms} - {t.text for t in content_terms(original)[0]}
    single = [t.text for t in terms if t.text.isalnum()]  # one token of the full-text index (not 34.2%)
    chunks, frequencies = index.document_frequencies(single)
    postings = {t.text: index.postings(t.text) for t in terms if t.text not in frequencies}
    frequency = {t.text: frequencies[t.text] if t.text in frequencies else len(postings[t.text]) for t in terms}
    weights = {text: idf(chunks, n) for text, n in frequency.items() if not (english and n == 0 and text.isascii())}
    concept = {t.text: t.concept for t in terms}
    required = {text: w for text, w in weights.items() if text not in optional}
    # a word and its sub-words (户用光伏: 户用 / 用光 / 光伏 / 户用光伏) are one concept, weighing as its
    # heaviest term; a passage earns the part of it its terms hold (their share of the concept's sum)
    heaviest: dict[int, float] = {}
    summed: dict[int, float] = {}
    for text, weight in required.items():
        heaviest[concept[text]] = max(heaviest.get(concept[text], 0.0), weight)
        summed[concept[text]] = summed.get(concept[text], 0.0) + weight
    total = sum(heaviest.values())
    rows, values = [], []
    for text, weight in weights.items():
        if total <= 0 or weight < total * 1e-3 or not frequency[text]:
            continue
        found = postings[text] if text in postings else index.postings(text)
        if allowed is not None:
            found = found[np.isin(found, allowed, assume_unique=True)]
        c = concept[text]
        credit = weight / total if text in optional else weight / summed[c] * heaviest[c] / total
        rows.append(found)
        values.append(np.full(len(found), credit))
    if not rows:
        return KeywordMatch(required, {})
    ids, inverse = np.unique(np.concatenate(rows), return_inverse=True)
    shares = np.minimum(np.bincount(inverse, weights=np.concatenate(values)), 1.0)
    return KeywordMatch(required, dict(zip(ids.tolist(), shares.tolist())))


SEGMENT_BREAK = re.compile(r"[\s,.?!:;'\"()\[\]，。？！、：；“”‘’（）《》【】]+")


def phrase_share(query: str, text: str) -> float:
    """The share of the query's segments (its space- or punctuation-separated parts of two
    characters or more) that the passage holds verbatim: Elasticsearch's match_phrase boost. For
    绿电码头 it puts the passage saying 绿电码头 above its sibling that only shares the title."""
    segments = _segments(query)
    if not segments:
        return 0.0
    body = SPACE.sub("", normalize(text))
    return sum(1 for s in segments if s in body) / len(segments)


@lru_cache(maxsize=256)
def _segments(query: str) -> tuple[str, ...]:
    """A query's segments, cut once for the hundreds of passages it is compared with."""
    return tuple(s for s in SEGMENT_BREAK.split(normalize(query)) if len(s) >= 2)


def background(similarities: Iterable[float]) -> float | None:
    """Mean cosine of a query's 10th–50th neighbours (None with fewer than 11)."""
    values = list(similarities)[BACKGROUND]
    return float(np.mean(values)) if values else None


def semantic_match(cosine, base: float | None, calibration: Calibration, minimum: float | None = None):
    """Close enough in meaning (a cosine or an array of them). `minimum` (a request's
    min_similarity) replaces both calibrated rules, for exploration; an uncalibrated model
    matches every semantic hit."""
    cosine = np.asarray(cosine, dtype=np.float64)
    if minimum is not None:
        return cosine >= minimum
    if not calibration.calibrated:
        return np.ones_like(cosine, dtype=bool)
    hit = cosine >= calibration.semantic_min
    if base is not None and calibration.semantic_gap is not None:
        hit = hit | ((cosine - base >= calibration.semantic_gap) & (cosine >= calibration.gap_floor))
    return hit


def keyword_match(share, cosine, calibration: Calibration, hybrid: bool):
    """Holds enough of the query (a share or an array of them); in hybrid mode closeness in
    meaning lifts the share."""
    if not hybrid or cosine is None:
        if isinstance(share, float):  # one passage: the rest of a match set asks tens of thousands of times
            return share >= calibration.keyword_share
        return np.asarray(share, dtype=np.float64) >= calibration.keyword_share
    share = np.asarray(share, dtype=np.float64)
    lift = calibration.semantic_bonus * np.maximum(0.0, np.asarray(cosine, dtype=np.float64) - calibration.bonus_base)
    return share + lift >= calibration.keyword_share
