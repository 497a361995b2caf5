"""`Issue` -> `Chunk`s: paragraph-aware text chunks, one chunk per table row and per policy clause.

Text chunks pack whole paragraphs (long paragraphs split at sentence ends) into roughly
MIN_CHARS..MAX_CHARS characters and know their span in `Article.text`. What the model embeds
carries the article title as context. A chunk holding text read by OCR is marked `ocr`: it
shares a run of OCR_RUN characters with a line the reader OCR'd (`DocumentText.ocr`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from kb.models import PARAGRAPH_SEPARATOR, Article, Chunk, Issue, Table, embedding_text
from kb.numbers import table_id

MIN_CHARS = 150
MAX_CHARS = 500
SENTENCE_END = re.compile(r"(?<=[。！？；!?])")
OCR_RUN = 12  # long enough that two different sentences do not share one


def chunk_issue(issue: Issue, ocr_lines: Iterable[str] = ()) -> list[Chunk]:
    chunks: list[Chunk] = []
    for article in issue.articles:
        chunks.extend(chunk_article(issue.id, article))
    runs = {run for line in ocr_lines for run in _runs(line)}
    for chunk in chunks:
        chunk.ocr = bool(runs) and not runs.isdisjoint(_runs(chunk.text))
    return chunks


def _runs(text: str) -> set[str]:
    """The text's OCR_RUN-character runs, spaces ignored (a line wrap may add or drop one)."""
    squeezed = "".join(text.split())
    return {squeezed[i : i + OCR_RUN] for i in range(len(squeezed) - OCR_RUN + 1)}


def chunk_article(issue_id: str, article: Article) -> list[Chunk]:
    pieces: list[tuple[str, str, int, int, str | None, int | None]] = []  # (type, text, start, end, table, row)
    text = article.text
    for start, end in _text_spans(article):
        pieces.append(("text", text[start:end], start, end, None, None))
    policy_tables = {clause.table_index for clause in article.policies}
    for table_index, table in enumerate(article.tables):
        if table_index in policy_tables:
            continue
        for row_index, row in enumerate(table.rows):
            pieces.append(("table_row", table_row_text(table, row), -1, -1, table_id(article.id, table_index + 1),
                           row_index))
    for clause in article.policies:
        table = article.tables[clause.table_index]
        pieces.append(("policy", table_row_text(table, table.rows[clause.row_index]), -1, -1,
                       table_id(article.id, clause.table_index + 1), clause.row_index))
    return [
        Chunk(
            id=f"{article.id}-{ordinal:03d}",
            issue_id=issue_id,
            article_id=article.id,
            type=kind,
            text=piece,
            embed_text=embedding_text(article.title, piece),
            start=start,
            end=end,
            ordinal=ordinal,
            table_id=table,
            row_index=row,
        )
        for ordinal, (kind, piece, start, end, table, row) in enumerate(pieces, start=1)
    ]


def table_row_text(table: Table, row: list[str]) -> str:
    """'caption（单位：兆瓦）\\n县(市、区)名称：海宁市；可开放容量：931；…' — a row readable on its own."""
    heading = table.caption or ""
    if table.unit:
        heading += f"（单位：{table.unit}）"
    cells = "；".join(f"{header}：{value}" for header, value in zip(table.headers, row) if value.strip())
    return f"{heading}\n{cells}" if heading else cells


def _units(article: Article) -> Iterator[tuple[int, int]]:
    """Spans of whole paragraphs, or of sentences when a paragraph is longer than MAX_CHARS."""
    offset = 0
    for paragraph in article.paragraphs:
        if len(paragraph) <= MAX_CHARS:
            yield offset, offset + len(paragraph)
        else:
            position = offset
            for sentence in SENTENCE_END.split(paragraph):
                # a run-on "sentence" longer than a chunk is cut into chunk-sized pieces
                for cut in range(0, len(sentence), MAX_CHARS):
                    piece = sentence[cut : cut + MAX_CHARS]
                    yield position, position + len(piece)
                    position += len(piece)
        offset += len(paragraph) + len(PARAGRAPH_SEPARATOR)


def _text_spans(article: Article) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for start, end in _units(article):
        if current is None:
            current = (start, end)
        elif (current[1] - current[0]) >= MIN_CHARS and end - current[0] > MAX_CHARS:
            spans.append(current)
            current = (start, end)
        else:
            current = (current[0], end)
    if current is not None:
        if spans and current[1] - current[0] < MIN_CHARS // 2 and current[1] - spans[-1][0] <= MAX_CHARS * 1.3:
            spans[-1] = (spans[-1][0], current[1])  # fold a short tail into the chunk before it
        else:
            spans.append(current)
    return spans
