"""Character error rate of the OCR path: a PDF with a text layer is turned into an image-only PDF
(pdftoppm at --dpi, img2pdf), read back through the PDF reader (Tesseract chi_sim+eng), and its
text compared with the issue's text export, whole and per article.

CER = Levenshtein distance / reference length, over the text with all whitespace removed and
NFKC applied to both sides (so full/half-width punctuation and Tesseract's spacing do not count).

    .venv/bin/python scripts/ocr_cer.py issue.pdf corpus/pv-digest-2025-06-23.txt [--dpi 300]
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.parse import parse_issue  # noqa: E402
from indexer.readers import read_document  # noqa: E402
from indexer.text import title_key  # noqa: E402


def levenshtein(a: str, b: str) -> int:
    """Myers' bit-parallel edit distance (Hyyrö's form), with Python ints as bit vectors."""
    if not a:
        return len(b)
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    pv, mv, score = full, 0, len(a)
    for ch in b:
        eq = masks.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def _same_article(article, candidates):
    """The OCR'd article whose title is most like the export's (OCR may misread a title)."""
    key = title_key(article.title)
    scored = [(difflib.SequenceMatcher(None, key, title_key(c.title)).ratio(), c) for c in candidates]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] >= 0.6 else None


def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("export", type=Path)
    parser.add_argument("--dpi", type=int, default=300, help="scan resolution of the image-only PDF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(args.dpi), "-gray", "-png", str(args.pdf), f"{tmp}/page"], check=True)
        pages = sorted(Path(tmp).glob("page-*.png"))
        scan = Path(tmp) / "scan.pdf"
        subprocess.run(["img2pdf", *map(str, pages), "-o", str(scan)], check=True)
        started = time.perf_counter()
        text = read_document(scan, 200_000_000)[1]
        seconds = time.perf_counter() - started
    reference = args.export.read_text(encoding="utf-8")
    print(f"pages: {len(pages)} at {args.dpi} dpi; OCR {seconds:.1f} s ({seconds / len(pages):.1f} s/page)")
    ref, got = normal(reference), normal(text)
    print(f"whole text: CER {levenshtein(ref, got) / len(ref):.4f} ({levenshtein(ref, got)} edits / {len(ref)} chars)")
    expected, actual = parse_issue(reference, args.export.name), parse_issue(text, "scan.pdf")
    print(f"issue: {actual.id} to {actual.date_end} (export: {expected.id} to {expected.date_end});"
          f" articles found: {len(actual.articles)} of {len(expected.articles)}")
    print("article | chars | CER (an article with a table: OCR reads the table as lines, not cells)")
    prose_edits = prose_chars = 0
    for article in expected.articles:
        match = _same_article(article, actual.articles)
        body = normal(article.text)
        edits = levenshtein(body, normal(match.text)) if match else len(body)
        if not article.tables:
            prose_edits, prose_chars = prose_edits + edits, prose_chars + len(body)
        cer = f"{edits / len(body):.4f}" if match else "not found"
        print(f"{article.title[:24]} | {len(body)} | {cer}{' (table)' if article.tables else ''}")
    print(f"articles without a table: CER {prose_edits / prose_chars:.4f} ({prose_edits} edits / {prose_chars} chars)")


if __name__ == "__main__":
    main()
