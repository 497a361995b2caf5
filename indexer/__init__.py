"""The indexer: read (readers.py, formats/) -> parse (parse.py) -> chunk (chunk.py); pipeline.py
hands prepared issues to the KnowledgeBase, which embeds and writes them."""
