"""File bytes -> issue text, per format. Text encodings are detected, never guessed from the name.

Every reader returns plain text in the layout of the digest's text export (one paragraph a line,
blank lines between, tables as tab-separated rows) so one parser serves every format.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from itertools import islice
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
    """Decode text bytes by their content: a BOM, else UTF-16 when NUL bytes fall on one side of
    each code unit, else strict UTF-8, else GB18030 (which covers GBK and GB2312).

    UTF-8 that breaks after well-formed multibyte text is reported as damaged UTF-8, not decoded
    as GB18030 mojibake. Empty and binary content raise `ReadError`.
    """
    if not data.strip():
        raise ReadError(f"{name}: the file is empty")
    encoding = next((encoding for bom, encoding in BOMS if data.startswith(bom)), None)
    encoding = encoding or _utf16_without_bom(data)
    if encoding is not None:
        text = _decode(data, encoding, name)
    elif b"\x00" in data:
        raise ReadError(f"{name}: binary data, not text (it holds NUL bytes)")
    else:
        text = _decode_utf8_or_gb18030(data, name)
    if not text.strip():
        raise ReadError(f"{name}: the file is empty")
    if _looks_binary(text):
        raise ReadError(f"{name}: binary data, not text")
    return text


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: invalid {encoding} text ({exc.reason} at byte {exc.start})") from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 puts the zero byte of every ASCII character (digits, spaces, newlines) on the same
    side of its code unit: odd offsets for little-endian, even for big-endian. Binary data has
    zeros on both sides, UTF-8 and GB18030 text has none."""
    sample = data[:8192]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    units = len(sample) // 2
    if max(even, odd) < max(1, units // 50) or min(even, odd) * 8 > max(even, odd):
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def _decode_utf8_or_gb18030(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _is_multibyte_utf8(data[: exc.start]):
            if exc.end == len(data):
                raise ReadError(f"{name}: UTF-8 text that ends inside a character (truncated?)") from exc
            raise ReadError(f"{name}: damaged UTF-8 text ({exc.reason} at byte {exc.start} of {len(data)})") from exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{name}: not UTF-8, UTF-16 or GB18030 text (undecodable byte at {exc.start})") from exc


UTF8_LEAD = re.compile(rb"[\xc2-\xf4]")


def _is_multibyte_utf8(prefix: bytes) -> bool:
    """Well-formed UTF-8 with some non-ASCII characters: GB18030 text almost never gets this far."""
    return next(islice(UTF8_LEAD.finditer(prefix), 7, None), None) is not None


def _looks_binary(text: str) -> bool:
    """Control characters, or code points no text uses (unassigned, private use, surrogates),
    which is what random bytes decoded as UTF-16 turn into."""
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    unused = sum(1 for ch in sample if ord(ch) >= 0x80 and unicodedata.category(ch) in ("Cn", "Co", "Cs"))
    return controls + unused > max(2, len(sample) // 100)


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


# Formats recognised by their first bytes whatever the file is called, and binary formats no
# reader takes, named so the message says what the file is.
SIGNATURES = [
    (b"%PDF-", ".pdf", None),
    (b"PK\x03\x04", ".docx", b"word/"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None, "an old Word/Excel (OLE2) file: save it as .docx"),
    (b"PK\x03\x04", None, "a ZIP archive"),
    (b"\x89PNG", None, "a PNG image"),
    (b"\xff\xd8\xff", None, "a JPEG image"),
    (b"GIF8", None, "a GIF image"),
    (b"\x1f\x8b", None, "a gzip archive"),
    (b"\x7fELF", None, "an executable"),
]


def sniffed_suffix(data: bytes, name: str) -> str | None:
    """The reader suffix the content itself names (a PDF is read as a PDF even if called .txt);
    ReadError for a binary format no reader takes; None to go by the file name."""
    for magic, suffix, detail in SIGNATURES:
        if not data.startswith(magic):
            continue
        if suffix is None:
            raise ReadError(f"{name}: {detail}, not an issue")
        if detail is None or detail in data:
            return suffix
    return None


def read_document(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """(raw bytes, issue text) of one file; raise ReadError naming the file and the reason.

    Files over `max_bytes` are refused before they are read. The reader is chosen by content
    where the content says (PDF, Word), else by suffix.
    """
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ReadError(f"{path}: unsupported file type {suffix or '(none)'}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ReadError(f"{path}: {size} bytes is over the {max_bytes}-byte limit (KB_MAX_FILE_BYTES)")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise ReadError(f"{path}: over the {max_bytes}-byte limit (KB_MAX_FILE_BYTES)")
    if not data.strip():
        raise ReadError(f"{path}: the file is empty")
    reader = READERS[sniffed_suffix(data, str(path)) or suffix]
    return data, reader(data, str(path))


from .formats import docx, html, pdf  # noqa: E402,F401 - each registers its suffixes here; they use ReadError above
