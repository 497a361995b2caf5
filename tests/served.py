"""A session fixture (a pytest plugin, for the modules that name it in `pytest_plugins`): `kb serve`
as a subprocess on a free loopback port over a tmp copy of the two-issue index (already ingested
with the session model; the server loads its own). The browser tests and the schema-driven fuzz
run against it; it yields the base URL.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import copy_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from benchlib import free_port, serve_subprocess  # noqa: E402  (the one way this project starts kb serve)

pytest_plugins = ["tests.two_issues"]

START_TIMEOUT_S = 90


@pytest.fixture(scope="session")
def server(tmp_path_factory, two_issues_kb):
    data = copy_of(two_issues_kb, tmp_path_factory.mktemp("served")).settings.data_dir
    port = free_port()
    with serve_subprocess(data, port, threads=2, timeout=START_TIMEOUT_S):
        yield f"http://127.0.0.1:{port}"
