"""Readers for the formats issues reach users in besides the text export: HTML, PDF and DOCX.

Each module turns file bytes into text in the text export's layout (see `layout`), so the one
parser in `indexer.parse` serves every format. `formats.base.READERS` maps suffixes to them.
"""
