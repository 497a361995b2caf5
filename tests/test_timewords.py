"""Time words read into a date range relative to the newest issue: a week filters, a month boosts."""

import pytest

from kb.timewords import interpret, time_words

NEWEST = ("2025-12-08", "2025-12-14")


@pytest.mark.parametrize("query, expected", [
    ("8月11日当周N型复投料均价", ("2025-08-11", "2025-08-11", "filter", "8月11日当周")),
    ("6月30日那周182mm TOPCon双面双玻组件报价是多少", ("2025-06-30", "2025-06-30", "filter", "6月30日那周")),
    ("2025年11月3日这周182mm TOPCon", ("2025-11-03", "2025-11-03", "filter", "2025年11月3日这周")),
    ("上周组件价格", ("2025-12-01", "2025-12-07", "filter", "上周")),
    ("三季度嘉兴新增装机", ("2025-07-01", "2025-09-30", "boost", "三季度")),
    ("2025年1-8月全国光伏新增装机是多少", ("2025-01-01", "2025-12-31", "boost", "2025年")),
    ("最新 N型致密料均价", ("2025-12-08", "2025-12-14", "boost", "最新")),
    ("本月装机", ("2025-12-01", "2025-12-31", "boost", "本月")),
    ("截至2025年10月全国累计核发绿证数量", ("2025-10-01", "2025-10-31", "boost", "2025年10月")),
    ("2013年发生了什么", ("2013-01-01", "2013-12-31", "boost", "2013年")),
])
def test_time_expressions_become_a_filter_or_a_boost(query, expected):
    found = interpret(query, NEWEST)
    assert (found.date_from, found.date_to, found.mode, found.from_text) == expected


def test_a_day_without_its_year_is_the_latest_such_day_not_after_the_newest_issue():
    assert interpret("12月20日当周", NEWEST).date_from == "2024-12-20"
    assert interpret("12月1日当周", NEWEST).date_from == "2025-12-01"


@pytest.mark.parametrize("query", ["绿电码头", "2月30日当周", "3.864GW", "TOPCon 电池"])
def test_no_time_expression_no_interpretation(query):
    assert interpret(query, NEWEST) is None


def test_nothing_is_interpreted_without_issues():
    assert interpret("8月11日当周", None) is None


def test_time_words_lists_every_expression():
    assert "8月11日当周" in time_words("8月11日当周N型复投料均价")
