"""Tables, prices and policies across issues, read back from a real two-issue index."""

from __future__ import annotations

from kb.store.numbers import get_table, list_tables, policies, price_series

pytest_plugins = ["tests.two_issues"]


def test_every_table_keeps_typed_rows_numbers_units_and_iso_dates(two_issues_kb):
    table = get_table(two_issues_kb.store, "2025-06-30-03-t1")
    assert table["headers"] == ["序号", "区县名称", "可开放容量", "预警等级", "数据截止日期"]
    assert table["units"] == [None, None, "兆瓦", None, None]
    assert table["rows"][0] == [1, "吴兴区", 402.5, "绿", "2025-06-30"]
    assert table["rows"][-1] == ["合计", None, 1862.5, None, None]
    assert table["text_rows"][-1] == ["合计", "", "1,862.5", "", ""]
    assert (table["caption"], table["unit"], table["note"]) == (
        "湖州市2025年三季度各区县分布式光伏可开放容量明细表", "兆瓦", "具体以申请时实际可开放容量为准。"
    )


def test_typed_cells_are_numbers_in_sqlite_not_text(two_issues_kb):
    rows = two_issues_kb.store.connection().execute(
        "SELECT c.number, typeof(c.number), c.unit FROM table_cells c JOIN tables t ON t.id = c.table_id"
        " WHERE t.issue_id = '2025-06-23' AND c.header = '可开放容量' ORDER BY c.row_index"
    ).fetchall()
    assert [tuple(r) for r in rows][:2] == [(658, "integer", "兆瓦"), (320, "integer", "兆瓦")]
    total = two_issues_kb.store.connection().execute(
        "SELECT sum(number) FROM table_cells c JOIN tables t ON t.id = c.table_id"
        " WHERE t.issue_id = '2025-06-23' AND c.header = '可开放容量' AND c.row_index < 8"
    ).fetchone()[0]
    assert total == 3864


def test_policy_table_release_dates_are_iso_even_without_a_day(two_issues_kb):
    (table_summary,) = list_tables(two_issues_kb.store, caption="17省")["tables"]
    dates = [row[5] for row in get_table(two_issues_kb.store, table_summary["id"])["rows"]]
    assert dates[:4] == ["2025-03-17", "2025-03-20", "2025-03-25", "2025-04"]


def test_tables_list_filters_by_caption_issue_and_date(two_issues_kb):
    store = two_issues_kb.store
    assert list_tables(store)["total"] == 4
    captions = [t["caption"] for t in list_tables(store, caption="可开放容量")["tables"]]
    assert captions == ["湖州市2025年三季度各区县分布式光伏可开放容量明细表", "嘉兴市2025年二季度各县(市、区)分布式光伏可开放容量信息明细表"]
    assert {t["issue"]["id"] for t in list_tables(store, issue="2025-06-23")["tables"]} == {"2025-06-23"}
    assert {t["issue"]["id"] for t in list_tables(store, date_from="2025-07-01")["tables"]} == {"2025-06-30"}
    page = list_tables(store, limit=1, offset=1)
    assert page["total"] == 4 and len(page["tables"]) == 1
    assert list_tables(store, caption="100%_")["total"] == 0  # LIKE wildcards are literal


def test_price_series_runs_across_issues_oldest_first(two_issues_kb):
    (series,) = price_series(two_issues_kb.store, "N型复投料")
    assert (series["product"], series["unit"]) == ("N型复投料", "元/千克")
    assert [(p["date"], p["price"], p["issue"]["id"], p["source"]) for p in series["points"]] == [
        ("2025-06-29", 34.5, "2025-06-23", "集邦新能源"),
        ("2025-07-06", 35.5, "2025-06-30", "集邦新能源"),
    ]


def test_product_is_matched_as_spelled_in_the_report_or_by_part_of_its_name(two_issues_kb):
    store = two_issues_kb.store
    (module,) = price_series(store, "182mm TOPCon 双面双玻组件")
    assert [p["price"] for p in module["points"]] == [0.67, 0.68]
    topcon = {s["product"] for s in price_series(store, "TOPCon")}
    assert topcon == {"182mm TOPCon双面双玻组件", "M10单晶TOPCon电池片", "G12单晶TOPCon电池片", "G12R单晶TOPCon电池片"}
    assert price_series(store, "不存在的产品") == []


def test_price_series_date_filter_and_ranges(two_issues_kb):
    (later,) = price_series(two_issues_kb.store, "210mm HJT双面双玻组件", date_from="2025-07-01")
    (point,) = later["points"]
    assert (point["date"], point["price"], point["low"], point["high"]) == ("2025-07-06", 0.72, 0.7, 0.74)


def test_policies_of_a_province_across_issues_by_release_date(two_issues_kb):
    shandong = policies(two_issues_kb.store, province="山东")
    assert [(p["issue"]["id"], p["release_date"], p["status"]) for p in shandong] == [
        ("2025-06-23", "2025-06-17", "正式文件"),
        ("2025-06-30", "2025-07-01", "正式文件"),
    ]
    assert "电力现货市场" in shandong[1]["requirement"]
    assert shandong[1]["article"]["source"] == "示例光伏网"


def test_policies_filter_by_status_and_dates(two_issues_kb):
    store = two_issues_kb.store
    drafts = policies(store, status="征求意见")
    assert drafts and {p["status"] for p in drafts} == {"征求意见"}
    assert {p["province"] for p in policies(store, date_from="2025-07-01")} == {"山东", "河南", "江西"}
    assert len(policies(store)) == 20
