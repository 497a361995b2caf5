"""Hostile search parameters, as raw query strings: shared by tests/test_hostile_input.py and
scripts/load_test.py, so the load test sends exactly what the tests check.

Each entry is (name, query string without `mode`): already %-encoded, so bytes that are not
UTF-8 (a lone surrogate %ED%A0%80, %FF) reach the server as they would from a hostile client.
"""

from __future__ import annotations

from urllib.parse import urlencode

LONG_QUERY_CHARS = 10_000


def _qs(**params: str) -> str:
    return urlencode(params)


HOSTILE_QUERIES: list[tuple[str, str]] = [
    ("double_quote", _qs(q='"')),
    ("unbalanced_quotes", _qs(q='"光伏 组件')),
    ("single_quote", _qs(q="光伏's")),
    ("star", _qs(q="光*")),
    ("lone_star", _qs(q="*")),
    ("caret", _qs(q="^光伏")),
    ("colon", _qs(q=":")),
    ("parentheses", _qs(q="(光伏 OR (组件")),
    ("closing_parenthesis", _qs(q=")")),
    ("boolean_words", _qs(q="光伏 AND OR NOT NEAR")),
    ("only_operators", _qs(q="AND OR NOT")),
    ("near_group", _qs(q="NEAR(a b)")),
    ("near_with_distance", _qs(q="NEAR(光伏 组件, 2)")),
    ("column_filter", _qs(q="title:光伏")),
    ("column_filter_text", _qs(q="text:组件 OR chunks:1")),
    ("column_set", _qs(q="{text title}: 光伏")),
    ("plus_minus", _qs(q="+光伏 -组件")),
    ("sql_drop", _qs(q="'; DROP TABLE chunks; --")),
    ("sql_or", _qs(q="1 OR 1=1")),
    ("sql_union", _qs(q="' UNION SELECT * FROM issues --")),
    ("sql_comment", _qs(q="光伏/* x */")),
    ("control_characters", _qs(q="光伏\x01\x07\x1b[31m组件\x7f")),
    ("nul", _qs(q="光伏\x00组件")),
    ("only_nul", _qs(q="\x00")),
    ("newlines_tabs", _qs(q="光伏\r\n\t组件")),
    ("lone_surrogate", "q=%ED%A0%80"),
    ("lone_surrogate_in_text", "q=%E5%85%89%ED%B0%80%E4%BC%8F"),
    ("invalid_utf8", "q=%FF"),
    ("invalid_utf8_mixed", "q=%E5%85%89%FF%FE%E4%BC%8F"),
    ("overlong_utf8", "q=%C0%AF"),
    ("percent_garbage", "q=%%%ZZ%2"),
    ("html", _qs(q="<script>alert(1)</script>")),
    ("long_query", _qs(q="a" * LONG_QUERY_CHARS)),
    ("empty", _qs(q="")),
    ("whitespace_only", _qs(q=" \t\u3000\u00a0 ")),
    ("no_q", ""),
    ("repeated_q", "q=%E5%85%89%E4%BC%8F&q=%22"),
    ("emoji_and_rtl", _qs(q="光伏😀\u202eevil\u200b")),
    ("invalid_month", _qs(q="光伏", date_from="2025-13-45")),
    ("word_date", _qs(q="光伏", date_to="yesterday")),
    ("reversed_dates", _qs(q="光伏", date_from="2025-07-01", date_to="2025-06-01")),
    ("huge_k", _qs(q="光伏", k=str(10**9))),
    ("zero_k", _qs(q="光伏", k="0")),
    ("negative_k", _qs(q="光伏", k="-5")),
    ("negative_offset", _qs(q="光伏", offset="-1")),
    ("huge_offset", _qs(q="光伏", offset="999999999")),
    ("max_offset", _qs(q="光伏", offset="10000")),
    ("float_k", _qs(q="光伏", k="1e3")),
    ("bad_type", _qs(q="光伏", type="'; DROP TABLE chunks; --")),
    ("hostile_section", _qs(q="光伏", section="' OR 1=1 --")),
    ("hostile_source", _qs(q="光伏", source='"; DELETE FROM chunks; --')),
    ("hostile_issue", _qs(q="光伏", issue="%' OR '1'='1")),
    ("bad_expand", _qs(q="光伏", expand="maybe")),
]

# What a hostile query must be answered with when the answer is not "any 200 or 400".
EXPECTED_ERRORS = {
    "long_query": "query_too_long",
    "empty": "empty_query",
    "whitespace_only": "empty_query",
    "no_q": "empty_query",
    "only_nul": "empty_query",
    "invalid_month": "invalid_date",
    "word_date": "invalid_date",
    "reversed_dates": "invalid_date",
    "huge_k": "invalid_k",
    "zero_k": "invalid_k",
    "negative_k": "invalid_k",
    "float_k": "invalid_k",
    "negative_offset": "invalid_offset",
    "huge_offset": "invalid_offset",
    "bad_type": "invalid_type",
    "bad_expand": "invalid_expand",
}
