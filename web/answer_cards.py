"""Answer cards beside the results (kb/answers.py): the API's `answers` and the page's cards,
with a small server-rendered trend of a numeric card's history."""

from __future__ import annotations

from .charts import Point, line_chart


def answers_for(kb, response: dict) -> list[dict]:
    """The cards the search's query names; a week its time words selected picks that week."""
    said = response.get("interpreted")
    week = (said["date_from"], said["date_to"]) if said and said["mode"] == "filter" else None
    return kb.answers(response["query"], week)


def card_chart(card: dict) -> str:
    """The card's values oldest to newest as an SVG line, when they are all numbers."""
    values = [card] + card["history"]
    try:
        points = [Point(v["issue"]["date_start"], float(v["value"]), f"{v['issue']['date_start']}: {v['value']}")
                  for v in reversed(values)]
    except ValueError:
        return ""
    return line_chart(points, card["unit"] or "", width=360, height=140) if len(points) > 1 else ""
