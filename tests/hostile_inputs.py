"""Hostile search parameters, read from tests/data/hostile_queries.json: the same file
scripts/load_test.py reads, so the load test sends exactly what the tests check.

Each entry is a name and a raw query string without `mode`, already %-encoded, so bytes that
are not UTF-8 (a lone surrogate %ED%A0%80, %FF) reach the server as they would from a hostile
client; `error` is the code it must be answered with when the answer is not "any 200 or 400".
"""

from __future__ import annotations

import json
from pathlib import Path

HOSTILE_FILE = Path(__file__).resolve().parent / "data" / "hostile_queries.json"
_ENTRIES = json.loads(HOSTILE_FILE.read_text(encoding="utf-8"))

HOSTILE_QUERIES: list[tuple[str, str]] = [(entry["name"], entry["query_string"]) for entry in _ENTRIES]
EXPECTED_ERRORS: dict[str, str] = {entry["name"]: entry["error"] for entry in _ENTRIES if "error" in entry}
