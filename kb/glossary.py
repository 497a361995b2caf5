"""English -> Chinese query expansion from a photovoltaic glossary shipped in the repo.

Researchers search in English ("perovskite tandem", "self-consumption ratio Shandong"); the
corpus is Chinese. Glossary phrases found in the query (longest first, on word boundaries)
add their Chinese terms to the query; the English words stay, so names like "HPBC" still match.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary_en_zh.tsv"
LATIN = re.compile(r"[A-Za-z]")


@lru_cache(maxsize=1)
def glossary() -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    for line in GLOSSARY_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, chinese = line.partition("\t")
        entries[english.strip().lower()] = tuple(chinese.split())
    return entries


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    phrases = sorted(glossary(), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(p) for p in phrases) + r")(?![a-z0-9])")


def expand_query(query: str) -> str:
    """The query plus the Chinese terms of every glossary phrase in it (unchanged if none)."""
    if not LATIN.search(query):
        return query
    added: list[str] = []
    for match in _pattern().finditer(query.lower()):
        for term in glossary()[match.group(1)]:
            if term not in added and term not in query:
                added.append(term)
    return f"{query} {' '.join(added)}" if added else query
