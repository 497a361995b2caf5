"""MinHash signatures of article bodies: the fingerprint two reprints of one story share.

Each article body gets a signature of its character 5-grams (letters and digits only) when it
is written (kb/store/writes.py); kb/duplicates.py compares them at search time.
"""

from __future__ import annotations

import zlib

import numpy as np

from .segment import normalize

SHINGLE = 5
HASHES = 128
MIN_CHARS = 80  # shorter bodies (a title and a table) get no signature
_PRIME = np.uint64(4_294_967_311)  # > 2**32; a * x + b stays below 2**64 for a, b < 2**31
_rng = np.random.default_rng(20250623)  # fixed: signatures are stored and compared across runs
_A = _rng.integers(1, 2**31, HASHES, dtype=np.uint64)
_B = _rng.integers(0, 2**31, HASHES, dtype=np.uint64)


def signature(text: str) -> np.ndarray | None:
    """MinHash of the text's character 5-grams (letters and digits only), or None when short."""
    chars = "".join(ch for ch in normalize(text) if ch.isalnum())
    if len(chars) < MIN_CHARS:
        return None
    shingles = {chars[i : i + SHINGLE] for i in range(len(chars) - SHINGLE + 1)}
    x = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=np.uint64, count=len(shingles))
    return ((_A[:, None] * x[None, :] + _B[:, None]) % _PRIME).min(axis=1).astype(np.uint32)
