"""The data endpoints and pages over a real two-issue index: tables, prices, policies, related."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from web import api, data_api, data_pages, pages

pytest_plugins = ["tests.two_issues"]

WEB = Path(__file__).resolve().parent.parent / "web"


@pytest.fixture(scope="module")
def client(two_issues_kb):
    """The data blueprints on a bare Flask app, with the pages the site layout links to."""
    app = Flask("data_api_test", template_folder=str(WEB / "templates"), static_folder=str(WEB / "static"))
    app.extensions["kb"] = two_issues_kb
    for module in (pages, api, data_api, data_pages):
        app.register_blueprint(module.bp)
    return app.test_client()


def test_tables_list_filters_by_caption_and_date(client):
    body = client.get("/api/tables", query_string={"caption": "可开放容量", "date_from": "2025-07-01"}).get_json()
    assert body["total"] == 1
    (table,) = body["tables"]
    assert table["id"] == "2025-06-30-03-t1" and table["rows"] == 6 and table["issue"]["id"] == "2025-06-30"


def test_table_rows_are_typed_and_also_csv(client):
    table = client.get("/api/tables/2025-06-30-03-t1").get_json()
    assert table["rows"][1] == [2, "南浔区", 318, "绿", "2025-06-30"]
    response = client.get("/api/tables/2025-06-30-03-t1?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "2025-06-30-03-t1.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["序号", "区县名称", "可开放容量 (兆瓦)", "预警等级", "数据截止日期"]
    assert rows[1] == ["1", "吴兴区", "402.5", "绿", "2025-06-30"]
    assert rows[-1] == ["合计", "", "1862.5", "", ""]


def test_unknown_table_is_a_json_404_and_a_bad_format_a_400(client):
    missing = client.get("/api/tables/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    bad = client.get("/api/tables/2025-06-30-03-t1?format=xlsx")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_format"


def test_prices_give_a_series_across_two_issues(client):
    body = client.get("/api/prices", query_string={"product": "M10单晶TOPCon电池片"}).get_json()
    (series,) = body["series"]
    assert series["unit"] == "元/W"
    assert [(p["issue"]["id"], p["price"]) for p in series["points"]] == [("2025-06-23", 0.225), ("2025-06-30", 0.23)]
    later = client.get("/api/prices", query_string={"product": "M10单晶TOPCon电池片", "date_from": "2025-07-01"})
    assert [p["issue"]["id"] for p in later.get_json()["series"][0]["points"]] == ["2025-06-30"]


def test_policies_of_a_province_across_two_issues(client):
    body = client.get("/api/policies", query_string={"province": "山东"}).get_json()
    assert body["total"] == 2
    assert [(p["issue"]["id"], p["release_date"]) for p in body["policies"]] == [
        ("2025-06-23", "2025-06-17"), ("2025-06-30", "2025-07-01")
    ]


def test_related_articles_of_an_article_come_from_the_other_issue(client):
    body = client.get("/api/articles/2025-06-23-06/related", query_string={"k": 2}).get_json()
    assert len(body["related"]) == 2
    assert body["related"][0]["article"]["id"] == "2025-06-30-04"
    assert client.get("/api/articles/nope/related").status_code == 404


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/tables?date_from=yesterday", "invalid_date"),
        ("/api/prices?date_from=2025-07-01&date_to=2025-06-01", "invalid_date"),
        ("/api/tables?limit=0", "invalid_limit"),
        ("/api/tables?limit=ten", "invalid_limit"),
        ("/api/articles/2025-06-23-06/related?k=1000", "invalid_k"),
    ],
)
def test_bad_parameters_are_a_json_400_naming_the_parameter(client, url, code):
    response = client.get(url)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_table_page_shows_typed_rows_and_attribution(client):
    page = client.get("/tables/2025-06-30-03-t1").get_data(as_text=True)
    assert "湖州市2025年三季度各区县分布式光伏可开放容量明细表" in page
    assert "可开放容量（兆瓦）" in page and '<td class="num">1862.5</td>' in page
    assert "来源：湖州市发改委" in page and "format=csv" in page
    assert client.get("/tables/nope").status_code == 404


def test_tables_page_lists_tables(client):
    page = client.get("/tables?caption=17").get_data(as_text=True)
    assert "17省明确工商业光伏自用比例" in page and "湖州市" not in page


def test_price_page_draws_an_svg_chart_per_product_with_a_point_per_issue(client):
    page = client.get("/prices", query_string={"product": "N型复投料"}).get_data(as_text=True)
    assert page.count("<svg") == 1 and page.count('class="point"') == 2
    assert "2025-06-29: 34.5 元/千克" in page and "2025-07-06: 35.5 元/千克" in page
    assert "cdn" not in page.lower() and "<script" not in page
    everything = client.get("/prices").get_data(as_text=True)
    assert everything.count("<svg") == 14  # one chart per product the two reports quote


def table_page_cells(page: str) -> list[list[str]]:
    """The body cells of the table on a table page, as the reader sees them."""
    body = BeautifulSoup(page, "html.parser").select_one("table.data tbody")
    return [[td.get_text() for td in tr.find_all("td")] for tr in body.find_all("tr")]


def test_a_table_page_sorts_a_numeric_column_as_numbers_and_its_csv_equals_it(client):
    url = "/tables/2025-06-30-03-t1"
    page = client.get(url, query_string={"sort": "可开放容量", "order": "desc"}).get_data(as_text=True)
    cells = table_page_cells(page)
    capacities = [float(row[2]) for row in cells[:-1]]
    assert capacities == sorted(capacities, reverse=True) and len(capacities) == 5
    assert cells[-1][0] == "合计"  # the total row stays last
    assert 'aria-sort="descending"' in page
    ascending = [float(row[2]) for row in table_page_cells(client.get(url + "?sort=可开放容量").get_data(as_text=True))[:-1]]
    assert ascending == sorted(capacities)
    csv_link = BeautifulSoup(page, "html.parser").select_one("a.download")["href"]
    assert "sort=" in csv_link and "order=desc" in csv_link
    rows = list(csv.reader(io.StringIO(client.get(csv_link).get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1:] == cells


@pytest.mark.parametrize(("query", "code"), [({"sort": "没有这一列"}, "invalid_sort"),
                                             ({"sort": "序号", "order": "up"}, "invalid_order")])
def test_sorting_by_a_column_the_table_lacks_is_a_400(client, query, code):
    response = client.get("/api/tables/2025-06-30-03-t1", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


def test_data_pages_share_the_site_layout(client):
    for url in ("/tables", "/tables/2025-06-30-03-t1", "/prices"):
        page = client.get(url).get_data(as_text=True)
        assert '<header class="site">' in page and "/static/style.css" in page, url
        assert "<style>" not in page, url
