"""The text export itself (.txt) and Markdown (.md, .markdown): decoded, Markdown tables and
emphasis turned into the text export's layout."""

from __future__ import annotations

import re

from .base import READERS, decode_text


MD_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def markdown_to_text(markdown: str) -> str:
    """Markdown export -> text-export layout: headings and emphasis unmarked, pipe tables to tabs."""
    lines = []
    for line in markdown.splitlines():
        stripped = line.strip()
        if MD_TABLE_SEPARATOR.match(stripped) and "-" in stripped:
            continue
        if stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3:
            lines.append("\t".join(cell.strip() for cell in stripped[1:-1].split("|")))
            continue
        stripped = re.sub(r"^#{1,6}\s+", "", stripped)
        lines.append(MD_EMPHASIS.sub(r"\2", stripped))
    return "\n".join(lines)


def read_plain(data: bytes, name: str) -> str:
    return decode_text(data, name)


def read_markdown(data: bytes, name: str) -> str:
    return markdown_to_text(decode_text(data, name))

READERS.update({".txt": read_plain, ".md": read_markdown, ".markdown": read_markdown})
