"""The reads that take stock of an index: counts for `kb stats`, and what `kb check` compares
(SQLite's own checks, chunk and FTS rowids, chunks without their table place)."""

from __future__ import annotations

from .database import Database

COUNTED_TABLES = ("issues", "articles", "tables", "policies", "chunks", "chunks_fts", "chunk_terms", "embeddings")


class Inventory(Database):
    def counts(self) -> dict[str, dict[str, int]]:
        """Chunk counts per issue, section and type; row counts per table."""
        conn = self.connection()
        grouped = {
            "issue": "SELECT c.issue_id, count(*) FROM chunks c GROUP BY 1 ORDER BY 1",
            "section": "SELECT coalesce(a.section, '-'), count(*) FROM chunks c"
            " JOIN articles a ON a.id = c.article_id GROUP BY 1 ORDER BY 2 DESC",
            "type": "SELECT c.type, count(*) FROM chunks c GROUP BY 1 ORDER BY 2 DESC",
        }
        result = {name: {row[0]: row[1] for row in conn.execute(sql)} for name, sql in grouped.items()}
        result["rows"] = {table: self.row_count(table) for table in COUNTED_TABLES}
        return result

    def row_count(self, table: str) -> int:
        """Rows of one of the index's tables (a fixed name, never user text)."""
        return self.connection().execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def integrity(self) -> tuple[list[str], list[str]]:
        """(SQLite quick_check verdict lines, tables holding rows that point at missing parents)."""
        conn = self.connection()
        verdict = [r[0] for r in conn.execute("PRAGMA quick_check")]
        broken = [r[0] for r in conn.execute("PRAGMA foreign_key_check")]
        return verdict, broken

    def chunk_rowids(self) -> list[int]:
        return [r[0] for r in self.connection().execute("SELECT rowid FROM chunks ORDER BY rowid")]

    def highest_rowid(self) -> int:
        """The largest chunk rowid this database ever gave (AUTOINCREMENT never gives one twice), 0 if none."""
        row = self.connection().execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
        return int(row[0]) if row else 0

    def fts_rowids(self) -> list[int]:
        return [r[0] for r in self.connection().execute("SELECT rowid FROM chunks_fts ORDER BY rowid")]

    def unplaced_chunks(self) -> list[str]:
        """Table-row and policy chunks that do not know their table row (written before schema 2)."""
        return [r[0] for r in self.connection().execute(
            "SELECT id FROM chunks WHERE type != 'text' AND table_id IS NULL ORDER BY rowid")]
