"""One result per article: `group=article` keeps an article's best passage and counts the rest.

Two passages of one article used to take two of the ten places on a page, pushing other
articles off it. Grouped, each article appears once, at the place of its best-ranked passage,
with the snippet of that passage and the ids of its other matching passages (`passages`), so a
reader can open them. Pagination, `total` and the facets then count articles.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ArticleGroup:
    article_id: str
    best: int  # rowid of the best-ranked passage
    others: list[int] = field(default_factory=list)  # rowids of its other matching passages, best first

    def passages(self, chunk_ids: dict[int, str]) -> dict:
        """The `passages` object of a grouped hit."""
        return {"count": len(self.others), "ids": [chunk_ids[r] for r in self.others if r in chunk_ids]}


def by_article(rowids: list[int], article_of: dict[int, str]) -> list[ArticleGroup]:
    """Groups in the order of their best passage (rowids without an article are left out)."""
    groups: dict[str, ArticleGroup] = {}
    for rowid in rowids:
        article = article_of.get(rowid)
        if article is None:
            continue
        group = groups.get(article)
        if group is None:
            groups[article] = ArticleGroup(article, rowid)
        else:
            group.others.append(rowid)
    return list(groups.values())
