"""The Flask application factory: one `KnowledgeBase`, the blueprints, and the app-wide rules.

`create_app(settings)` is what `kb serve` and the tests run. The knowledge base lives in
`app.extensions["kb"]` (blueprints reach it through `web.context.current_kb()`). Before each request
the app compares the store's generation with the one it last saw, so a server picks up an
ingest run from another process without a restart. JSON is UTF-8 (not \\u-escaped), the
JSON endpoints allow cross-origin GETs, and searches may be rate-limited per client (`web.ratelimit`),
the client being read from a trusted balancer's forwarded header (`web.proxies`). A replica given a
name (`KB_REPLICA_NAME`) says it in `X-KB-Replica` on every response, so a deployment's logs and
tests can tell which replica answered.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from kb.config import Settings
from kb.knowledge_base import KnowledgeBase

from . import api, data_api, data_pages, errors, feeds, pages, ratelimit, trends
from .proxies import ProxyMiddleware, TrustedProxies, parse_networks
from .context import current_kb


def blueprint_modules() -> list:
    """Every area of the site, in one list: add a module with a `bp` here to mount it."""
    return [pages, api, data_api, data_pages, feeds, trends]


def create_app(settings: Settings | None = None, kb: KnowledgeBase | None = None) -> Flask:
    """The app over `kb` (tests pass one sharing the session model), else over `settings`."""
    if kb is None:
        kb = KnowledgeBase(settings or Settings.from_env())
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=kb.settings.max_request_bytes)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.json.mimetype = "application/json; charset=utf-8"
    app.extensions["kb"] = kb
    app.extensions["kb_generation"] = None
    ratelimit.register(app, kb.settings)  # first: a refused search costs nothing more
    app.before_request(_limit_query_string)
    app.before_request(_follow_ingests)
    app.after_request(_allow_cross_origin_reads)
    if kb.settings.replica_name:
        app.after_request(_name_replica)
    errors.register(app)
    app.extensions["kb_blueprint_modules"] = blueprint_modules()  # what /api/openapi.json describes
    for module in app.extensions["kb_blueprint_modules"]:
        app.register_blueprint(module.bp)
    app.jinja_env.globals["nav_links"] = _nav_links(app)
    app.wsgi_app = ProxyMiddleware(app.wsgi_app, TrustedProxies(parse_networks(kb.settings.trusted_proxies)),
                                   kb.settings.forwarded_header)
    return app


def _follow_ingests() -> None:
    """Bring the vector index up to a new store generation once, before the request uses it."""
    if request.endpoint == "static":
        return
    kb = current_kb()
    generation = kb.generation
    if generation != current_app.extensions["kb_generation"]:
        kb.refresh_vectors()
        current_app.extensions["kb_generation"] = generation


def _limit_query_string() -> None:
    """A query string longer than the request limit is refused (413) before any work is done."""
    limit = current_kb().settings.max_request_bytes
    if len(request.query_string) > limit:
        errors.abort_too_large(limit)


def _allow_cross_origin_reads(response):
    if errors.is_json_request() and request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    return response


def _name_replica(response):
    response.headers["X-KB-Replica"] = current_kb().settings.replica_name
    return response


NAV = (("pages.search_page", "搜索"), ("pages.issues", "期刊"), ("data_pages.tables_page", "表格"),
       ("data_pages.prices_page", "价格"))


def _nav_links(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, label) of the top navigation, for the areas this app has mounted."""
    return [(endpoint, label) for endpoint, label in NAV if endpoint in app.view_functions]
