"""Small text predicates shared by the parser: title keys, punctuation, dates, special lines."""

from __future__ import annotations

import re
import unicodedata

# A paragraph ending in one of these ended its sentence; anything else may be cut by a page break.
SENTENCE_END = tuple("。！？!?；;：:…”\"’'」』）)】]》")
CLAUSE_PUNCT = re.compile(r"[，。；！？,;!?]")
ENUMERATION = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、．]|第[一二三四五六七八九十\d]+[章节条部分])"
)
SOURCE_LINE = re.compile(r"^\s*[（(]\s*来\s*源\s*[:：]\s*(?P<source>.+?)\s*[）)]\s*$")
UNIT_LINE = re.compile(r"^\s*单\s*位\s*[:：]\s*(?P<unit>.+?)\s*$")
NOTE_LINE = re.compile(r"^\s*备\s*注\s*[:：]\s*(?P<note>.+?)\s*$")
CREDIT_LINE = re.compile(r"^\s*(?P<credit>\S.{0,30}?)\s*制表\s*$")
PAGE_NUMBER_LINE = re.compile(r"^\s*[-–—]?\s*\d{1,3}\s*[-–—]?\s*$")
CN_DATE = re.compile(r"(?P<y>\d{4})\s*[年./\-]\s*(?P<m>\d{1,2})\s*(?:[月./\-]\s*(?:(?P<d>\d{1,2})\s*日?)?)?")


def title_key(text: str) -> str:
    """A comparison key that ignores spacing, punctuation width and punctuation itself."""
    normalized = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in normalized if ch.isalnum())


def ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(SENTENCE_END)


def is_heading_like(line: str) -> bool:
    """Short lines without sentence punctuation, or short enumerated headings (一、 / （一）)."""
    stripped = line.strip()
    if stripped.endswith(("。", "！", "？")):
        return False
    if ENUMERATION.match(stripped) and len(stripped) <= 25:
        return True
    return len(stripped) <= 20 and not CLAUSE_PUNCT.search(stripped)


def is_special_line(line: str) -> bool:
    """Lines with a role of their own: source, unit, note or table credit."""
    return bool(
        SOURCE_LINE.match(line) or UNIT_LINE.match(line) or NOTE_LINE.match(line) or CREDIT_LINE.match(line)
    )


def join_broken(first: str, second: str) -> str:
    """Rejoin a sentence split by a page break; Latin words keep their space."""
    a, b = first.rstrip(), second.lstrip()
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return f"{a} {b}"
    return a + b


def iso_date(text: str) -> str | None:
    """'2025年6月20日' / '2025.6.20' / '2025-06-20' -> '2025-06-20'; '2025年4月' -> '2025-04'."""
    match = CN_DATE.search(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    year, month, day = int(match["y"]), int(match["m"]), match["d"]
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= int(day) <= 31:
        return None
    return f"{year:04d}-{month:02d}-{int(day):02d}"
