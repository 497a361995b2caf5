"""Chinese word segmentation: the one function both indexing and querying go through.

jieba `cut_for_search` (which also emits the sub-words of long words) with a photovoltaic user
dictionary shipped in `kb/data/pv_dict.txt`. Documents and queries are segmented by the same
`terms()` so the index and the query can never drift apart.

Text is normalised (NFKC, lower case) before it is cut, so the dictionary is loaded normalised
too: an entry spelled `GW` would otherwise never meet the `gw` of a text. A token that glues
digits to letters (`46gw` where jieba has no word to split at, `182mm`, `m10`) also yields its
digit and letter runs before itself, as Elasticsearch's word-delimiter filter does, so a
question asking 多少GW holds a term of the passage that says 约46GW.

An index stores text segmented this way; `FINGERPRINT` names the segmenter (this module's rules
and the dictionary), and an index segmented by another one is re-segmented when it is opened
(kb/store/database.py).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

USER_DICT = Path(__file__).parent / "data" / "pv_dict.txt"
RULES = "2"  # bump when terms() changes what it makes of a text (1: jieba search mode; 2: normalised
# dictionary, digit/letter runs of glued tokens)
_DICTIONARY = USER_DICT.read_text(encoding="utf-8")  # read once: the fingerprint and the tokenizer both need it
FINGERPRINT = hashlib.sha256((RULES + "\n" + _DICTIONARY).encode()).hexdigest()[:16]
GLUED = re.compile(r"^(?=[a-z]*[0-9])(?=[0-9]*[a-z])[a-z0-9]+$")  # letters and digits, both
RUNS = re.compile(r"[a-z]+|[0-9]+")

# Words that carry no meaning in a query (question words, particles, English fillers).
QUERY_STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 有 对 将 把 被 为 等 中 吗 呢 吧 啊 么 "
    "怎么 怎样 如何 哪些 哪个 哪里 什么 多少 是否 能否 可以 还 还能 一下 关于 "
    "the a an of for and or to in on at by with is are what which how per".split()
)


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(io.StringIO(normalize(_DICTIONARY)))
    return tokenizer


def normalize(text: str) -> str:
    """NFKC (full-width letters/digits/punctuation to half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def spans(text: str) -> list[tuple[str, int, int]]:
    """The index terms of a text with where they lie in its normalised form (start, end): jieba's
    search mode (a long word's sub-words, then the word), the runs of a glued token before it,
    punctuation and whitespace dropped."""
    found = []
    for token, start, end in _tokenizer().tokenize(normalize(text), mode="search"):
        if not _is_word(token):
            continue
        if GLUED.match(token):
            found.extend((m.group(), start + m.start(), start + m.end()) for m in RUNS.finditer(token))
        found.append((token, start, end))
    return found


def terms(text: str) -> list[str]:
    """Segment text into index terms: normalised, punctuation and whitespace dropped."""
    return [token for token, _, _ in spans(text)]


def precise_spans(text: str) -> list[tuple[str, int, int]]:
    """jieba's precise cut (no sub-words) with each word's place in the normalised text."""
    return [(t, start, end) for t, start, end in _tokenizer().tokenize(normalize(text)) if t.strip()]


def precise_tokens(text: str) -> list[str]:
    """jieba's precise cut (no sub-words), for finding runs of characters it could not place."""
    return [t for t, _, _ in precise_spans(text)]


def document_text(text: str) -> str:
    """The segmented form stored in the FTS5 table (terms joined by spaces)."""
    return " ".join(terms(text))


def query_terms(text: str) -> list[str]:
    """Distinct meaningful terms of a query, in order."""
    seen: dict[str, None] = {}
    for term in terms(text):
        if term not in QUERY_STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


def fts_quote(term: str) -> str:
    """Quote one term as an FTS5 string so no user text is ever FTS5 syntax."""
    return '"' + term.replace('"', '""') + '"'


def match_expression(query_term_list: list[str]) -> str | None:
    """An FTS5 MATCH expression: any of the quoted terms (BM25 ranks docs with more of them)."""
    quoted = [fts_quote(t) for t in query_term_list if t]
    return " OR ".join(quoted) if quoted else None
