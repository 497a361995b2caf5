"""Chunking: paragraph-aware text chunks with spans, one chunk per table row and policy clause."""

from __future__ import annotations

from collections import Counter

import pytest

from indexer.chunk import MAX_CHARS, chunk_issue
from indexer.parse import parse_issue

from .conftest import REAL_ISSUE


@pytest.fixture(scope="module")
def parsed():
    issue = parse_issue(REAL_ISSUE.read_text(encoding="utf-8"), REAL_ISSUE.name)
    return issue, chunk_issue(issue)


def test_chunk_types_cover_text_table_rows_and_policies(parsed):
    _, chunks = parsed
    assert Counter(c.type for c in chunks) == {"text": 18, "table_row": 9, "policy": 17}


def test_text_chunks_are_spans_of_their_article_and_keep_sentences_whole(parsed):
    issue, chunks = parsed
    articles = {a.id: a for a in issue.articles}
    for chunk in (c for c in chunks if c.type == "text"):
        body = articles[chunk.article_id].text
        assert body[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= MAX_CHARS * 1.3
        # a chunk starts at a paragraph or after a sentence end, and ends at one
        assert chunk.start == 0 or body[chunk.start - 1] in "\n。！？；"
        assert chunk.end == len(body) or body[chunk.end] == "\n" or body[chunk.end - 1] in "。！？；"


def test_articles_with_little_text_still_get_one_chunk_each(parsed):
    issue, chunks = parsed
    assert {c.article_id for c in chunks if c.type == "text"} == {a.id for a in issue.articles}


def test_embedded_text_carries_the_article_title(parsed):
    issue, chunks = parsed
    titles = {a.id: a.title for a in issue.articles}
    assert all(c.embed_text.startswith(titles[c.article_id] + "\n") for c in chunks)


def test_table_rows_read_with_their_headers_caption_and_unit(parsed):
    _, chunks = parsed
    haining = next(c for c in chunks if c.type == "table_row" and "海宁市" in c.text)
    assert haining.text == (
        "嘉兴市2025年二季度各县(市、区)分布式光伏可开放容量信息明细表（单位：兆瓦）\n"
        "序号：6；县(市、区)名称：海宁市；可开放容量：931；预警等级：绿"
    )


def test_policy_clauses_are_policy_chunks_with_labelled_fields(parsed):
    _, chunks = parsed
    policy = next(c for c in chunks if c.type == "policy" and "省份：内蒙古" in c.text)
    assert "自用比例：≥80%" in policy.text and "发布日期：2025年6月20日" in policy.text
    assert policy.start == policy.end == -1


def test_chunk_ids_are_unique_and_stable(parsed):
    issue, chunks = parsed
    assert len({c.id for c in chunks}) == len(chunks)
    assert chunks[0].id == "2025-06-23-01-001"
    assert [c.id for c in chunk_issue(issue)] == [c.id for c in chunks]
