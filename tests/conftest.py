"""Shared fixtures: the real model loaded once per session, and real indexes built in tmp dirs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from indexer.pipeline import ingest  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.embedder import Embedder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
REAL_ISSUE = CORPUS / "pv-digest-2025-06-23.txt"
DEV_QUERIES = REPO.parent / "shared" / "eval" / "dev_queries.jsonl"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The embedded m3e-small model, loaded once for the whole test session."""
    return Embedder()


@pytest.fixture
def make_kb(tmp_path, embedder):
    """Factory: an empty KnowledgeBase in its own tmp data dir, sharing the session model."""

    def factory(name: str = "data", **overrides) -> KnowledgeBase:
        settings = Settings(data_dir=tmp_path / name, corpus_dir=CORPUS, **overrides)
        return KnowledgeBase(settings, embedder=embedder)

    return factory


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory, embedder) -> KnowledgeBase:
    """A real index of the shipped corpus, built once per session. Treat it as read-only."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus_kb"), corpus_dir=CORPUS)
    kb = KnowledgeBase(settings, embedder=embedder)
    report = ingest(kb, [CORPUS], progress=False)
    assert report.ok, report.failed
    return kb


def copy_of(kb: KnowledgeBase, data_dir: Path, without: Iterable[str] = ()) -> KnowledgeBase:
    """A knowledge base over a copy of `kb`'s database in `data_dir`, sharing its model, with the
    issues in `without` deleted: their embeddings stay cached, so ingesting them again needs no model."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "kb.sqlite3") as copy:
        kb.store.connection().backup(copy)
    copy.close()
    copied = KnowledgeBase(replace(kb.settings, data_dir=data_dir), embedder=kb.embedder)
    copied.store.delete_issues(list(without))
    return copied

