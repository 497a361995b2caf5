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
