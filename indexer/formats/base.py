"""The readers registry: `READERS` maps a file suffix to `reader(bytes, name) -> issue text`.

Each format module under indexer/formats/ registers its suffixes here when imported
(indexer/readers.py imports them all), and raises `ReadError` for a file it cannot read.
`decode_text` is the one way text bytes become text: encodings are detected, never guessed
from the name.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from itertools import islice

READERS: dict[str, Callable[[bytes, str], str]] = {}


class ReadError(ValueError):
    """A file that cannot be read as an issue (binary, undecodable, empty, too large, broken)."""


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
