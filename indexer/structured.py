"""Issue -> `StructuredIssue`: the typed cells of every table and the price report's records,
handed to the store with the issue so both are written in one transaction."""

from __future__ import annotations

from kb.models import Issue
from kb.numbers import StructuredIssue

from .prices import price_records
from .typed import typed_rows


def structured_issue(issue: Issue) -> StructuredIssue:
    structured = StructuredIssue()
    for article in issue.articles:
        if article.tables:
            structured.tables[article.id] = [typed_rows(table) for table in article.tables]
        records = price_records(article)
        if records:
            structured.prices[article.id] = records
    return structured
