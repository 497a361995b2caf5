"""Scanned pages: a PDF page with no text layer read by Tesseract (`chi_sim+eng`), when installed.

The page is rendered at OCR_DPI (pdfplumber's pypdfium2) and Tesseract's TSV output gives each
recognised line with its box, converted to PDF points, so OCR'd lines go through the same
paragraph, running-header and page-number rules as a text layer's lines. Tesseract puts a space
between Chinese characters; `layout.clean_line` removes such letter spacing for every format.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass

OCR_DPI = 300
LANGUAGES = "chi_sim+eng"
MIN_CONFIDENCE = 10.0  # Tesseract marks noise it still reports with a confidence near 0
TIMEOUT_S = 300
# chi_sim reads a full stop after Chinese text as a degree sign; after a digit (25°C) it stays
MISREAD_FULL_STOP = re.compile(r"(?<=[\u4e00-\u9fff”」』）])\s*°")


class OcrError(RuntimeError):
    """Tesseract is installed but failed on a page."""


@dataclass
class OcrLine:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the median height of its Chinese words (a character's), steadier than the line's box


def available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_page(page) -> list[OcrLine]:
    """The text lines Tesseract reads on a pdfplumber page, in points, top to bottom."""
    image = page.to_image(resolution=OCR_DPI).original.convert("L")
    png = io.BytesIO()
    image.save(png, format="PNG")
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--psm", "3", "tsv"],
                              input=png.getvalue(), capture_output=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrError(f"tesseract failed: {exc}") from exc
    if done.returncode != 0:
        raise OcrError(f"tesseract failed: {done.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    scale = 72 / OCR_DPI
    lines: dict[tuple[str, str, str], list[dict]] = {}
    rows = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in rows:
        if row.get("level") == "5" and (row.get("text") or "").strip() and float(row["conf"]) >= MIN_CONFIDENCE:
            lines.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    result = []
    for words in lines.values():
        left = min(int(w["left"]) for w in words)
        right = max(int(w["left"]) + int(w["width"]) for w in words)
        top = min(int(w["top"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        text = MISREAD_FULL_STOP.sub("。", " ".join(w["text"].strip() for w in words))
        chinese = [w for w in words if any("\u4e00" <= ch <= "\u9fff" for ch in w["text"])] or words
        size = statistics.median(int(w["height"]) for w in chinese) * scale
        result.append(OcrLine(text, left * scale, right * scale, top * scale, bottom * scale, size))
    return sorted(result, key=lambda line: line.top)
