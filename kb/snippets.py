"""Highlighted snippets: the window of a chunk with the most query terms, HTML-escaped, terms in <mark>.

Matching is done on the NFKC/lower-cased text (so ＴＯＰＣｏｎ matches topcon) and mapped back
to the original characters, so the snippet shows the text exactly as published.
"""

from __future__ import annotations

import unicodedata
from html import escape

SNIPPET_CHARS = 120


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC-lowered text and, for each of its characters, the index of the original character."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch).lower():
            chars.append(out)
            origin.append(index)
    return "".join(chars), origin


def match_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of the terms in `text`, longest terms first."""
    normalized, origin = _normalized_with_map(text)
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for term in sorted({unicodedata.normalize("NFKC", t).lower() for t in terms if t.strip()}, key=len, reverse=True):
        position = normalized.find(term)
        while position != -1:
            start, end = origin[position], origin[position + len(term) - 1] + 1
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            position = normalized.find(term, position + len(term))
    return sorted(spans)


def _best_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    if len(text) <= width or not spans:
        return 0, min(len(text), width)
    best_start, best_score = 0, -1
    for start, _ in spans:
        window_start = max(0, start - width // 4)
        covered = {text[s:e] for s, e in spans if s >= window_start and e <= window_start + width}
        score = len(covered) * 1000 + sum(len(t) for t in covered)
        if score > best_score:
            best_start, best_score = window_start, score
    best_start = min(best_start, len(text) - width)
    return best_start, best_start + width


def highlight(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """HTML: the best window of `text`, escaped, each term occurrence wrapped in <mark>."""
    spans = match_spans(text, terms)
    start, end = _best_window(text, spans, width)
    parts: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(escape(text[cursor:span_start]))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts).replace("\n", " ")
