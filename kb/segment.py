"""Chinese word segmentation: the one function both indexing and querying go through.

jieba `cut_for_search` (which also emits the sub-words of long words) with a photovoltaic user
dictionary shipped in `kb/data/pv_dict.txt`. Documents and queries are segmented by the same
`terms()` so the index and the query can never drift apart.
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

USER_DICT = Path(__file__).parent / "data" / "pv_dict.txt"

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
    tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def normalize(text: str) -> str:
    """NFKC (full-width letters/digits/punctuation to half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def terms(text: str) -> list[str]:
    """Segment text into index terms: normalised, punctuation and whitespace dropped."""
    tokenizer = _tokenizer()
    return [t.strip() for t in tokenizer.cut_for_search(normalize(text)) if _is_word(t)]


def precise_tokens(text: str) -> list[str]:
    """jieba's precise cut (no sub-words), for finding runs of characters it could not place."""
    return [t for t in _tokenizer().cut(normalize(text)) if t.strip()]


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
