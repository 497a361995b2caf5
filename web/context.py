"""`current_kb()`: the `KnowledgeBase` of the app serving this request.

A leaf module, so the blueprints take it from here and never import the package that registers
them (`web/__init__.py` puts the knowledge base in `app.extensions["kb"]`).
"""

from __future__ import annotations

from flask import current_app

from kb.knowledge_base import KnowledgeBase


def current_kb() -> KnowledgeBase:
    return current_app.extensions["kb"]
