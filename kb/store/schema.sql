-- The SQLite schema of an index (kb.sqlite3). Table and column names are part of the interface:
-- people open the file in sqlite3 or datasette, and `kb check` reports by them.
-- Version 2 (meta.schema_version) added chunks.table_id and chunks.row_index, 3 chunks.ocr, 4 terms and chunk_terms;
-- kb/store/database.py upgrades older files.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, publisher TEXT,
    date_start TEXT NOT NULL, date_end TEXT NOT NULL,
    file TEXT NOT NULL, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL,
    toc_json TEXT NOT NULL, ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, title TEXT NOT NULL, section TEXT, page INTEGER, source TEXT,
    paragraphs_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, ordinal INTEGER NOT NULL, caption TEXT, unit TEXT, note TEXT,
    credit TEXT, headers_json TEXT NOT NULL, rows_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, province TEXT NOT NULL, policy_name TEXT, requirement TEXT,
    self_use_ratio TEXT, grid_ratio TEXT, release_date TEXT, status TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    type TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    ordinal INTEGER NOT NULL, embed_sha TEXT NOT NULL,
    table_id TEXT, row_index INTEGER,  -- the table row a table_row or policy chunk was made from
    ocr INTEGER NOT NULL DEFAULT 0  -- 1: read from a scanned page by OCR (a character may be wrong)
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS chunks_issue ON chunks(issue_id);
CREATE INDEX IF NOT EXISTS articles_issue ON articles(issue_id);
CREATE INDEX IF NOT EXISTS issues_dates ON issues(date_start, date_end);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.rowid;
END;
-- Per chunk, its FTS5 tokens with their title and body counts, for the keyword ranker (kb/store/keyword_stats.py).
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunk_terms (
    chunk INTEGER PRIMARY KEY REFERENCES chunks(rowid) ON DELETE CASCADE,
    cells BLOB NOT NULL  -- (term id int32, title count uint16, body count uint16) little-endian, by term id
);
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, sha TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, sha)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS table_cells (
    table_id TEXT NOT NULL REFERENCES tables(id) ON DELETE CASCADE, row_index INTEGER NOT NULL,
    col_index INTEGER NOT NULL, header TEXT NOT NULL, text TEXT NOT NULL, number NUMERIC, unit TEXT,
    date TEXT, PRIMARY KEY (table_id, row_index, col_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prices (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL, product TEXT NOT NULL, price REAL NOT NULL, low REAL, high REAL,
    unit TEXT NOT NULL, source TEXT
);
CREATE INDEX IF NOT EXISTS prices_product ON prices(product, unit);
CREATE TABLE IF NOT EXISTS article_signatures (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE, minhash BLOB NOT NULL
) WITHOUT ROWID;
