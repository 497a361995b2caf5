"""/api/trend: matching passages per issue (or month) for a query, and for `compare` beside it.

The search page draws the same numbers as a bar chart (`trend_chart`), each bar a link that
narrows the search to its issue or month. The counts are kb/trend.py's; this module only reads
the parameters (the search's own, plus `compare`) and documents the route.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from kb.config import Settings
from kb.search import validate

from . import openapi
from .charts import bar_chart
from .context import current_kb
from .errors import json_error
from .params import search_request

bp = Blueprint("trends", __name__)


def _request(args, interpret: bool):
    kb = current_kb()
    compare = (args.get("compare") or "").strip() or None
    search = validate(search_request(args, facets=True, interpret=interpret), kb)
    if compare is not None:
        validate(search_request({"q": compare}), kb)  # the same rules as any query
    return search, compare


@bp.get("/api/trend")
def api_trend():
    search, compare = _request(request.args, interpret=False)
    kb = current_kb()
    if kb.catalog().is_empty():
        return json_error(503, "index_not_built", "no issues are indexed yet: run `kb ingest` first")
    return jsonify(kb.trend(search, compare))


def trend_chart(args, search_url) -> dict | None:
    """The page's chart and legend for the search in `args` (None when there is nothing to draw)."""
    search, compare = _request(args, interpret=True)
    found = current_kb().trend(search, compare)
    if not found["buckets"] or not any(sum(b["counts"]) for b in found["buckets"]):
        return None
    links = [search_url(date_from=b["date_from"], date_to=b["date_to"]) for b in found["buckets"]]
    names = [s["query"] for s in found["series"]]
    svg = bar_chart([b["label"] for b in found["buckets"]], [[b["counts"][i] for b in found["buckets"]]
                                                            for i in range(len(names))], links, names)
    return {"svg": svg, "series": found["series"], "unit": found["unit"]}


def openapi_paths(settings: Settings) -> dict:
    bucket = openapi.obj({"label": {"type": "string", "description": "issue id, or YYYY-MM past 60 issues"},
                          "date_from": openapi.DATE, "date_to": openapi.DATE,
                          "counts": openapi.array({"type": "integer", "minimum": 0})},
                         description="matching passages of each series in one issue or month")
    series = openapi.obj({"query": openapi.STRING, "total": {"type": "integer", "minimum": 0},
                          "total_relation": {"enum": ["eq", "gte"]},
                          "interpreted": {"oneOf": [openapi.ref("Interpreted"), {"type": "null"}]}})
    trend = openapi.obj({"query": openapi.STRING, "compare": openapi.NULLABLE_STRING,
                         "unit": {"enum": ["issue", "month"]}, "series": openapi.array(series),
                         "buckets": openapi.array(bucket)},
                        description="per-bucket counts sum to each series' total")
    parameters = [p for p in openapi.search_parameters(settings) if p["name"] not in ("k", "offset", "group", "sort")]
    parameters.append(openapi.query("compare", {"type": "string", "maxLength": settings.max_query_chars},
                                    "a second query counted over the same buckets"))
    return {"/api/trend": {"get": {
        "summary": "Matching passages per issue (or month) for a query, and for a second one beside it",
        "operationId": "trend",
        "parameters": parameters,
        "responses": {"200": {"description": "the buckets", "content": {"application/json": {"schema": trend}}},
                      "400": openapi.response("a parameter is wrong; `code` names it", "Error"),
                      "503": openapi.response("no issues are indexed yet", "Error")},
    }}}
