"""What members ask: searches on the site and the API are logged beside the index, never in it,
without addresses, best-effort; `kb queries` lists the frequent ones and those that found nothing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import main
from web import create_app

from .conftest import copy_of


def session(client) -> None:
    """A scripted session: what a member might type in a morning."""
    for query in ("钙钛矿", "钙钛矿", "绿电码头", "足球比赛 世界杯 冠军"):
        assert client.get("/search", query_string={"q": query}).status_code == 200
    for query in ("钙钛矿", "足球比赛 世界杯 冠军", "量子计算"):
        assert client.get("/api/search", query_string={"q": query}).status_code == 200


def test_kb_queries_lists_frequent_and_zero_result_searches(corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "data")
    session(create_app(kb=kb).test_client())
    lines = [json.loads(line) for line in (tmp_path / "data" / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 7 and set(lines[0]) == {"at", "q", "mode", "total"}  # no address, no user
    data_dir = str(tmp_path / "data")
    frequent = CliRunner().invoke(main, ["queries", "--data-dir", data_dir], catch_exceptions=False)
    assert frequent.exit_code == 0
    rows = frequent.output.splitlines()[1:]
    assert rows[0].split()[:2] == ["3", "0"] and rows[0].endswith("钙钛矿")
    empty = CliRunner().invoke(main, ["queries", "--zero-results", "--json", "--data-dir", data_dir])
    found = {row["query"]: row for row in json.loads(empty.output)}
    assert set(found) == {"足球比赛 世界杯 冠军", "量子计算"}
    assert found["足球比赛 世界杯 冠军"]["count"] == found["足球比赛 世界杯 冠军"]["zero_results"] == 2
    later = CliRunner().invoke(main, ["queries", "--since", "2999-01-01", "--data-dir", data_dir])
    assert "no searches logged" in later.output


def test_an_unwritable_log_never_fails_a_search(corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "data")
    (tmp_path / "data" / "queries.jsonl").mkdir()  # writing it fails (as on a read-only or full disk)
    client = create_app(kb=kb).test_client()
    assert client.get("/api/search", query_string={"q": "钙钛矿"}).status_code == 200
    assert client.get("/search", query_string={"q": "钙钛矿"}).status_code == 200


def test_the_log_can_be_turned_off_and_no_route_serves_it(corpus_kb, tmp_path, monkeypatch):
    monkeypatch.setenv("KB_QUERY_LOG", "0")
    from dataclasses import replace

    from kb.config import Settings
    from kb.knowledge_base import KnowledgeBase

    copied = copy_of(corpus_kb, tmp_path / "data")
    kb = KnowledgeBase(replace(Settings.from_env(), data_dir=tmp_path / "data"), embedder=copied.embedder)
    client = create_app(kb=kb).test_client()
    session(client)
    assert not (tmp_path / "data" / "queries.jsonl").exists()
    on = copy_of(corpus_kb, tmp_path / "logged")
    logged = create_app(kb=on).test_client()
    session(logged)
    for path in ("/queries.jsonl", "/static/../queries.jsonl", "/api/queries", "/data/queries.jsonl"):
        assert logged.get(path).status_code == 404, path
