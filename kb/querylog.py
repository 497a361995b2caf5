"""What members ask: searches appended to a log beside the index, and the summary staff read.

Each search from the site or the API appends one JSON line — when, the query, the mode, how many
passages or articles matched — to `queries.jsonl` in the data dir: never the index itself, which
readers may hold read-only, and never a client address. Logging is best-effort: a full disk, a
read-only folder or any other OSError is swallowed (and said once on the logger), so it can never
fail a search. `KB_QUERY_LOG=0` turns it off. `kb queries` reads it back: the most frequent
queries, and those that found nothing, for staff to decide what the archive should cover.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

LOG = logging.getLogger(__name__)
FILE_NAME = "queries.jsonl"


@dataclass(frozen=True)
class QuerySummary:
    query: str
    count: int
    zero_results: int  # searches of it that found nothing
    last: str  # ISO time of the latest


class QueryLog:
    def __init__(self, data_dir: Path, enabled: bool = True):
        self.path = Path(data_dir) / FILE_NAME
        self.enabled = enabled
        self._lock = threading.Lock()
        self._warned = False

    def record(self, query: str, mode: str, total: int) -> None:
        """Append one search; never raises."""
        if not self.enabled:
            return
        line = json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "q": query,
                           "mode": mode, "total": int(total)}, ensure_ascii=False)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            if not self._warned:
                LOG.warning("query log %s is not writable, searches are not logged: %s", self.path, exc)
                self._warned = True

    def summary(self, since: str | None = None, zero_results: bool = False, limit: int = 20) -> list[QuerySummary]:
        """The most frequent queries (since an ISO date), or only those that found nothing."""
        counts: Counter[str] = Counter()
        empty: Counter[str] = Counter()
        last: dict[str, str] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                row = json.loads(line)
                query, at, total = str(row["q"]), str(row["at"]), int(row["total"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a full disk: skip it, keep the rest
            if since and at[:10] < since:
                continue
            counts[query] += 1
            empty[query] += total == 0
            last[query] = max(last.get(query, ""), at)
        names = [q for q in counts if empty[q]] if zero_results else list(counts)
        names.sort(key=lambda q: (-(empty[q] if zero_results else counts[q]), -counts[q], q))
        return [QuerySummary(q, counts[q], empty[q], last[q]) for q in names[:limit]]
