"""The library: the KnowledgeBase facade (knowledge_base.py) over the SQL floor (store/), the
embedder and the vector index. No Flask, no click, no import of indexer/ or web/."""
