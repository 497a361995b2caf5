"""Query-string parameters: a `SearchRequest` for the search page and /api/search, and the
numbers, texts and dates of the data endpoints and pages.

Only the shape is checked here (whole numbers, yes/no); ranges, dates, modes and types of a
search are checked by `kb.search.validate`, and dates everywhere by `kb.filters`, so the page,
the API and the CLI reject the same things.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kb.errors import QueryError
from kb.filters import Filters, parse_dates
from kb.search import SearchRequest

FILTER_NAMES = ("date_from", "date_to", "section", "type", "source", "issue")
PAGE_SIZE = 10
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")  # longer numbers are out of every range anyway


def whole_number(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name, "").strip()
    if raw == "":
        return default
    if not WHOLE_NUMBER.fullmatch(raw):
        raise QueryError(f"invalid_{name}", f"{name} must be a whole number below a billion, not {raw[:20]!r}")
    return int(raw)


def bounded_number(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number within [low, high]; QueryError naming the parameter otherwise."""
    value = whole_number(args, name, default)
    if not low <= value <= high:
        raise QueryError(f"invalid_{name}", f"{name} must be between {low} and {high}")
    return value


def short_text(args: Mapping[str, str], name: str) -> str | None:
    """A text parameter, trimmed and cut to 200 characters; None when empty."""
    return args.get(name, "").strip()[:200] or None


def date_range(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(date_from, date_to) of the query string, parsed by the one date rule (kb/filters.py)."""
    return parse_dates(args.get("date_from"), args.get("date_to"))


def yes_no(args: Mapping[str, str], name: str) -> bool | None:
    raw = args.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise QueryError(f"invalid_{name}", f"{name} must be true or false")


def filters_from(args: Mapping[str, str]) -> Filters:
    """The filters named in the query string; empty values mean no filter."""
    return Filters(**{name: (args.get(name, "").strip() or None) for name in FILTER_NAMES})


def similarity(args: Mapping[str, str], name: str) -> float | None:
    """A cosine given in the query string (min_similarity); None when absent."""
    raw = args.get(name, "").strip()
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not -1.0 <= value <= 1.0:  # also refuses nan and inf
        raise QueryError(f"invalid_{name}", f"{name} must be a number between -1 and 1, not {raw[:20]!r}")
    return value


def search_request(args: Mapping[str, str], facets: bool = True, group: str = "none",
                   interpret: bool = False) -> SearchRequest:
    """The request of the query string; `group` and `interpret` are the defaults of the caller
    (the page groups by article and reads time words, the JSON API keeps passages and reads
    nothing unless asked, so API clients get predictable results)."""
    said = yes_no(args, "interpret")
    return SearchRequest(
        query=args.get("q", ""),
        mode=args.get("mode", "").strip() or "hybrid",
        k=whole_number(args, "k", PAGE_SIZE),
        offset=whole_number(args, "offset", 0),
        filters=filters_from(args),
        expand=yes_no(args, "expand"),
        facets=facets,
        group=args.get("group", "").strip() or group,
        sort=args.get("sort", "").strip() or "relevance",
        interpret=interpret if said is None else said,
        min_similarity=similarity(args, "min_similarity"),
    )


def table_sort(args: Mapping[str, str], headers: list[str]) -> tuple[int | None, bool]:
    """(column index, descending) of `?sort=<header>&order=asc|desc`; (None, False) keeps the
    printed order. A header the table lacks or another order is a QueryError."""
    order = args.get("order", "").strip() or "asc"
    if order not in ("asc", "desc"):
        raise QueryError("invalid_order", "order must be asc or desc")
    name = args.get("sort", "").strip()
    if not name:
        return None, False
    if name not in headers:
        raise QueryError("invalid_sort", f"sort must be one of the table's headers, not {name[:40]!r}")
    return headers.index(name), order == "desc"
