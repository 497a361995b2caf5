"""An index written before chunks knew their table row (schema 1) is upgraded in place when it is
opened: it keeps answering searches, `kb check` names what is missing, and the next `kb ingest`
re-reads the affected files and fills it in."""

from __future__ import annotations

import sqlite3

from indexer.pipeline import ingest
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchRequest

from .conftest import CORPUS, copy_of


def _as_schema_1(kb: KnowledgeBase) -> None:
    """Turn an index into what the previous version wrote: no table columns, no schema version."""
    path = kb.settings.db_path
    kb.close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE chunks DROP COLUMN table_id")
        conn.execute("ALTER TABLE chunks DROP COLUMN row_index")
        conn.execute("DELETE FROM meta WHERE key = 'schema_version'")
    conn.close()


def test_a_schema_1_index_is_upgraded_searched_reported_and_completed_by_ingest(corpus_kb, tmp_path):
    old = copy_of(corpus_kb, tmp_path / "data")
    before = [hit["id"] for hit in _search(old)]
    _as_schema_1(old)

    kb = KnowledgeBase(old.settings, embedder=corpus_kb.embedder)  # opening upgrades it
    columns = {row[1] for row in kb.store.connection().execute("PRAGMA table_info(chunks)")}
    assert {"table_id", "row_index"} <= columns
    assert [hit["id"] for hit in _search(kb)] == before
    report = kb.check()
    assert "chunks_unplaced" in {problem.code for problem in report.problems}

    result = ingest(kb, [CORPUS], progress=False)
    assert result.ok and len(result.replaced) == 1 and result.embedded == 0  # vectors came from the store
    assert kb.check().ok
    article = next(a for a in kb.catalog().issue("2025-06-23")["articles"] if _table_chunks(kb, a["id"]))
    assert all(chunk["table"] is not None and chunk["row"] is not None for chunk in _table_chunks(kb, article["id"]))


def test_opening_an_upgraded_index_again_changes_nothing(corpus_kb, tmp_path):
    kb = copy_of(corpus_kb, tmp_path / "data")
    generation, files = kb.generation, kb.indexed_files()
    again = KnowledgeBase(kb.settings, embedder=corpus_kb.embedder)
    assert again.generation == generation and again.indexed_files() == files


def _search(kb: KnowledgeBase) -> list[dict]:
    return kb.search(SearchRequest("可开放容量", mode="keyword", k=10))["results"]


def _table_chunks(kb: KnowledgeBase, article_id: str) -> list[dict]:
    return [chunk for chunk in kb.catalog().article(article_id)["chunks"] if chunk["type"] != "text"]
