"""A search request and its validation: what a caller may ask for, checked once for the CLI,
the search page and the JSON API alike (filters through kb/filters.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from .config import Settings
from .errors import QueryError
from .filters import Filters

MODES = ("hybrid", "keyword", "semantic")
GROUPS = ("none", "article")
SORTS = ("relevance", "newest", "oldest")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


class HasSettings(Protocol):
    settings: Settings


@dataclass
class SearchRequest:
    query: str
    mode: str = "hybrid"
    k: int = 10
    offset: int = 0
    filters: Filters = field(default_factory=Filters)
    expand: bool | None = None  # English glossary expansion; None = the settings' default
    facets: bool = False
    group: str = "none"  # "article": each article once, with its best passage
    sort: str = "relevance"  # or "newest" / "oldest" issue first
    interpret: bool = False  # read time words (8月11日当周, 三季度, 最新) into a date filter or boost
    min_similarity: float | None = None  # replaces the calibrated semantic threshold (exploration)


def clean_query(query: str, max_chars: int) -> str:
    """Strip control characters and lone surrogates; reject empty and over-long queries."""
    if not isinstance(query, str):
        raise QueryError("invalid_query", "the query must be text")
    cleaned = " ".join(CONTROL_CHARS.sub(" ", query).split())
    if not cleaned:
        raise QueryError("empty_query", "the query is empty")
    if len(cleaned) > max_chars:
        raise QueryError("query_too_long", f"the query is longer than {max_chars} characters")
    return cleaned


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise QueryError(f"invalid_{name}", f"{name} must be one of {', '.join(allowed)}")
    return value


def validate(request: SearchRequest, kb: HasSettings) -> SearchRequest:
    settings = kb.settings
    request.query = clean_query(request.query, settings.max_query_chars)
    _choice(request.mode, MODES, "mode")
    _choice(request.group, GROUPS, "group")
    _choice(request.sort, SORTS, "sort")
    if not 1 <= request.k <= settings.max_k:
        raise QueryError("invalid_k", f"k must be between 1 and {settings.max_k}")
    if not 0 <= request.offset <= settings.max_offset:
        raise QueryError("invalid_offset", f"offset must be between 0 and {settings.max_offset}")
    if request.min_similarity is not None and not -1.0 <= request.min_similarity <= 1.0:
        raise QueryError("invalid_min_similarity", "min_similarity must be a number between -1 and 1")
    request.filters = request.filters.validated()
    return request
