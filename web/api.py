"""The JSON API: search, issues, articles, health, and the OpenAPI document that describes them.

Every answer is JSON; a bad parameter is a 400 and an unknown id a 404, both with
`{"error": {"code", "message"}}` (see `web.errors`). Searching an index with no issues is a 503
with the code `index_not_built`, since the server, not the client, has to change.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from kb.attribution import attribution_line
from kb.search import validate

from . import openapi
from .context import current_kb
from .errors import json_error
from .answer_cards import answers_for
from .params import search_request

bp = Blueprint("api", __name__)


def catalog():
    return current_kb().catalog()


@bp.get("/api/search")
def api_search():
    request_ = validate(search_request(request.args), current_kb())  # a bad request is a 400 even with no index
    if catalog().is_empty():
        return json_error(503, "index_not_built", "no issues are indexed yet: run `kb ingest` first")
    response = current_kb().search(request_)
    current_kb().queries.record(request_.query, request_.mode, response["total"])
    response["answers"] = answers_for(current_kb(), response)
    for hit in response["results"]:
        hit["attribution"] = attribution_line(hit["issue"], hit["article"])
    return jsonify(response)


@bp.get("/api/issues")
def api_issues():
    issues = catalog().issues()
    return jsonify({"total": len(issues), "issues": issues})


def found(value: dict | None, what: str, id_: str):
    if value is None:
        abort(404, description=f"no {what} {id_[:80]!r}")
    return jsonify(value)


@bp.get("/api/issues/<issue_id>")
def api_issue(issue_id: str):
    return found(catalog().issue(issue_id), "issue", issue_id)


@bp.get("/api/articles/<article_id>")
def api_article(article_id: str):
    return found(catalog().article(article_id), "article", article_id)


@bp.get("/healthz")
def healthz():
    """200 when issues are indexed and the vector index matches the store; 503 otherwise."""
    kb = current_kb()
    health = catalog().health()
    view = kb.view()  # the chunk index serving the store's generation (a Milvus collection serves them all)
    vectors = view.vectors
    loaded = health["counts"]["issues"] > 0 and view.generation == health["generation"] and vectors.size > 0
    body = {
        "status": "ok" if loaded else "index_not_built",
        "index_loaded": loaded,
        "model": kb.model_name,
        "backend": kb.settings.backend,
        "vectors": vectors.size,
        **health,
    }
    return jsonify(body), 200 if loaded else 503


@bp.get("/api/openapi.json")
def api_openapi():
    settings = current_kb().settings
    extra: dict = {}
    for module in current_app.extensions["kb_blueprint_modules"]:
        if module is not openapi and hasattr(module, "openapi_paths"):
            extra |= module.openapi_paths(settings)
    return jsonify(openapi.document(settings, request.host_url.rstrip("/"), extra))
