"""File bytes -> issue text, per format. Text encodings are detected, never guessed from the name.

Every reader returns plain text in the layout of the digest's text export (one paragraph a line,
blank lines between, tables as tab-separated rows) so one parser serves every format.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path


class ReadError(ValueError):
    """A file that cannot be read as an issue (binary, undecodable, empty, too large, broken)."""


TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def decode_text(data: bytes, name: str = "file") -> str:
    """Decode text bytes: BOM, then strict UTF-8, then UTF-16 without BOM, then GB18030."""
    if not data.strip():
        raise ReadError(f"{name}: the file is empty")
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode(data, encoding, name)
    if b"\x00" in data[:4096]:
        return _decode_utf16_without_bom(data, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: not valid UTF-8, UTF-16 or GB18030 text ({exc.reason} at byte {exc.start})") from exc
    if _looks_binary(text):
        raise ReadError(f"{name}: binary data, not text")
    return text


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: invalid {encoding} text ({exc.reason} at byte {exc.start})") from exc


def _decode_utf16_without_bom(data: bytes, name: str) -> str:
    """NUL bytes mean UTF-16 (zeros on the odd or even bytes for ASCII) or a binary file."""
    even_zeros = data[0:4096:2].count(0)
    odd_zeros = data[1:4096:2].count(0)
    encoding = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: binary data, not text") from exc
    if _looks_binary(text):
        raise ReadError(f"{name}: binary data, not text")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls > max(2, len(sample) // 100)


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


READERS: dict[str, Callable[[bytes, str], str]] = {
    ".txt": read_plain,
    ".md": read_markdown,
    ".markdown": read_markdown,
}


def supported_suffixes() -> set[str]:
    return set(READERS)


def read_document(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """(raw bytes, issue text) of one file; raise ReadError with the reason."""
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise ReadError(f"{path}: unsupported file type {suffix or '(none)'}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError(f"{path}: {size} bytes is over the {max_bytes}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{path}: cannot read ({exc.strerror})") from exc
    return data, reader(data, str(path))

from .formats import docx, html, pdf  # noqa: E402,F401 - each registers its suffixes here; they use ReadError above
