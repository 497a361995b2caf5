"""Schemathesis against a live `kb serve` (tests/served.py): every operation /api/openapi.json
documents is fuzzed from its schema with a fixed seed and a bounded number of examples, valid and
invalid inputs both, and no answer may be a 5xx, an undocumented status or content type, or a
body that breaks its schema. About 1,300 requests in half a minute; the same command works by hand
(see README).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytest_plugins = ["tests.served"]

SCHEMATHESIS = Path(sys.executable).with_name("st")
# Every check about what the server answers. Left out: positive_data_acceptance (a schema-valid
# 2025-02-30 or date_from after date_to is a documented 400 JSON Schema cannot express) and
# negative_data_rejection (the server reads an empty or space-padded parameter as its default, as
# the HTML forms send it, and uses the first 200 characters of a text filter).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "unsupported_method",
          "allow_header_conformance")
SEED = 13
EXAMPLES = 100  # per operation and phase: about 20 s on two shared cores


def test_no_documented_operation_fails_the_schema_driven_fuzz(server, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.fail(f"schemathesis is a test extra: {SCHEMATHESIS} is missing (run scripts/setup.sh)")
    command = [str(SCHEMATHESIS), "run", f"{server}/api/openapi.json", "--checks", ",".join(CHECKS),
               "--phases", "examples,coverage,fuzzing", "--mode", "all", "--max-examples", str(EXAMPLES),
               "--seed", str(SEED), "--workers", "1", "--no-color", "--request-timeout", "30",
               "--report", "junit", "--report-dir", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache too
    report = run.stdout[-8000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    with urllib.request.urlopen(f"{server}/api/openapi.json") as response:
        documented = {f"GET {path}" for path in json.load(response)["paths"]}
    (junit,) = tmp_path.glob("*.xml")
    tested = set(re.findall(r'testcase name="([^"]+)"', junit.read_text()))
    assert tested == documented - {"GET /api/openapi.json"}, report  # schemathesis skips the document itself
