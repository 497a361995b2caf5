"""Typed table cells and price records, read from parsed issues (no index needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.parse import parse_issue
from indexer.prices import price_records
from indexer.typed import column_units, type_cell, typed_rows
from kb.models import Article, Table
from kb.numbers import PriceRecord, TypedCell, numeric_columns, product_name, row_order

from .conftest import REAL_ISSUE

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("658", TypedCell("658", number=658, unit="兆瓦")),
        ("1,862.5", TypedCell("1,862.5", number=1862.5, unit="兆瓦")),
        ("34.5元/千克", TypedCell("34.5元/千克", number=34.5, unit="元/千克")),
        ("0.67 元/W", TypedCell("0.67 元/W", number=0.67, unit="元/W")),
        ("26.3%", TypedCell("26.3%", number=26.3, unit="%")),
        ("3.864GW", TypedCell("3.864GW", number=3.864, unit="GW")),
        ("2025年6月17日", TypedCell("2025年6月17日", date="2025-06-17")),
        ("2025年4月", TypedCell("2025年4月", date="2025-04")),
        ("2025.6.30", TypedCell("2025.6.30", date="2025-06-30")),
        ("2025.5", TypedCell("2025.5", number=2025.5, unit="兆瓦")),  # a number, not a month
        ("≥50%", TypedCell("≥50%")),  # a bound stays text
        ("22个区县≥20% 其余区县≥40%", TypedCell("22个区县≥20% 其余区县≥40%")),
        ("绿", TypedCell("绿")),
        ("", TypedCell("")),
    ],
)
def test_a_cell_is_a_number_with_unit_an_iso_date_or_text(text, expected):
    assert type_cell(text, column_unit="兆瓦") == expected


def test_numbers_take_the_header_unit_then_the_table_unit_but_not_in_a_running_number_column():
    table = Table("容量表", ["序号", "县(市、区)名称", "可开放容量", "价格（元/W）"], [["1", "海宁市", "931", "0.67"]], unit="兆瓦")
    assert column_units(table) == [None, "兆瓦", "兆瓦", "元/W"]
    assert [(c.number, c.unit) for c in typed_rows(table)[0]] == [(1, None), (None, None), (931, "兆瓦"), (0.67, "元/W")]


def test_integers_stay_integers():
    assert isinstance(type_cell("931").number, int) and isinstance(type_cell("931.0").number, float)


def real_price_report():
    issue = parse_issue(REAL_ISSUE.read_text(encoding="utf-8"), REAL_ISSUE.name)
    return next(a for a in issue.articles if "供应链价格报告" in a.title)


def test_price_report_gives_one_record_per_quoted_product():
    records = {r.product: r for r in price_records(real_price_report())}
    assert len(records) == 14
    assert records["N型复投料"] == PriceRecord("N型复投料", 34.5, "元/千克")
    assert records["N型182单晶硅片"] == PriceRecord("N型182单晶硅片", 0.88, "元/Pc")
    assert records["M10单晶TOPCon电池片"] == PriceRecord("M10单晶TOPCon电池片", 0.225, "元/W")
    assert records["182mm TOPCon双面双玻组件"] == PriceRecord("182mm TOPCon双面双玻组件", 0.67, "元/W")
    assert records["2.0mm镀膜光伏玻璃"] == PriceRecord("2.0mm镀膜光伏玻璃", 12.5, "元/平米")


def test_a_quoted_range_keeps_both_ends_and_its_midpoint():
    article = Article("x-01", 1, "光伏产业供应链价格报告", None, None, None,
                      paragraphs=["210mm HJT 双面双玻组件报价为 0.70-0.74 元/W；N型复投料均价为 35 元/公斤。"])
    assert price_records(article) == [
        PriceRecord("210mm HJT双面双玻组件", 0.72, "元/W", low=0.7, high=0.74),
        PriceRecord("N型复投料", 35.0, "元/千克"),  # 元/公斤 is spelled as the report spells it elsewhere
    ]


def test_a_price_report_given_as_a_table_is_read_row_by_row():
    table = Table("主流产品价格", ["产品", "均价（元/W）", "涨跌"], [["182mm TOPCon 双面双玻组件", "0.68", "+0.01"]])
    article = Article("x-01", 1, "光伏产业链价格周报", None, None, None, tables=[table])
    assert price_records(article) == [PriceRecord("182mm TOPCon双面双玻组件", 0.68, "元/W")]


def test_prices_quoted_in_passing_outside_a_price_report_are_not_records():
    issue = parse_issue((DATA / "handmade-2025-12-29.txt").read_text(encoding="utf-8"), "handmade")
    article = issue.articles[0]
    assert "40.5元/千克" in article.text and price_records(article) == []


def test_product_names_ignore_spaces_beside_chinese_and_full_width_letters():
    assert product_name(" 182mm  ＴＯＰＣｏｎ 双面双玻组件 ") == "182mm TOPCon双面双玻组件"


def test_rows_sort_by_a_column_numbers_as_numbers_blanks_and_the_total_last():
    rows = [[1, "吴兴区", 402.5], [2, "南浔区", None], [3, "德清县", 45], [4, "长兴县", "待定"], ["合计", "", 1862.5]]
    assert [rows[i][1] for i in row_order(rows, 2)] == ["德清县", "吴兴区", "长兴县", "南浔区", ""]
    assert [rows[i][1] for i in row_order(rows, 2, descending=True)] == ["吴兴区", "德清县", "长兴县", "南浔区", ""]
    assert [rows[i][0] for i in row_order(rows, 1)] == sorted([1, 2, 3, 4], key=lambda i: rows[i - 1][1]) + ["合计"]
    assert numeric_columns(rows, 4) == [True, False, True, False]
