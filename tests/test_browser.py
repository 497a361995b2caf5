"""A real browser against `kb serve`: headless Chromium searches 钙钛矿, narrows the dates, opens
an article. The server is `kb serve` over the two-issue index (tests/served.py). Screenshots go to
/tmp/screens/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path("/tmp/screens")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                             "(scripts/setup.sh installs it)")
pytest_plugins = ["tests.served"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def facet(page, name: str) -> dict[str, int]:
    """{label: count} of one facet list as the reader sees it."""
    items = page.locator(f'[data-facet="{name}"] li')
    return {items.nth(i).locator("a").inner_text(): int(items.nth(i).locator(".count").inner_text())
            for i in range(items.count())}


def test_search_narrow_by_date_and_open_the_matching_passage(server, browser):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(server + "/")
    page.fill('input[name="q"]', "钙钛矿")
    page.press('input[name="q"]', "Enter")
    page.wait_for_url("**/search?q=*")

    results = page.locator("li.result")
    assert results.count() > 0
    assert "钙钛矿" in page.locator("li.result .snippet mark").all_inner_texts()
    attributions = page.locator("li.result .attribution").all_inner_texts()
    assert any(a.startswith("「光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第6页 · 来源：") for a in attributions), attributions
    assert any("2025.06.30–07.06" in a for a in attributions), attributions
    later_passage = next(href for href in page.locator("li.result h2 a").evaluate_all("els => els.map(e => e.href)")
                         if not href.endswith("-001"))  # a hit further down its article
    periods_before, total_before = facet(page, "issue"), int(page.locator(".summary .total").inner_text())
    assert set(periods_before) == {"2025.06.23–06.29", "2025.06.30–07.06"}
    page.screenshot(path=str(SCREENS / "search.png"), full_page=True)

    page.fill('input[name="date_from"]', "2025-06-30")
    page.click('form.search button[type="submit"]')
    page.wait_for_url("**date_from=2025-06-30*")
    assert "q=%E9%92%99%E9%92%9B%E7%9F%BF" in page.url  # the query stays in the shareable URL
    assert facet(page, "issue") == {"2025.06.30–07.06": int(page.locator(".summary .total").inner_text())}
    assert int(page.locator(".summary .total").inner_text()) < total_before
    assert set(page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.issue)")) == {"2025-06-30"}
    assert "印刷钙钛矿光电器件" not in facet(page, "source")
    page.screenshot(path=str(SCREENS / "search-narrowed.png"), full_page=True)

    first = page.locator("li.result h2 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/articles/**")
    assert page.locator("h1").inner_text() == title
    passage = page.locator(".passage.hit").first
    passage.wait_for(state="visible")
    assert "钙钛矿" in passage.locator("mark").all_inner_texts()
    top = passage.evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"], "the matched passage is scrolled into view"
    assert page.locator(".attribution").inner_text().startswith("「光伏信息精选 2025.06.30–07.06")
    page.screenshot(path=str(SCREENS / "article.png"))

    page.set_viewport_size({"width": 900, "height": 420})
    page.goto(later_passage)
    chunk_id = later_passage.rsplit("#", 1)[1]
    passage = page.locator(f'[id="{chunk_id}"]')
    assert "hit" in passage.get_attribute("class")
    assert page.evaluate("window.scrollY") > 0, "the browser scrolled down to the passage"
    assert 0 <= passage.evaluate("e => e.getBoundingClientRect().top") < 420
    page.close()


def test_a_named_week_is_a_removable_chip_results_are_one_per_article_and_no_match_says_so(server, browser):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(server + "/search?q=" + "6月30日当周 N型致密料均价")
    chip = page.locator('.interpreted a.chip[data-interpreted="filter"]')
    assert "6月30日当周" in chip.inner_text()
    assert set(page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.issue)")) == {"2025-06-30"}
    page.screenshot(path=str(SCREENS / "search-interpreted.png"), full_page=True)
    chip.click()
    page.wait_for_url("**interpret=0*")
    assert page.locator(".interpreted").count() == 0
    issues = page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.issue)")
    assert set(issues) == {"2025-06-23", "2025-06-30"}
    assert issues[:2] == ["2025-06-30", "2025-06-23"]  # the weekly report, newest week first

    page.goto(server + "/search?q=钙钛矿")
    articles = page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.article)")
    assert articles and len(articles) == len(set(articles))  # the page groups passages by article
    assert page.locator(".summary").inner_text().count("篇文章") == 1
    assert page.locator("li.result .scores").count() == len(articles)

    page.goto(server + "/search?q=足球比赛 世界杯 冠军")
    empty = page.locator(".notice.empty")
    assert "没有找到" in empty.inner_text() and page.locator("li.result").count() == 0
    assert empty.locator("a", has_text="改用关键词搜索").count() == 1
    page.screenshot(path=str(SCREENS / "search-empty.png"), full_page=True)
    page.close()


PAGE_KINDS = {  # one of each page kind the site has, by name
    "search": "/search?q=钙钛矿",
    "issues": "/issues",
    "issue": "/issues/2025-06-30",
    "article": "/articles/2025-06-23-06",  # with its related articles from the other issue
    "tables": "/tables",
    "table": "/tables/2025-06-30-03-t1?sort=可开放容量&order=desc",
    "prices": "/prices",
    "error": "/articles/nope",
}
NAV_LABELS = ["搜索", "期刊", "表格", "价格"]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_every_page_kind_has_the_site_layout_and_fits_a_phone(server, browser, kind, width):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 844}, locale="zh-CN")
    page.goto(server + PAGE_KINDS[kind])
    layout = page.evaluate("""() => ({
        header: !!document.querySelector('header.site .brand'),
        nav: [...document.querySelectorAll('header.site nav a')].map(a => a.textContent.trim()),
        sheets: [...document.styleSheets].filter(s => s.href && s.href.endsWith('/static/style.css')
                                                    && s.cssRules.length > 0).length,
        inline: document.querySelectorAll('style').length,
        font: getComputedStyle(document.body).fontFamily,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
    })""")
    page.screenshot(path=str(SCREENS / f"{kind}-{width}.png"), full_page=True)
    assert layout["header"] and layout["nav"] == NAV_LABELS, layout
    assert layout["sheets"] == 1 and layout["inline"] == 0, layout  # the one site stylesheet, nothing else
    assert "PingFang SC" in layout["font"], layout
    if width == 390:
        assert layout["scrollWidth"] <= layout["innerWidth"], f"{kind} scrolls sideways at 390 px: {layout}"
    if kind == "table":  # a wide table scrolls inside its own box, not the page
        assert page.locator(".scroll > table.data").count() == 1
    page.close()


def test_the_article_page_and_each_result_offer_a_citation_to_copy(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(server + "/articles/2025-06-23-06")
    citation = page.locator("textarea.citation").input_value()
    for field in ("期刊：光伏信息精选", "日期：2025.06.23–06.29", "栏目：", "页码：第", "来源：",
                  f"链接：{server}/articles/2025-06-23-06"):
        assert field in citation, citation
    page.goto(server + "/search?q=钙钛矿")
    results = page.locator("li.result")
    assert page.locator("li.result textarea.citation").count() == results.count() > 0
    first = results.first
    first.locator("details.cite summary").click()
    text = first.locator("textarea.citation").input_value()
    link = first.locator("h2 a").get_attribute("href").split("?")[0]
    assert text.startswith(first.locator("h2 a").inner_text()) and f"链接：{server}{link}#" in text, text
    page.close()
