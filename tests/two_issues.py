"""A session fixture (a pytest plugin, for the modules that name it in `pytest_plugins`): a real
index of two issues, the shipped one and the hand-made 2025-06-30 issue with its own price
report, policy table, capacity table, a perovskite article and a reprint of the wharf story."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.pipeline import ingest
from kb.knowledge_base import KnowledgeBase

from .conftest import CORPUS, copy_of

SECOND_ISSUE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"


@pytest.fixture(scope="session")
def two_issues_kb(tmp_path_factory, corpus_kb) -> KnowledgeBase:
    """Read-only. Starts from a copy of `corpus_kb`'s database, so only the second issue is embedded."""
    kb = copy_of(corpus_kb, tmp_path_factory.mktemp("two_issues"))
    report = ingest(kb, [CORPUS, SECOND_ISSUE], progress=False)
    assert report.ok and len(report.added) == 1, report.summary()
    return kb
