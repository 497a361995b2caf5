"""A session fixture (a pytest plugin, for the modules that name it in `pytest_plugins`): `kb serve`
as a subprocess on a free loopback port over a tmp copy of the two-issue index (already ingested
with the session model; the server loads its own). The browser tests and the schema-driven fuzz
run against it; it yields the base URL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import copy_of

pytest_plugins = ["tests.two_issues"]

START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kb serve exited with {process.returncode}: {process.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"kb serve did not answer {url} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def server(tmp_path_factory, two_issues_kb):
    data = copy_of(two_issues_kb, tmp_path_factory.mktemp("served")).settings.data_dir
    port = free_port()
    command = [sys.executable, "-c", "from cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--threads", "2", "--data-dir", str(data)]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base + "/healthz")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
