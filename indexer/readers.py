"""File bytes -> issue text, per format: the reader is chosen by content where the content says
(PDF, Word), else by suffix, from the registry in indexer/formats/base.py.

Every reader returns plain text in the layout of the digest's text export (one paragraph a line,
blank lines between, tables as tab-separated rows) so one parser serves every format.
"""

from __future__ import annotations

from pathlib import Path

from .formats import docx, html, pdf, plain  # noqa: F401 - importing a format registers its suffixes
from .formats.base import READERS, ReadError, decode_text

__all__ = ["READERS", "ReadError", "decode_text", "read_document", "sniffed_suffix", "supported_suffixes"]


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
