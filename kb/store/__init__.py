"""The SQL floor: every SQL statement of the project lives in this package.

`Store` is one SQLite index: `database` (connection, snapshots, generation, schema upgrades,
`schema.sql`), `writes` (a whole issue in one transaction, deletions, repairs), `reads` (what
search and the indexer read), `inventory` (counts and what `kb check` compares), `keyword_stats` (the per-chunk term
statistics of the keyword ranker, and `tokens`, FTS5's tokens of a text). The browsing
reads are `catalog.Catalog` and `numbers` (tables, prices, policies); `rows` holds the batched
`IN (…)` helper and the one row -> IssueRef/ArticleRef mapping every read shares.
"""

from __future__ import annotations

from .inventory import Inventory
from .keyword_stats import KeywordStats
from .reads import BM25_WEIGHTS, Reads
from .rows import HIT_COLUMNS, HIT_JOINS
from .writes import Writes

__all__ = ["BM25_WEIGHTS", "HIT_COLUMNS", "HIT_JOINS", "Store"]


class Store(Writes, Reads, Inventory, KeywordStats):
    """One SQLite index; a connection per thread so the web server's threads can share it."""
