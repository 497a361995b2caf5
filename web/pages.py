"""The Chinese pages: search (with facets and pagination), one article, the issues.

Everything a search page shows lives in its URL (`/search?q=…&mode=…&date_from=…`), so it can
be bookmarked and shared; links change one parameter at a time through `search_url()`.
Problems are shown on the page in plain words, with a 4xx/503 status.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for

from kb.attribution import attribution_line, citation, date_range_label
from kb.errors import QueryError
from kb.search import validate

from . import article_view
from .context import current_kb
from .errors import query_message
from .params import FILTER_NAMES, search_request
from .answer_cards import answers_for, card_chart
from .trends import trend_chart

bp = Blueprint("pages", __name__)

MODE_LABELS = {"hybrid": "混合", "keyword": "关键词", "semantic": "语义"}
SORT_LABELS = {"relevance": "相关度", "newest": "最新在前", "oldest": "最早在前"}
GROUP_LABELS = {"article": "按文章", "none": "按段落"}
TYPE_LABELS = {"text": "正文", "table_row": "表格", "policy": "政策条款"}
FILTER_LABELS = {"date_from": "起始日期", "date_to": "截止日期", "section": "栏目", "type": "类型", "source": "来源",
                 "issue": "期刊"}
FACET_LABELS = {"issue": "期刊（日期）", "section": "栏目", "type": "类型", "source": "来源"}
EMPTY_INDEX = "索引还没有建立：请先运行 kb ingest 导入期刊，再刷新本页。"
PAGE_WINDOW = 4


@bp.app_template_global()
def search_url(**changes) -> str:
    """This search's URL with some parameters changed (None removes one); filters reset the page."""
    args = {name: value for name, value in request.args.items() if value != ""}
    if any(name in FILTER_NAMES or name in ("q", "mode", "sort", "group", "interpret") for name in changes):
        args.pop("offset", None)
    for name, value in changes.items():
        if value is None or value == "":
            args.pop(name, None)
        else:
            args[name] = value
    return url_for("pages.search_page", **args)


@bp.app_template_global()
def citation_text(issue: dict, article: dict, chunk_id: str | None = None) -> str:
    """The copyable citation of an article (and passage), linking to its page on this site."""
    link = url_for("pages.article_page", article_id=article["id"], _external=True)
    return citation(issue, article, f"{link}#{chunk_id}" if chunk_id else link)


@bp.app_template_filter()
def date_range(issue: dict) -> str:
    return date_range_label(issue["date_start"], issue["date_end"])


@bp.app_context_processor
def labels() -> dict:
    return {"MODE_LABELS": MODE_LABELS, "SORT_LABELS": SORT_LABELS, "GROUP_LABELS": GROUP_LABELS, "TYPE_LABELS": TYPE_LABELS, "FILTER_LABELS": FILTER_LABELS,
            "FACET_LABELS": FACET_LABELS, "attribution_line": attribution_line}


@bp.get("/")
@bp.get("/search")
def search_page():
    kb = current_kb()
    catalog = kb.catalog()
    context = {"q": request.args.get("q", ""), "mode": request.args.get("mode") or "hybrid", "response": None,
               "error": None, "issues": {issue["id"]: issue for issue in catalog.issues()}}
    context["active_filters"] = [(name, request.args[name]) for name in FILTER_NAMES if request.args.get(name)]
    status = 200
    if "q" in request.args:
        try:
            search_request_ = validate(search_request(request.args, group="article", interpret=True), kb)
            if not context["issues"]:
                context["error"], status = EMPTY_INDEX, 503
            else:
                context["response"] = kb.search(search_request_)
                kb.queries.record(search_request_.query, search_request_.mode, context["response"]["total"])
                context["trend"] = trend_chart(request.args, search_url)
                context["answers"] = [(card, card_chart(card)) for card in answers_for(kb, context["response"])]
                context["pages"] = pagination(context["response"]["total"], search_request_.offset, search_request_.k)
        except QueryError as error:
            context["error"], status = query_message(error), 400
            given = [f"{FILTER_LABELS[name]} {request.args[name]}" for name in ("date_from", "date_to")
                     if request.args.get(name)]
            if error.code == "invalid_date" and given:  # the date box cannot show a bad date: say it
                context["error"] = f"{context['error']}（填写的是：{'，'.join(given)}）"
    elif not context["issues"]:
        context["error"] = EMPTY_INDEX
    return render_template("search.html", **context), status


def pagination(total: int, offset: int, k: int) -> dict:
    """Page numbers around the current one, as offsets; k results a page."""
    limit = min(total, current_kb().settings.max_offset + k)
    count = max(1, -(-limit // k))
    current = offset // k + 1
    first, last = max(1, current - PAGE_WINDOW), min(count, current + PAGE_WINDOW)
    return {
        "current": current, "count": count, "k": k, "from": offset + 1, "to": min(offset + k, total),
        "numbers": [(n, (n - 1) * k) for n in range(first, last + 1)],
        "previous": (current - 2) * k if current > 1 else None,
        "next": current * k if current < count else None,
    }


@bp.get("/articles/<article_id>")
def article_page(article_id: str):
    kb = current_kb()
    article = kb.catalog().article(article_id)
    if article is None:
        abort(404)
    query = request.args.get("q", "")
    hit = request.args.get("hit")
    hit = hit if article_view.hit_exists(article, hit) else None
    terms = article_view.highlight_terms(kb, query)
    return render_template(
        "article.html", article=article, q=query, hit=hit,
        paragraphs=article_view.paragraphs(article, hit, terms), tables=article_view.tables(article, hit, terms),
        show_related="related_articles" in current_app.jinja_env.globals,  # the data blueprint's
    )


@bp.get("/issues")
def issues():
    catalog = current_kb().catalog()
    listed = [catalog.issue(issue["id"]) for issue in catalog.issues()]
    return render_template("issues.html", issues=[issue for issue in listed if issue], empty_index=EMPTY_INDEX)


@bp.get("/issues/<issue_id>")
def issue_page(issue_id: str):
    issue = current_kb().catalog().issue(issue_id)
    if issue is None:
        abort(404)
    return render_template("issue.html", issue=issue)
