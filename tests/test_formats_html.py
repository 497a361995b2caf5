"""HTML pages: a digest published as a web page, and single news articles (site and WeChat)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.parse import parse_issue
from indexer.readers import ReadError, read_document

from .conftest import REAL_ISSUE
from .format_writers import issue_fields, write_html

DATA = Path(__file__).parent / "data"
MAX_BYTES = 10_000_000


def read_page(path: Path) -> str:
    return read_document(path, MAX_BYTES)[1]


def page_issue(tmp_path: Path, name: str, html: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(html.encode(encoding))
    return parse_issue(read_page(path), name)


@pytest.mark.parametrize("source", [REAL_ISSUE, DATA / "handmade-2025-06-30.txt"], ids=lambda p: p.stem)
def test_digest_web_page_parses_to_the_same_issue_as_its_text_export(source, tmp_path):
    text = source.read_text(encoding="utf-8")
    page = write_html(text, tmp_path / f"{source.stem}.html")
    assert issue_fields(parse_issue(read_page(page), page.name)) == issue_fields(parse_issue(text, source.name))


def test_scripts_styles_navigation_and_footer_are_dropped(tmp_path):
    page = write_html((DATA / "handmade-2025-06-30.txt").read_text(encoding="utf-8"), tmp_path / "d.html")
    text = read_page(page)
    for noise in ("首页", "行业资讯", "脚本输出", "document.write", "text-indent", "热门文章", "版权所有"):
        assert noise not in text
    assert text.startswith("光伏信息精选\n")


DIGEST_PAGE = """<!DOCTYPE html><html><head><meta charset="gbk"><title>光伏信息精选</title></head><body>
<nav class="menu"><a href="/">首页</a></nav>
<div id="content">
  <h1>光伏信息精选</h1>
  <p>(2025. 07. 07-2025. 07. 13)</p>
  <p>示例光伏协会编</p>
  <h2>目 录</h2>
  <h3>行业聚焦</h3>
  <ol><li>组件排产环比下降 1</li><li>各区县可开放容量汇总 2</li></ol>
  <h3>政策信息</h3>
  <ol start="3"><li>示例省分时电价调整 3</li></ol>
  <h2>组件排产环比下降</h2>
  <p>7月国内组件排产约45GW，<br>环比下降约8%。</p>
  <p>（来源：示例咨询）</p>
  <h2>各区县可开放容量汇总</h2>
  <table>
    <caption>各区县可开放容量</caption>
    <tr><th>区县</th><th>季度</th><th>可开放容量（兆瓦）</th></tr>
    <tr><td rowspan="2">南湖区</td><td>Q2</td><td>658</td></tr>
    <tr><td>Q3</td><td>700</td></tr>
    <tr><td colspan="2">合计</td><td>1358</td></tr>
  </table>
  <h2>示例省分时电价调整</h2>
  <p>示例省发展改革委调整工商业分时电价时段。</p>
