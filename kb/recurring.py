"""Recurring passages: the same passage of a weekly report in many issues, newest first.

The 光伏产业供应链价格报告 appears every week with the same words and new numbers; a recurring
table (capacity by county each quarter) likewise. Their passages score almost alike for any
query, so their order among themselves was arbitrary, while staff asking 「N型致密料均价」 want
the latest week. Passages are one *family* when their articles' titles are the same with every
digit masked (the Q3 and Q4 capacity notices) and their texts, digits masked too, share at least
FAMILY_SHARE of their character trigrams; within a
ranked list each family keeps the positions its members earned, filled newest issue first.

A story *reprinted* word for word is another matter (`duplicates`: folded into one hit); a
family's members differ in their numbers, so each week stays its own hit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

DIGITS = re.compile(r"\d")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
SPACE = re.compile(r"\s+")
FAMILY_SHARE = 0.6
SHINGLE = 3


@dataclass(frozen=True)
class Passage:
    rowid: int
    title: str
    date_start: str
    text: str


def _shape(text: str) -> set[str]:
    masked = DIGITS.sub("0", SPACE.sub("", text))
    return {masked[i : i + SHINGLE] for i in range(max(1, len(masked) - SHINGLE + 1))}


def _similar(a: set[str], b: set[str]) -> bool:
    if a is b:  # one text (a reprint's copy)
        return bool(a)
    union = len(a | b)
    return bool(union) and len(a & b) / union >= FAMILY_SHARE


def families(passages: list[Passage]) -> list[list[int]]:
    """Positions (in the given order) of each family with members from two issues or more."""
    titles = [NUMBER.sub("0", SPACE.sub("", p.title)) for p in passages]  # 「3.881GW，…Q3…」 and 「3.51GW，…Q4…」 too
    shared = {title for title, n in Counter(titles).items() if n > 1}  # a family needs two passages
    shapes: dict[str, set[str]] = {}  # by text: a reprint's copies are shaped once
    by_title: dict[str, list[tuple[set[str], list[int], set[str]]]] = {}
    for position, (passage, title) in enumerate(zip(passages, titles)):
        if title not in shared:
            continue
        shape = shapes.get(passage.text)
        if shape is None:
            shape = shapes[passage.text] = _shape(passage.text)
        for representative, members, dates in by_title.setdefault(title, []):
            if passage.date_start not in dates and _similar(shape, representative):
                members.append(position)
                dates.add(passage.date_start)
                break
        else:
            by_title[title].append((shape, [position], {passage.date_start}))
    return [members for groups in by_title.values() for _, members, _ in groups if len(members) > 1]


def newest_first(passages: list[Passage]) -> list[int]:
    """The rowids in ranked order, each family's positions refilled newest issue first."""
    order = [p.rowid for p in passages]
    for positions in families(passages):
        members = sorted((passages[i] for i in positions), key=lambda p: p.date_start, reverse=True)
        for position, member in zip(positions, members):
            order[position] = member.rowid
    return order
