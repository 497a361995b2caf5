"""Mentions over time: how many passages match a query in each issue (or month), for the trend.

A researcher asks when 钙钛矿 or 反内卷 rose in the news. The counts are the search's own match
set, counted per issue (its `issue` facet), so they sum to the search's `total`; every issue in
the range is a bucket, so a week without a mention shows as zero. Past MONTHLY_AFTER issues the
buckets are months. `compare` runs a second query over the same buckets, side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from .request import SearchRequest

MONTHLY_AFTER = 60  # issues; more than this and a bucket is a month


class TrendSource(Protocol):
    def search(self, request: SearchRequest) -> dict: ...

    def catalog(self): ...


@dataclass
class Bucket:
    label: str  # the issue id, or YYYY-MM
    date_from: str
    date_to: str
    counts: list[int]  # one per series


def _buckets(issues: list[dict], monthly: bool) -> list[Bucket]:
    buckets: dict[str, Bucket] = {}
    for issue in sorted(issues, key=lambda i: i["date_start"]):
        label = issue["date_start"][:7] if monthly else issue["id"]
        bucket = buckets.get(label)
        if bucket is None:
            buckets[label] = Bucket(label, issue["date_start"], issue["date_end"], [])
        else:
            bucket.date_to = max(bucket.date_to, issue["date_end"])
    return list(buckets.values())


def trend(kb: TrendSource, request: SearchRequest, compare: str | None = None) -> dict:
    """{"query", "compare", "unit", "series": [{"query", "total", "total_relation"}], "buckets": [...]}"""
    f = request.filters
    issues = [i for i in kb.catalog().issues()
              if (not f.date_from or i["date_end"] >= f.date_from) and (not f.date_to or i["date_start"] <= f.date_to)
              and (not f.issue or i["id"] == f.issue)]
    monthly = len(issues) > MONTHLY_AFTER
    buckets = _buckets(issues, monthly)
    month_of = {i["id"]: i["date_start"][:7] for i in issues}
    series = []
    for text in [request.query] + ([compare] if compare else []):
        response = kb.search(replace(request, query=text, facets=True, k=1, offset=0, group="none"))
        per_issue = response["facets"]["issue"]
        for bucket in buckets:
            bucket.counts.append(sum(n for issue, n in per_issue.items()
                                     if (month_of.get(issue) if monthly else issue) == bucket.label))
        series.append({"query": response["query"], "total": response["total"],
                       "total_relation": response["total_relation"], "interpreted": response["interpreted"]})
    return {
        "query": series[0]["query"],
        "compare": series[1]["query"] if compare else None,
        "unit": "month" if monthly else "issue",
        "series": series,
        "buckets": [{"label": b.label, "date_from": b.date_from, "date_to": b.date_to, "counts": b.counts}
                    for b in buckets],
    }
