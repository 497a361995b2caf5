"""A weekly report's passages are one family across issues and come newest first."""

from kb.recurring import Passage, families, newest_first

REPORT = "多晶硅 N型复投料均价 {} 元/吨，N型致密料均价 {} 元/吨，本周价格{}。硅片 182mm 均价 {} 元/片。"


def week(rowid, date, a, b, trend="持平", c=1.1):
    return Passage(rowid, "光伏产业供应链价格报告", date, REPORT.format(a, b, trend, c))


def test_weeks_of_a_report_are_refilled_newest_first_in_the_places_they_earned():
    story = Passage(9, "浙江首个“绿电码头”全面建成投用", "2025-06-23", "宁波舟山港梅山港区绿电码头")
    ranked = [week(1, "2025-07-07", 40.1, 38.2), story, week(2, "2025-09-01", 41.5, 39.0), week(3, "2025-08-04", 40.8, 38.9)]
    assert newest_first(ranked) == [2, 9, 3, 1]


def test_different_texts_under_one_title_are_not_a_family():
    a = Passage(1, "协会动态", "2025-07-07", "协会组织会员企业赴嘉善参观异质结组件工厂，交流降本经验。")
    b = Passage(2, "协会动态", "2025-08-04", "协会召开三季度理事会，审议新会员入会申请和年度预算。")
    assert families([a, b]) == []


def test_two_passages_of_one_issue_are_never_one_family():
    assert families([week(1, "2025-07-07", 40.1, 38.2), week(2, "2025-07-07", 40.1, 38.2)]) == []


def test_titles_that_differ_only_in_their_numbers_make_one_family():
    q3 = Passage(1, "3.881GW，浙江嘉兴市 2025 年 Q3 分布式光伏可开放容量公示", "2025-09-29", "县(市、区)名称：海宁市；可开放容量：880；预警等级：黄")
    q4 = Passage(2, "3.51GW，浙江嘉兴市 2025 年 Q4 分布式光伏可开放容量公示", "2025-12-08", "县(市、区)名称：海宁市；可开放容量：790；预警等级：黄")
    assert newest_first([q3, q4]) == [2, 1]
