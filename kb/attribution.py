"""The human attribution line of a hit, shared by the CLI and the web pages.

「光伏信息精选 2025.06.23–06.29 · 行业聚焦 · 第3页 · 来源：人民日报」
"""

from __future__ import annotations


def date_range_label(date_start: str, date_end: str) -> str:
    """'2025-06-23', '2025-06-29' -> '2025.06.23–06.29' (the year repeats only when it changes)."""
    start, end = date_start.replace("-", "."), date_end.replace("-", ".")
    if start[:4] == end[:4]:
        end = end[5:]
    return f"{start}–{end}"


def attribution_line(issue: dict, article: dict) -> str:
    parts = [f"{issue['title']} {date_range_label(issue['date_start'], issue['date_end'])}"]
    if article.get("section"):
        parts.append(article["section"])
    if article.get("page") is not None:
        parts.append(f"第{article['page']}页")
    if article.get("source"):
        parts.append(f"来源：{article['source']}")
    return " · ".join(parts)


def citation(issue: dict, article: dict, link: str) -> str:
    """A citation to copy: the title, then 期刊, 日期, 栏目, 页码, 来源 and the link, each named
    (a field the issue does not give is 无)."""
    page = article.get("page")
    fields = (("期刊", issue["title"]), ("日期", date_range_label(issue["date_start"], issue["date_end"])),
              ("栏目", article.get("section")), ("页码", None if page is None else f"第{page}页"),
              ("来源", article.get("source")), ("链接", link))
    return f"{article['title']}。" + "；".join(f"{name}：{value or '无'}" for name, value in fields)
