"""Every search as an Atom 1.0 feed: `/search.atom?q=…` with the search page's parameters.

A staff member who follows 「分布式 政策 浙江」 subscribes instead of searching again every week.
Entries are the matching articles (one per article, its best passage as the summary), newest
issue first, with the attribution and a link to the passage in place. An entry's id is a tag URI
of the article id, which is the issue date and the article's place in it, so it stays the same
across requests and re-ingests of the same issue; the feed's id is a tag URI of the query and
its filters. Built with ElementTree, so every text is escaped as XML.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for

from kb.attribution import attribution_line
from kb.search import validate

from .context import current_kb
from .params import FILTER_NAMES, search_request

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:pv-digest-kb,2025"
FEED_SIZE = 50
MARKUP = re.compile(r"<[^>]+>")


def _date(iso_day: str) -> str:
    return f"{iso_day}T00:00:00Z"


def _text(parent: ET.Element, name: str, value: str, **attributes) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
    element.text = value
    return element


def _link(parent: ET.Element, href: str, rel: str = "alternate", kind: str | None = None) -> None:
    attributes = {"href": href, "rel": rel}
    if kind:
        attributes["type"] = kind
    ET.SubElement(parent, f"{{{ATOM}}}link", attributes)


@bp.get("/search.atom")
def search_feed():
    args = request.args
    search = search_request(args, facets=False, group="article", interpret=True)
    search.sort, search.k, search.offset = "newest", FEED_SIZE, 0
    kb = current_kb()
    search = validate(search, kb)  # a bad parameter is a QueryError: the site's 400 handler answers
    response = {"query": search.query, "results": []} if kb.catalog().is_empty() else kb.search(search)
    kept = {name: args[name] for name in ("q", "mode", "interpret", *FILTER_NAMES) if args.get(name)}
    page = url_for("pages.search_page", _external=True, **kept)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", f"光伏信息精选 · 搜索：{response['query']}")
    _text(feed, "id", f"{TAG}:search?{urlencode(sorted(kept.items()))}")
    newest = max((hit["issue"]["date_start"] for hit in response["results"]), default=None)
    _text(feed, "updated", _date(newest) if newest else datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _link(feed, request.url, rel="self", kind="application/atom+xml")
    _link(feed, page, kind="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "光伏信息精选")
    for hit in response["results"]:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "title", hit["article"]["title"])
        _text(entry, "id", f"{TAG}:article/{hit['article']['id']}")
        _text(entry, "updated", _date(hit["issue"]["date_start"]))
        _link(entry, url_for("pages.article_page", article_id=hit["article"]["id"], q=response["query"],
                             hit=hit["id"], _anchor=hit["id"], _external=True), kind="text/html")
        entry_author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(entry_author, "name", hit["article"]["source"] or "光伏信息精选")
        snippet = html.unescape(MARKUP.sub("", hit["snippet"]))  # the snippet is HTML; Atom text is plain
        _text(entry, "summary", f"{snippet}\n「{attribution_line(hit['issue'], hit['article'])}」")
        if hit["article"]["section"]:
            ET.SubElement(entry, f"{{{ATOM}}}category", {"term": hit["article"]["section"]})
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml", headers={"Content-Type": "application/atom+xml; charset=utf-8"})
