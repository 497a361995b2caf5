"""Every search is an Atom feed: valid Atom 1.0 (checked by feedparser), one entry per matching
article, newest issue first, entry ids stable across requests and across a re-ingest."""

from __future__ import annotations

import shutil

import feedparser
import pytest

from indexer.pipeline import ingest
from web import create_app

from .conftest import copy_of
from .two_issues import SECOND_ISSUE

pytest_plugins = ["tests.two_issues"]


def feed(client, **params):
    response = client.get("/search.atom", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


@pytest.fixture
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def test_a_search_feed_is_valid_atom_one_entry_per_article_newest_first(client, two_issues_kb):
    parsed = feed(client, q="钙钛矿")
    search = client.get("/api/search", query_string={"q": "钙钛矿", "group": "article", "k": 100}).get_json()
    assert len(parsed.entries) == search["total"] > 1
    ids = [entry.id for entry in parsed.entries]
    assert len(ids) == len(set(ids)) and all(i.startswith("tag:pv-digest-kb,2025:article/") for i in ids)
    updated = [entry.updated for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    first = parsed.entries[0]
    assert "/articles/" in first.link and "#" in first.link
    assert "光伏信息精选" in first.summary and "<mark>" not in first.summary
    assert feed(client, q="钙钛矿").entries[0].id == first.id  # the same across requests


def test_feed_entry_ids_survive_a_re_ingest_of_the_issue(corpus_kb, tmp_path):
    issue = tmp_path / SECOND_ISSUE.name
    shutil.copy(SECOND_ISSUE, issue)
    kb = copy_of(corpus_kb, tmp_path / "data")
    assert ingest(kb, [issue], progress=False).ok
    client = create_app(kb=kb).test_client()
    before = [entry.id for entry in feed(client, q="钙钛矿").entries]
    issue.write_text(issue.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")  # a changed file, same articles
    report = ingest(kb, [issue], progress=False)
    assert report.ok and report.replaced
    assert [entry.id for entry in feed(client, q="钙钛矿").entries] == before


def test_a_search_with_no_match_is_an_empty_valid_feed_and_a_bad_one_a_400(client):
    assert feed(client, q="足球比赛 世界杯 冠军").entries == []
    assert client.get("/search.atom", query_string={"q": "光伏", "date_from": "2025-13-40"}).status_code == 400
    assert client.get("/search.atom").status_code == 400  # no query


def test_the_search_page_links_its_feed(client):
    page = client.get("/search", query_string={"q": "钙钛矿"}).get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and "/search.atom?q=" in page and "订阅" in page
