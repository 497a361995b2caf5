"""FTS5's own tokens of a text: what `chunks_fts` (unicode61, remove_diacritics 2) indexes, in Python.

The keyword ranker (kb/keyword_index.py) scores with term statistics kept beside FTS5's, so they
must come from exactly the tokens FTS5 makes. unicode61 works one character at a time: a
character separates tokens, joins a token (folded: lower case, diacritics removed), or is a
diacritic that joins and vanishes. Which of the three, and its fold, depend on the Unicode tables
compiled into this SQLite (it takes unassigned and private-use characters for token characters,
Python does not), so nothing is re-implemented: each character not seen before is asked of an
in-memory FTS5 table with the same tokenizer (``x<c>x`` gives one token or two), once per process,
and the answers become a `str.translate` table (separators to a space, folds and diacritics to
their replacement), after which tokenising is one translate and one split. Chinese text has a few
thousand distinct characters: ~0.1 s of probing for the first ingest, then ~20 us a chunk.
"""

from __future__ import annotations

import sqlite3
import threading

TOKENIZER = "unicode61 remove_diacritics 2"  # the tokenize option of chunks_fts in schema.sql


class Tokens:
    def __init__(self):
        self._table: dict[int, str] = {}  # code point -> what it becomes (" " separates)
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None

    def __call__(self, text: str) -> list[str]:
        """The tokens FTS5 makes of `text` (one column's value), in order."""
        table = self._table
        if any(ord(c) not in table for c in set(text)):
            table = self._learn(set(text))
        return text.translate(table).split()

    def _learn(self, chars: set[str]) -> dict[int, str]:
        with self._lock:
            unknown = sorted(c for c in chars if ord(c) not in self._table)
            if unknown:
                table = dict(self._table)
                table.update(self._ask(unknown))
                self._table = table  # replaced whole: readers on other threads see the old or the new
            return self._table

    def _ask(self, chars: list[str]) -> dict[int, str]:
        if self._probe is None:
            self._probe = sqlite3.connect(":memory:", check_same_thread=False)
            self._probe.execute(f"CREATE VIRTUAL TABLE probe USING fts5(c, tokenize = '{TOKENIZER}')")
            self._probe.execute("CREATE VIRTUAL TABLE probe_tokens USING fts5vocab(probe, instance)")
        conn = self._probe
        with conn:
            conn.execute("DELETE FROM probe")
            conn.executemany("INSERT INTO probe (rowid, c) VALUES (?, ?)",
                             [(i, f"x{c}x") for i, c in enumerate(chars)])
            found: dict[int, list[str]] = {}
            for term, doc in conn.execute("SELECT term, doc FROM probe_tokens ORDER BY doc, offset"):
                found.setdefault(doc, []).append(term)
        out = {}
        for i, c in enumerate(chars):
            tokens = found.get(i, [])
            # one token x?x: c joins, folded to the middle ("" for a diacritic); else it separates
            out[ord(c)] = tokens[0][1:-1] if len(tokens) == 1 else " "
        return out


fts_tokens = Tokens()
