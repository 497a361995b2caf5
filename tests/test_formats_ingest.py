"""HTML, PDF and DOCX versions of an issue index to the same articles, tables, prices and
attribution as its text export: ingested over a copy of an index holding the text export's
version, they store the same rows (a PDF up to the spaces lost where a line wraps at a space
beside a Chinese character) and HTML and DOCX reuse every cached embedding."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.pipeline import ingest
from kb.knowledge_base import KnowledgeBase

from .conftest import copy_of
from .format_writers import squeezed, write_docx, write_html, write_pdf

pytest_plugins = ["tests.two_issues"]

SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"  # as in tests/two_issues.py
ISSUE = "2025-06-30"
STORED = {
    "articles": "SELECT id, ordinal, title, section, page, source, paragraphs_json FROM articles WHERE issue_id = ?",
    "tables": "SELECT id, caption, unit, note, credit, headers_json, rows_json FROM tables WHERE issue_id = ?",
    "cells": "SELECT c.* FROM table_cells c JOIN tables t ON t.id = c.table_id WHERE t.issue_id = ?",
    "policies": "SELECT article_id, province, policy_name, requirement, self_use_ratio, grid_ratio, release_date,"
    " status FROM policies WHERE issue_id = ?",
    "prices": "SELECT article_id, product, price, low, high, unit, source FROM prices WHERE issue_id = ?",
    "chunks": "SELECT id, type, text, start, \"end\" FROM chunks WHERE issue_id = ?",
}


def stored(kb: KnowledgeBase, squeeze: bool = False) -> dict[str, list[tuple]]:
    conn = kb.store.connection()
    rows = {name: sorted(tuple(row) for row in conn.execute(sql, (ISSUE,))) for name, sql in STORED.items()}
    if squeeze:
        rows = {name: [tuple(squeezed(v) for v in row) for row in table] for name, table in rows.items()}
        rows["chunks"] = [row[:3] for row in rows["chunks"]]  # spans move with the spaces
    return rows


@pytest.mark.parametrize("writer", [write_html, write_pdf, write_docx], ids=["html", "pdf", "docx"])
def test_each_format_stores_what_the_text_export_stores(writer, two_issues_kb, tmp_path):
    suffix = writer.__name__.removeprefix("write_")
    source = writer(SECOND_ISSUE.read_text(encoding="utf-8"), tmp_path / f"issue.{suffix}")
    kb = copy_of(two_issues_kb, tmp_path / "data", without=[ISSUE])

    report = ingest(kb, [source], progress=False)

    assert report.ok and report.added == [str(source)], report.failed
    squeeze = suffix == "pdf"
    assert stored(kb, squeeze) == stored(two_issues_kb, squeeze)
    if not squeeze:
        assert report.embedded == 0  # every chunk's text is one the text export already had
    assert kb.store.connection().execute("SELECT file FROM issues WHERE id = ?", (ISSUE,)).fetchone()[0] == source.name


def test_an_index_made_before_ocr_marks_opens_with_every_chunk_unmarked(corpus_kb, tmp_path):
    import sqlite3
    from dataclasses import replace

    from kb.search import SearchRequest, search

    kb = copy_of(corpus_kb, tmp_path / "data")
    with sqlite3.connect(kb.store.path) as conn:
        conn.execute("ALTER TABLE chunks DROP COLUMN ocr")  # the schema before chunks said so
    conn.close()

    reopened = KnowledgeBase(replace(kb.settings), embedder=kb.embedder)

    hits = search(reopened, SearchRequest("绿电码头", mode="keyword"))["results"]
    assert hits and not any(hit["ocr"] for hit in hits)
