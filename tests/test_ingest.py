"""Incremental ingest: unchanged files skipped, changed files replace their issue, prune, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.pipeline import ingest
from kb.search import SearchRequest, search

from .conftest import REAL_ISSUE

HANDMADE = Path(__file__).parent / "data" / "handmade-2025-12-29.txt"


def corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "issues"
    folder.mkdir()
    shutil.copy(REAL_ISSUE, folder)
    shutil.copy(HANDMADE, folder)
    return folder


def chunk_texts(kb) -> set[str]:
    return {row["text"] for row in kb.store.connection().execute("SELECT text FROM chunks")}


def test_reingesting_an_unchanged_corpus_skips_every_file(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    kb = make_kb()
    first = ingest(kb, [folder], progress=False)
    assert len(first.added) == 2 and first.ok
    generation = kb.store.generation
    again = ingest(kb, [folder], progress=False)
    assert len(again.unchanged) == 2 and not again.added and not again.replaced
    assert kb.store.generation == generation


def test_reingest_after_a_backend_change_embeds_unchanged_files_under_the_new_key(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    kb = make_kb()
    first = ingest(kb, [folder], progress=False)
    with kb.store.connection() as conn:  # as if another model or backend had built the index
        conn.execute("UPDATE embeddings SET model = 'm3e-small+another-backend'")
    again = ingest(kb, [folder], progress=False)
    assert len(again.unchanged) == 2 and again.embedded == first.chunks
    assert kb.vectors.size == first.chunks and kb.vectors.model == kb.model_name
    assert search(kb, SearchRequest("绿电码头", mode="semantic"))["results"][0]["article"]["title"].startswith("浙江首个")


def test_a_changed_file_replaces_its_issue_and_reuses_cached_embeddings(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    kb = make_kb()
    ingest(kb, [folder], progress=False)
    target = folder / HANDMADE.name
    target.write_text(
        target.read_text(encoding="utf-8").replace("成交清淡", "成交活跃"), encoding="utf-8"
    )
    report = ingest(kb, [folder], progress=False)
    assert report.replaced == [str(target)] and len(report.unchanged) == 1
    assert report.embedded == 1  # only the edited chunk needed the model
    texts = chunk_texts(kb)
    assert any("成交活跃" in t for t in texts) and not any("成交清淡" in t for t in texts)
    assert search(kb, SearchRequest("成交活跃", mode="hybrid"))["results"][0]["issue"]["id"] == "2025-12-29"


def test_prune_drops_issues_whose_file_is_gone(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    kb = make_kb()
    ingest(kb, [folder], progress=False)
    (folder / HANDMADE.name).unlink()
    kept = ingest(kb, [folder], progress=False)
    assert kept.pruned == [] and kb.store.counts()["rows"]["issues"] == 2
    pruned = ingest(kb, [folder], prune=True, progress=False)
    assert pruned.pruned == ["2025-12-29"]
    assert kb.store.counts()["rows"]["issues"] == 1
    assert set(kb.vectors.ids().tolist()) == {r[0] for r in kb.store.connection().execute("SELECT rowid FROM chunks")}


def test_a_bad_file_is_reported_and_the_rest_of_the_batch_is_ingested(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    (folder / "notes.txt").write_text("会议纪要\n\n没有期刊日期。", encoding="utf-8")
    kb = make_kb()
    report = ingest(kb, [folder, tmp_path / "missing.txt"], progress=False)
    assert len(report.added) == 2
    assert set(report.failed) == {str(folder / "notes.txt"), str(tmp_path / "missing.txt")}
    assert "no issue date range" in report.failed[str(folder / "notes.txt")]
    assert not report.ok


def test_two_files_of_one_issue_in_one_batch_index_the_first_and_name_the_second(make_kb, tmp_path):
    folder = corpus_copy(tmp_path)
    twin = folder / "zz-copy-of-the-real-issue.txt"  # sorted after the original: discovered second
    twin.write_text(REAL_ISSUE.read_text(encoding="utf-8").replace("绿电码头", "绿色码头"), encoding="utf-8")
    kb = make_kb()
    report = ingest(kb, [folder], progress=False)
    assert len(report.added) == 2 and list(report.failed) == [str(twin)]
    assert "already being indexed from" in report.failed[str(twin)]
    texts = chunk_texts(kb)
    assert any("绿电码头" in text for text in texts) and not any("绿色码头" in text for text in texts)
