"""The layout layer every reader writes through: merged cells, letter spacing, page numbers, wraps."""

from __future__ import annotations

import pytest

from indexer.formats.layout import (FROM_ABOVE, FROM_LEFT, clean_line, join_wrapped, logical_rows, page_label,
                                    unspace_letter_spaced)


def test_a_header_spanning_columns_over_a_second_header_row_becomes_one_header_row():
    grid = [
        ["省份", "比例", FROM_LEFT, "发布日期"],
        [FROM_ABOVE, "自用比例", "上网比例", FROM_ABOVE],
        ["江苏", "≥50%", "≤50%", "2025年4月29日"],
    ]
    assert logical_rows(grid) == [["省份", "比例·自用比例", "比例·上网比例", "发布日期"],
                                  ["江苏", "≥50%", "≤50%", "2025年4月29日"]]


def test_a_cell_merged_down_is_in_every_row_and_one_merged_across_is_once():
    grid = [
        ["序号", "名称", "容量", "发布日期"],
        ["1", "南湖区", "658", "2025年4月29日"],
        ["2", "秀洲区", "330", FROM_ABOVE],
        ["合计", FROM_LEFT, "988", ""],
    ]
    header, *rows = logical_rows(grid)
    assert header == ["序号", "名称", "容量", "发布日期"]
    assert rows == [["1", "南湖区", "658", "2025年4月29日"], ["2", "秀洲区", "330", "2025年4月29日"],
                    ["合计", "", "988", ""]]


def test_a_body_row_with_a_cell_merged_down_is_not_taken_for_a_header_row():
    grid = [["省份", "日期"], ["江苏", "4月29日"], ["山西", FROM_ABOVE]]
    assert logical_rows(grid)[0] == ["省份", "日期"] and len(logical_rows(grid)) == 3


@pytest.mark.parametrize(("spaced", "joined"), [
    ("光 伏 信 息 精 选", "光伏信息精选"),  # spread by justification
    ("浙 江 首 个 “ 绿 电 码 头 ” 全 面 建 成", "浙江首个“绿电码头”全面建成"),
    ("嘉 兴 市 2025 年 二 季 度", "嘉兴市 2025 年二季度"),  # spaces beside digits are the writer's
])
def test_letter_spaced_chinese_loses_its_spaces(spaced, joined):
    assert clean_line(spaced) == joined


def test_a_writers_occasional_space_between_chinese_words_stays_unless_the_line_was_ocrd():
    assert clean_line("三链融合 为光伏产业高质量发展赋能") == "三链融合 为光伏产业高质量发展赋能"
    assert unspace_letter_spaced("行业 聚焦", ocr=True) == "行业聚焦"
    assert unspace_letter_spaced("TOPCon 电池 N 型", ocr=True) == "TOPCon 电池 N 型"


@pytest.mark.parametrize(("line", "label"), [
    ("第 3 页", 3), ("第12页 共20页", 12), ("- 7 -", 7), ("7", 7), ("Page 4 of 9", 4), ("第三章", None),
    ("2025年", None),
])
def test_printed_page_numbers_are_recognised_in_the_forms_office_suites_print(line, label):
    assert page_label(line) == label


@pytest.mark.parametrize(("first", "second", "joined"), [
    ("TOP-", "Con 电池", "TOP-Con 电池"),  # wrapped at its hyphen: no space
    ("N", "型电池", "N型电池"),
    ("modules,", "10.05 元", "modules, 10.05 元"),
    ("high", "efficiency", "high efficiency"),
    ("光伏", "组件", "光伏组件"),
])
def test_wrapped_lines_rejoin_as_they_were_written(first, second, joined):
    assert join_wrapped(first, second) == joined
