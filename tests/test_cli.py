"""The `kb` command line, run through click's runner against real indexes."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from cli import main

from .conftest import REAL_ISSUE


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_search_json_prints_the_contract(corpus_kb):
    data_dir = str(corpus_kb.settings.data_dir)
    result = invoke("search", "绿电码头", "--mode", "keyword", "--json", "--data-dir", data_dir)
    assert result.exit_code == 0
    response = json.loads(result.output)
    assert response["results"][0]["article"]["source"] == "浙江省太阳能光伏行业协会"


def test_search_readable_output_has_title_attribution_and_snippet(corpus_kb):
    result = invoke("search", "内蒙古 自用比例", "--mode", "keyword", "--type", "policy",
                    "--data-dir", str(corpus_kb.settings.data_dir))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "17 省分布式新规" in lines[2]
    assert lines[3].strip() == "光伏信息精选 2025.06.23–06.29 · 政策信息 · 第13页"
    assert "内蒙古" in lines[4]


def test_batch_mode_reads_queries_from_stdin_and_writes_json_lines(corpus_kb):
    result = invoke("search", "-", "--mode", "keyword", "--data-dir", str(corpus_kb.settings.data_dir),
                    input="绿电码头\n\n碳足迹\n   \n")
    responses = [json.loads(line) for line in result.output.splitlines()]
    assert [r["query"] for r in responses] == ["绿电码头", "碳足迹"]
    assert all(r["results"] for r in responses)


def test_bad_search_parameters_give_a_usage_error(corpus_kb):
    result = CliRunner().invoke(main, ["search", "光伏", "--date-from", "2025-99-01", "--mode", "keyword",
                                       "--data-dir", str(corpus_kb.settings.data_dir)])
    assert result.exit_code == 2 and "date_from must be a date" in result.output


def test_stats_counts_issues_sections_and_types(corpus_kb):
    result = invoke("stats", "--json", "--data-dir", str(corpus_kb.settings.data_dir))
    stats = json.loads(result.output)
    assert stats["type"] == {"policy": 17, "text": 18, "table_row": 9}
    assert stats["section"]["政策信息"] == 19
    assert stats["rows"]["chunks"] == stats["rows"]["chunks_fts"] == 44
    assert stats["files"]["vectors_bytes"] > 44 * 512 * 4


def test_eval_prints_a_metrics_table(corpus_kb, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"id": "a", "kind": "keyword", "q": "绿电码头", "article": "绿电码头"}\n'
        '{"id": "b", "kind": "table", "q": "海宁市 可开放容量", "article": "可开放容量", "contains": ["海宁"]}\n'
        '{"id": "c", "kind": "table", "q": "不存在的词语组合", "article": "可开放容量", "contains": ["不存在"]}\n',
        encoding="utf-8",
    )
    result = invoke("eval", str(queries), "--mode", "keyword", "--data-dir", str(corpus_kb.settings.data_dir))
    header, _, row, footer = result.output.splitlines()
    assert header.split() == ["mode", "MRR@10", "hit@1", "hit@5", "empty", "keyword", "table"]
    assert row.split() == ["keyword", "0.667", "0.667", "0.667", "0.333", "1.000", "0.500"]  # c finds nothing
    assert footer.startswith("(3 answerable queries")


def test_ingest_skips_an_unchanged_file_and_fails_on_a_bad_one(corpus_kb, tmp_path):
    data_dir = tmp_path / "index"
    shutil.copytree(corpus_kb.settings.data_dir, data_dir)
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["ingest", str(REAL_ISSUE), str(bad), "--quiet", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert "0 added, 0 replaced, 1 unchanged" in result.output
    assert f"{bad}: the file is empty" in result.output
