"""An index written before chunks knew their table row (schema 1) is upgraded in place when it is
opened: it keeps answering searches, `kb check` names what is missing, and the next `kb ingest`
re-reads the affected files and fills it in."""

from __future__ import annotations

import io
import sqlite3

import jieba

from indexer.pipeline import ingest
from kb.knowledge_base import KnowledgeBase
from kb.search import SearchRequest
from kb.segment import USER_DICT, normalize
from kb.store.term_cells import write_keyword_stats

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


def _segmented_as_version_1(kb: KnowledgeBase) -> None:
    """Rewrite the FTS5 rows and term statistics as the first segmenter made them: jieba's search
    mode with the dictionary loaded as spelled (its `GW` never met the lower-cased `gw`), glued
    tokens (17.1gw) kept whole; and no segmenter named in meta."""
    old = jieba.Tokenizer()
    old.load_userdict(io.StringIO(USER_DICT.read_text(encoding="utf-8")))

    def cut(text: str) -> str:
        return " ".join(t.strip() for t in old.cut_for_search(normalize(text)) if any(c.isalnum() for c in t))

    conn = kb.store.connection()
    with conn:
        rows = conn.execute("SELECT c.rowid, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id").fetchall()
        documents = [(rowid, cut(title), cut(text)) for rowid, title, text in rows]
        conn.execute("DELETE FROM chunks_fts")
        conn.executemany("INSERT INTO chunks_fts (rowid, title, body) VALUES (?, ?, ?)", documents)
        conn.execute("DELETE FROM chunk_terms")
        write_keyword_stats(conn, documents)
        conn.execute("DELETE FROM meta WHERE key = 'segmenter'")
        kb.store.bump_generation(conn)


def test_an_index_cut_by_an_earlier_segmenter_is_cut_again_when_opened(corpus_kb, tmp_path):
    query = SearchRequest("印尼新增光伏装机多少GW", mode="keyword", k=10)

    def ranked(kb: KnowledgeBase) -> list[tuple[str, float]]:
        return [(hit["id"], hit["scores"]["keyword"]) for hit in kb.search(query)["results"]]

    fresh = ranked(corpus_kb)
    kb = copy_of(corpus_kb, tmp_path / "data")
    _segmented_as_version_1(kb)
    stale = ranked(kb)
    assert stale[0][0] == fresh[0][0] and stale[0][1] < fresh[0][1]  # its 17.1GW held no `gw`
    kb.close()

    reopened = KnowledgeBase(kb.settings, embedder=corpus_kb.embedder)
    assert reopened.store.get_meta("segmenter") == corpus_kb.store.get_meta("segmenter")
    assert ranked(reopened) == fresh
    assert reopened.check().ok


def _search(kb: KnowledgeBase) -> list[dict]:
    return kb.search(SearchRequest("可开放容量", mode="keyword", k=10))["results"]


def _table_chunks(kb: KnowledgeBase, article_id: str) -> list[dict]:
    return [chunk for chunk in kb.catalog().article(article_id)["chunks"] if chunk["type"] != "text"]