</div>
<footer>联系我们</footer>
</body></html>"""


def test_digest_page_with_ordered_list_toc_spanned_cells_and_gbk_encoding(tmp_path):
    issue = page_issue(tmp_path, "digest.html", DIGEST_PAGE, encoding="gbk")
    assert (issue.date_start, issue.date_end, issue.publisher) == ("2025-07-07", "2025-07-13", "示例光伏协会")
    assert [(a.title, a.section, a.page) for a in issue.articles] == [
        ("组件排产环比下降", "行业聚焦", 1),
        ("各区县可开放容量汇总", "行业聚焦", 2),
        ("示例省分时电价调整", "政策信息", 3),
    ]
    first, table_article, _ = issue.articles
    assert first.paragraphs == ["7月国内组件排产约45GW，环比下降约8%。"]  # a <br> mid-sentence
    assert first.source == "示例咨询"
    (table,) = table_article.tables
    assert table.caption == "各区县可开放容量"
    assert table.headers == ["区县", "季度", "可开放容量（兆瓦）"]
    assert table.rows == [["南湖区", "Q2", "658"], ["", "Q3", "700"], ["合计", "", "1358"]]


NEWS_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>湖州市公示三季度分布式光伏可开放容量 - 示例能源网</title>
<meta property="og:site_name" content="示例能源网">
<meta property="article:published_time" content="2025-07-02T09:30:00+08:00">
<style>.x { color: red }</style><script>window.dataLayer = [];</script>
</head><body>
<header><div class="logo">示例能源网</div><ul class="nav"><li>首页</li><li>光伏</li></ul></header>
<div class="breadcrumb">首页 &gt; 光伏 &gt; 正文</div>
<article>
  <h1>湖州市公示三季度分布式光伏可开放容量</h1>
  <div class="info">来源：湖州市发改委　发布时间：2025-07-02 09:30　浏览：1024</div>
  <p>7月2日，湖州市发改委公示了2025年三季度分布式光伏可开放容量。</p>
  <p>各区县明细如下：</p>
  <p>单位：兆瓦</p>
  <table>
    <thead><tr><th>区县</th><th>可开放容量</th></tr></thead>
    <tbody><tr><td>吴兴区</td><td>402.5</td></tr><tr><td>南浔区</td><td>318</td></tr></tbody>
  </table>
  <div class="share">分享到：微信 微博</div>
</article>
<aside class="related"><h3>相关阅读</h3><p>另一篇文章</p></aside>
<footer class="site-footer">版权所有</footer>
</body></html>"""


def test_single_article_page_becomes_an_issue_of_one_article_dated_by_the_page(tmp_path):
    issue = page_issue(tmp_path, "news.html", NEWS_PAGE)
    assert (issue.id, issue.date_start, issue.date_end) == ("2025-07-02", "2025-07-02", "2025-07-02")
    assert issue.title == "湖州市公示三季度分布式光伏可开放容量"
    assert issue.publisher == "示例能源网"
    (article,) = issue.articles
    assert (article.title, article.source, article.section, article.page) == (
        "湖州市公示三季度分布式光伏可开放容量", "湖州市发改委", None, None
    )
    assert article.paragraphs == ["7月2日，湖州市发改委公示了2025年三季度分布式光伏可开放容量。", "各区县明细如下："]
    (table,) = article.tables
    assert (table.unit, table.headers, table.rows) == ("兆瓦", ["区县", "可开放容量"], [["吴兴区", "402.5"], ["南浔区", "318"]])
    text = "\n".join(article.paragraphs)
    assert "分享到" not in text and "相关阅读" not in text and "浏览" not in text


WECHAT_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:title" content="BC组件出货量快速增长">
<script>var ct = "1751509800"; var msg_title = "BC组件出货量快速增长";</script>
</head><body>
<div id="img-content">
  <h1 class="rich_media_title" id="activity-name">
    BC组件出货量快速增长
  </h1>
  <div id="meta_content"><a id="js_name">嘉兴市光伏行业协会</a><em id="publish_time"></em></div>
  <div class="rich_media_content" id="js_content">
    <section><p><span>据统计，上半年</span><strong>BC组件</strong><span>出货量同比增长超过
    一倍。</span></p></section>
    <section><p>来源：示例光伏网</p></section>
  </div>
  <div id="js_pc_qr_code">扫码关注</div>
</div>
</body></html>"""


def test_wechat_article_is_dated_by_its_publish_time_and_named_by_its_account(tmp_path):
    issue = page_issue(tmp_path, "wechat.html", WECHAT_PAGE)
    assert issue.id == "2025-07-03"  # ct = 2025-07-03 02:30 UTC
    assert issue.publisher == "嘉兴市光伏行业协会"
    (article,) = issue.articles
    assert article.title == "BC组件出货量快速增长"
    assert article.paragraphs == ["据统计，上半年BC组件出货量同比增长超过一倍。"]
    assert article.source == "示例光伏网"


def test_a_single_article_page_without_a_date_is_a_read_error(tmp_path):
    path = tmp_path / "undated.html"
    path.write_text("<html><body><h1>无日期的文章</h1><p>正文。</p></body></html>", encoding="utf-8")
    with pytest.raises(ReadError, match="no publication date"):
        read_page(path)
