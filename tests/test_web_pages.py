"""The Chinese pages through Flask's test client: search with facets, article, issues, error states."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from web import create_app

pytest_plugins = ["tests.two_issues"]

WEB = Path(__file__).resolve().parent.parent / "web"


@pytest.fixture(scope="module")
def client(two_issues_kb):
    return create_app(kb=two_issues_kb).test_client()


def page(client, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def query_of(href: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}


# ---- search ------------------------------------------------------------------------------------


def test_results_show_highlighted_snippet_and_attribution(client):
    soup = page(client, "/search?q=绿电码头&mode=keyword")
    first = soup.select_one("li.result")
    assert "绿电码头" in [mark.get_text() for mark in first.select(".snippet mark")]
    attributions = {li.select_one(".attribution").get_text() for li in soup.select("li.result")}
    assert "「光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第1页 · 来源：浙江省太阳能光伏行业协会」" in attributions


def test_the_result_links_to_its_passage_in_the_article(client):
    soup = page(client, "/search?q=钙钛矿&mode=keyword")
    link = soup.select_one("li.result h2 a")["href"]
    parts = urlsplit(link)
    assert parts.path.startswith("/articles/") and parts.fragment
    assert query_of(link) == {"q": "钙钛矿", "hit": parts.fragment}


def test_facet_links_keep_the_query_and_add_one_filter(client):
    soup = page(client, "/search?q=钙钛矿&mode=keyword")
    sections = {a.get_text(): a["href"] for a in soup.select('[data-facet="section"] a')}
    assert query_of(sections["技术前沿"]) == {"q": "钙钛矿", "mode": "keyword", "section": "技术前沿"}
    periods = {a.get_text(): a["href"] for a in soup.select('[data-facet="issue"] a')}
    assert query_of(periods["2025.06.30–07.06"]) == {"q": "钙钛矿", "mode": "keyword", "date_from": "2025-06-30",
                                                     "date_to": "2025-07-06"}
    counts = [int(span.get_text()) for span in soup.select('[data-facet="issue"] .count')]
    assert sum(counts) == int(soup.select_one(".summary .total").get_text())


def test_a_date_range_in_the_url_filters_and_fills_the_form(client):
    soup = page(client, "/search?q=钙钛矿&mode=keyword&date_from=2025-06-30")
    assert {li["data-issue"] for li in soup.select("li.result")} == {"2025-06-30"}
    assert soup.select_one('input[name="date_from"]')["value"] == "2025-06-30"
    chip = soup.select_one(".active-filters a.chip")
    assert "2025-06-30" in chip.get_text() and "date_from" not in query_of(chip["href"])
    assert [a.get_text() for a in soup.select('[data-facet="issue"] a')] == ["2025.06.30–07.06"]


def test_mode_switch_links_change_only_the_mode(client):
    soup = page(client, "/search?q=钙钛矿&section=技术前沿&offset=10")
    modes = {a["data-mode"]: a for a in soup.select(".modes a")}
    assert modes["hybrid"].get("aria-current") == "true"
    assert query_of(modes["semantic"]["href"]) == {"q": "钙钛矿", "section": "技术前沿", "mode": "semantic"}
    assert [a.get_text() for a in soup.select(".modes a")] == ["混合", "关键词", "语义"]


def test_pagination_moves_by_k_results(client):
    soup = page(client, "/search?q=光伏&mode=keyword&k=3")
    assert soup.select_one("ol.results")["start"] == "1"
    next_href = soup.select_one('.pagination a[rel="next"]')["href"]
    assert query_of(next_href)["offset"] == "3"
    second = page(client, next_href)
    assert second.select_one("ol.results")["start"] == "4"
    assert second.select_one('.pagination [aria-current="page"]').get_text() == "2"


def test_a_query_with_no_match_says_so(client):
    soup = page(client, "/search?q=量子引力波&mode=keyword")
    assert "没有找到与“量子引力波”相关的内容" in soup.select_one(".notice.empty").get_text()


@pytest.mark.parametrize(("url", "words"), [
    ("/search?q=钙钛矿&date_from=2025-02-30", "填写的是：起始日期 2025-02-30"),
    ("/search?q=钙钛矿&date_from=2025-07-01&date_to=2025-06-01", "开始日期不能晚于结束日期"),
    ("/search?q=", "请输入要搜索的词"),
    ("/search?q=钙钛矿&mode=fuzzy", "搜索方式只能是"),
    ("/search?q=钙钛矿&k=abc", "每页条数不对"),
])
def test_bad_input_is_explained_in_plain_words(client, url, words):
    soup = page(client, url, status=400)
    assert words in soup.select_one('[role="alert"]').get_text()
    assert soup.select_one('input[name="q"]') is not None  # the form is still there to fix it


def test_user_text_is_escaped_everywhere(client):
    response = client.get("/search?q=<script>alert(1)</script>&section=<b>x</b>&mode=keyword")
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;" in html


def test_the_front_page_without_a_query_offers_examples(client):
    soup = page(client, "/")
    assert soup.select_one('input[name="q"]')["value"] == ""
    assert "2 期" in soup.select_one(".intro").get_text()


def test_an_empty_index_tells_how_to_build_it(make_kb):
    client = create_app(kb=make_kb("empty")).test_client()
    assert "kb ingest" in page(client, "/").select_one('[role="alert"]').get_text()
    assert "kb ingest" in page(client, "/search?q=光伏", status=503).select_one('[role="alert"]').get_text()
    assert "kb ingest" in page(client, "/issues").select_one(".notice").get_text()


# ---- article and issues ---------------------------------------------------------------------------


def test_article_page_highlights_the_passage_that_matched(client):
    soup = page(client, "/articles/2025-06-30-04?q=钙钛矿&hit=2025-06-30-04-001")
    assert soup.select_one("h1").get_text() == "钙钛矿叠层电池效率再创新高，空穴传输层自组装分子成关键"
    assert soup.select_one(".attribution").get_text() == "「光伏信息精选 2025.06.30–07.06 · 技术前沿 · 第4页 · 来源：示例科技日报」"
    hit = soup.select_one('[id="2025-06-30-04-001"]')
    assert "hit" in hit["class"] and hit.select("mark")[0].get_text() == "钙钛矿"
    assert soup.select_one('a[href="#2025-06-30-04-001"]') is not None


def test_article_page_renders_tables_and_highlights_a_matched_row(client):
    soup = page(client, "/articles/2025-06-23-05?q=海宁市&hit=2025-06-23-05-007")
    table = soup.select_one("figure.table table")
    assert [th.get_text() for th in table.select("thead th")] == ["序号", "县(市、区)名称", "可开放容量", "预警等级"]
    row = table.select_one("tr.hit")
    assert row["id"] == "2025-06-23-05-007" and [td.get_text() for td in row.select("td")][:3] == ["6", "海宁市", "931"]
    assert row.select_one("mark").get_text() == "海宁市"


def test_article_text_is_shown_whole_and_unchanged(client):
    soup = page(client, "/articles/2025-06-23-01")
    shown = "\n".join(p.get_text() for p in soup.select(".body p"))
    article = client.get("/api/articles/2025-06-23-01").get_json()
    assert shown == article["text"] and not soup.select(".hit")


def test_issues_page_lists_every_issue_with_its_contents(client):
    soup = page(client, "/issues")
    issues = soup.select("details.issue")
    assert [d["id"] for d in issues] == ["issue-2025-06-30", "issue-2025-06-23"]
    links = [a["href"] for a in issues[1].select(".toc-entry a")]
    assert len(links) == 10 and links[0] == "/articles/2025-06-23-01"
    assert [li.get_text() for li in issues[1].select(".toc-section")] == ["行业聚焦", "企业动态", "政策信息"]
    for href in links + [a["href"] for a in issues[0].select(".toc-entry a")]:
        assert client.get(href).status_code == 200


@pytest.mark.parametrize("url", ["/articles/nope", "/issues/nope", "/no-such-page"])
def test_unknown_pages_are_a_404_in_plain_words(client, url):
    assert "找不到" in page(client, url, status=404).select_one('[role="alert"]').get_text()


def test_pages_need_nothing_from_the_internet(client):
    """No CDN: every stylesheet, script and image the pages use is served by the app."""
    for url in ("/", "/search?q=钙钛矿", "/articles/2025-06-23-05", "/issues"):
        soup = page(client, url)
        for tag in soup.select("link[href], script[src], img[src]"):
            target = tag.get("href") or tag.get("src")
            assert target.startswith("/"), target
            assert client.get(target).status_code == 200
    for path in WEB.rglob("*"):
        if path.suffix in (".html", ".css", ".js"):
            text = path.read_text(encoding="utf-8")
            assert "//cdn" not in text and "googleapis" not in text, path
