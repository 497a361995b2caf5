"""The parser on the real issue and on a hand-made issue in the same format."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.parse import ParseError, parse_issue
from indexer.text import ends_sentence, is_heading_like

from .conftest import REAL_ISSUE

HANDMADE = Path(__file__).parent / "data" / "handmade-2025-12-29.txt"


@pytest.fixture(scope="module")
def issue():
    return parse_issue(REAL_ISSUE.read_text(encoding="utf-8"), REAL_ISSUE.name)


@pytest.fixture(scope="module")
def handmade():
    return parse_issue(HANDMADE.read_text(encoding="utf-8"), HANDMADE.name)


def test_header_gives_title_publisher_and_iso_date_range(issue):
    assert issue.title == "光伏信息精选"
    assert issue.publisher == "嘉兴市光伏行业协会"
    assert (issue.date_start, issue.date_end) == ("2025-06-23", "2025-06-29")
    assert issue.id == "2025-06-23"
    assert issue.file == "pv-digest-2025-06-23.txt"


EXPECTED_ARTICLES = [
    # (title fragment, section, page, source)
    ("绿电码头", "行业聚焦", 1, "浙江省太阳能光伏行业协会"),
    ("三链融合", "行业聚焦", 2, None),
    ("内卷式", "行业聚焦", 3, "人民日报"),
    ("供应链价格报告", "行业聚焦", 4, "集邦新能源"),
    ("可开放容量公示", "行业聚焦", 5, "嘉兴市发改委"),
    ("双自由基", "行业聚焦", 6, "印刷钙钛矿光电器件"),
    ("印尼组件制造工厂", "企业动态", 8, "隆基绿能"),
    ("白皮书", "企业动态", 9, "阿特斯阳光电力集团"),
    ("17 省分布式新规", "政策信息", 13, None),
    ("碳足迹", "政策信息", 16, None),
]


def test_ten_articles_have_their_sections_pages_and_sources(issue):
    assert len(issue.articles) == 10
    for article, (fragment, section, page, source) in zip(issue.articles, EXPECTED_ARTICLES):
        assert fragment in article.title
        assert (article.section, article.page, article.source) == (section, page, source), article.title


def test_wrapped_toc_titles_are_joined_with_their_page(issue):
    titles = [entry.title for entry in issue.toc]
    assert "人民日报点名光伏组件价格竞争，将采取多项措施破除“内卷式”竞争" in titles
    assert issue.toc[5].title.endswith("双自由基分子用于钙钛矿光伏") and issue.toc[5].page == 6
    assert issue.toc[4].title.endswith("可开放容量公示")  # the stray " ." before the page is dropped


def test_source_lines_are_not_left_in_the_body(issue):
    for article in issue.articles:
        assert not any("来源" in p and len(p) < 40 for p in article.paragraphs), article.title


@pytest.mark.parametrize(
    "joined",
    ["是全球少数拥有“船到船”同步加注", "鉴衡认证太阳能事业部周罡总经理、浙江鸿禧", "带来了全新的高效解决方案", "测试标准，新一代 N 型高功率组件历经"],
)
def test_sentences_split_by_page_breaks_are_rejoined(issue, joined):
    assert any(joined in p for article in issue.articles for p in article.paragraphs)


def test_no_paragraph_ends_mid_sentence_unless_it_is_a_heading(issue):
    for article in issue.articles:
        for paragraph in article.paragraphs[:-1]:
            assert ends_sentence(paragraph) or is_heading_like(paragraph), paragraph


def test_capacity_table_has_caption_unit_note_and_rows(issue):
    (table,) = issue.articles[4].tables
    assert table.caption == "嘉兴市2025年二季度各县(市、区)分布式光伏可开放容量信息明细表"
    assert table.unit == "兆瓦"
    assert table.note.startswith("该数据为截止到2025年3月31日数据")
    assert table.headers == ["序号", "县(市、区)名称", "可开放容量", "预警等级"]
    assert len(table.rows) == 9
    assert table.row_dicts()[5] == {"序号": "6", "县(市、区)名称": "海宁市", "可开放容量": "931", "预警等级": "绿"}


def test_policy_table_rows_become_seventeen_clauses(issue):
    article = issue.articles[8]
    (table,) = article.tables
    assert table.caption == "17省明确工商业光伏自用比例"
    assert table.credit == "光伏头条"
    clauses = {c.province: c for c in article.policies}
    assert len(clauses) == 17
    inner_mongolia = clauses["内蒙古"]
    assert inner_mongolia.release_date == "2025-06-20"
    assert inner_mongolia.status == "正式文件"
    assert inner_mongolia.self_use_ratio == "≥80%" and inner_mongolia.grid_ratio == "≤20%"
    assert "不应低于80%" in inner_mongolia.requirement
    assert clauses["宁夏"].status == "征求意见"
    assert clauses["辽宁"].release_date == "2025-04"  # the table gives only the month


def test_policy_summary_lines_stay_searchable_text(issue):
    paragraphs = issue.articles[8].paragraphs
    assert "2省要求80%以上：吉林、内蒙古；" in paragraphs


def test_handmade_issue_with_other_sections_titles_and_dates(handmade):
    assert (handmade.date_start, handmade.date_end) == ("2025-12-29", "2026-01-04")  # crosses the year
    assert handmade.publisher == "示例光伏协会"
    assert [a.section for a in handmade.articles] == ["市场观察", "市场观察", "海外市场", "地方政策"]
    assert [a.page for a in handmade.articles] == [1, 2, 4, 6]
    assert [a.source for a in handmade.articles] == ["示例硅业分会", None, "示例能源观察", None]


def test_handmade_title_with_trailing_number_and_wrapped_title_are_found(handmade):
    assert handmade.articles[1].title == "异质结电池量产效率突破26.5%，设备国产化率提升至95%"
    assert handmade.articles[2].title.endswith("组件供应商集中度进一步提高")
    assert handmade.articles[2].paragraphs[0].startswith("沙特某2GW光伏项目")


def test_handmade_page_break_and_policy_clause(handmade):
    assert "将继续执行联合控产计划" in handmade.articles[0].paragraphs[0]
    (clause,) = handmade.articles[3].policies
    assert (clause.province, clause.release_date, clause.status) == ("示例省", "2025-12-30", "正式文件")
    assert handmade.articles[3].tables[0].credit == "示例网"


def test_text_without_issue_header_is_rejected():
    with pytest.raises(ParseError, match="no issue date range"):
        parse_issue("随便一段文字\n\n没有期刊信息。", "note.txt")


def test_text_without_contents_is_rejected():
    with pytest.raises(ParseError, match="no table of contents"):
        parse_issue("光伏信息精选\n\n(2025. 06. 23-2025. 06. 29)\n\n正文。", "no-toc.txt")


def test_a_first_title_starting_with_a_number_ends_the_contents_in_the_body():
    """"3.864GW，…" in the body looks like contents entry 3; it is the first article's title."""
    text = REAL_ISSUE.read_text(encoding="utf-8")
    original = parse_issue(text, REAL_ISSUE.name)
    first = original.articles[0].title
    renamed = parse_issue(text.replace(first, "3.864GW，" + first), REAL_ISSUE.name)
    assert [a.title for a in renamed.articles] == ["3.864GW，" + first] + [a.title for a in original.articles[1:]]
    assert [len(a.paragraphs) for a in renamed.articles] == [len(a.paragraphs) for a in original.articles]
