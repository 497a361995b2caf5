"""Answer cards: a query naming a price, a table cell or a policy clause gets the value, its unit,
issue and source, latest first with its history; a query naming nothing structured gets none."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from web import create_app

pytest_plugins = ["tests.two_issues"]


@pytest.fixture(scope="module")
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def answers(client, q, **params):
    body = client.get("/api/search", query_string={"q": q, **params}).get_json()
    return body["answers"]


def test_a_price_card_is_the_newest_week_with_the_earlier_weeks_as_history(client):
    (card,) = answers(client, "N型致密料均价")
    assert (card["kind"], card["subject"], card["value"], card["unit"]) == ("price", "N型致密料", "33", "元/千克")
    assert card["issue"]["id"] == "2025-06-30" and card["note"] == "集邦新能源"
    assert [(h["value"], h["issue"]["id"]) for h in card["history"]] == [("32", "2025-06-23")]


def test_a_named_week_shows_that_weeks_value(client):
    (card,) = answers(client, "6月23日当周N型致密料均价", interpret="true")
    assert (card["value"], card["issue"]["id"]) == ("32", "2025-06-23")


def test_a_table_cell_and_a_policy_clause(client):
    (cell,) = answers(client, "海宁市 可开放容量")
    assert (cell["kind"], cell["subject"], cell["value"], cell["unit"]) == ("table", "海宁市 · 可开放容量", "931", "兆瓦")
    assert "可开放容量" in cell["note"] and cell["issue"]["id"] == "2025-06-23"
    (clause,) = answers(client, "内蒙古 自用比例")
    assert (clause["kind"], clause["subject"], clause["value"]) == ("policy", "内蒙古 · 自用比例", "≥80%")
    assert "2025-06-20 发布" in clause["note"] and "内蒙古" in clause["note"]  # the policy and its date


@pytest.mark.parametrize("query", ["绿电码头", "量子计算", "上海市 可开放容量", "西藏 自用比例", "钙钛矿组件价格"])
def test_a_query_naming_nothing_structured_shows_no_card(client, query):
    assert answers(client, query) == []


def test_the_page_shows_the_card_above_the_results_with_its_history(client):
    soup = BeautifulSoup(client.get("/search", query_string={"q": "N型致密料均价"}).get_data(as_text=True), "html.parser")
    card = soup.select_one("section.answer[data-kind=price]")
    assert card.select_one(".value strong").get_text() == "33" and "元/千克" in card.select_one(".value").get_text()
    assert "2025.06.30" in card.select_one(".attribution").get_text()
    assert card.select_one(".history svg") is not None and len(card.select(".history li")) == 1
    none = BeautifulSoup(client.get("/search", query_string={"q": "绿电码头"}).get_data(as_text=True), "html.parser")
    assert none.select("section.answer") == []
