"""Issue files in every text encoding read to the same issue, detected from the bytes; bad files
(binary, undecodable, empty, headerless, truncated PDF/DOCX, too large) each give one message
naming the file and the reason, and a batch holding them still ingests the good files."""

from __future__ import annotations

import codecs
import os
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from indexer.parse import ParseError, parse_issue
from indexer.readers import ReadError, read_document
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase

from .conftest import REAL_ISSUE, copy_of
from .format_writers import write_docx, write_pdf

HANDMADE = Path(__file__).parent / "data" / "handmade-2025-06-30.txt"
LIMIT = 10**9


def encoded(text: str, encoding: str) -> bytes:
    boms = {"utf-16-le+bom": codecs.BOM_UTF16_LE, "utf-16-be+bom": codecs.BOM_UTF16_BE, "utf-8+bom": codecs.BOM_UTF8}
    return boms.get(encoding, b"") + text.encode(encoding.removesuffix("+bom"))


def articles(text: str, name: str = "issue.txt") -> list[tuple]:
    issue = parse_issue(text, name)
    return [(a.title, a.section, a.page, a.source, a.paragraphs, [t.rows for t in a.tables]) for a in issue.articles]


@pytest.mark.parametrize("encoding", [
    "utf-8", "utf-8+bom", "gb18030", "utf-16-le", "utf-16-be", "utf-16-le+bom", "utf-16-be+bom", "utf-16", "utf-32",
])
def test_every_text_encoding_of_the_real_issue_parses_to_the_same_articles(encoding, tmp_path):
    text = REAL_ISSUE.read_text(encoding="utf-8")
    path = tmp_path / "issue.txt"
    path.write_bytes(encoded(text, encoding))
    _, read = read_document(path, LIMIT)
    assert read == text
    assert articles(read) == articles(text)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_gbk_issue_is_detected_without_any_hint_in_its_name(newline, tmp_path):
    text = HANDMADE.read_text(encoding="utf-8")
    path = tmp_path / "issue.md"  # the suffix says nothing about the encoding
    path.write_bytes(text.replace("\n", newline).encode("gbk"))
    _, read = read_document(path, LIMIT)
    assert articles(read) == articles(text)


def test_a_pdf_named_txt_is_read_as_the_pdf_it_is(tmp_path):
    text = HANDMADE.read_text(encoding="utf-8")
    pdf = write_pdf(text, tmp_path / "issue.pdf")
    disguised = tmp_path / "issue.txt"
    shutil.copy(pdf, disguised)
    assert read_document(disguised, LIMIT)[1] == read_document(pdf, LIMIT)[1]


def random_bytes(size: int, low: int = 0) -> bytes:
    rng = random.Random(size)
    return bytes(rng.randrange(low, 256) for _ in range(size))


def bad_files(folder: Path) -> dict[Path, str]:
    """Bad files of every kind in `folder`, each with the words its message must hold."""
    text = REAL_ISSUE.read_text(encoding="utf-8")
    utf8 = text.encode("utf-8")
    pdf = write_pdf(text, folder / "whole.pdf").read_bytes()
    docx = write_docx(text, folder / "whole.docx").read_bytes()
    (folder / "whole.pdf").unlink()
    (folder / "whole.docx").unlink()
    files = {
        "binary.txt": (random_bytes(6000), "binary data"),
        "photo.txt": (b"\x89PNG\r\n\x1a\n" + random_bytes(3000), "a PNG image"),
        "old-word.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random_bytes(3000), "save it as .docx"),
        "latin1.txt": ("Résumé café naïve, déjà vu\n".encode("latin-1") * 50, "not UTF-8, UTF-16 or GB18030"),
        "noise.txt": (random_bytes(6000, low=1), "not UTF-8, UTF-16 or GB18030"),
        "damaged.txt": (utf8[:5000] + b"\xff\xfe" + utf8[5002:], "damaged UTF-8 text"),
        "cut.txt": (utf8[: utf8.index("目 录".encode()) + 1], "ends inside a character"),
        "empty.txt": (b"", "the file is empty"),
        "blank.md": (b" \r\n\t\n", "the file is empty"),
        "bom-only.txt": (codecs.BOM_UTF16_LE + "\n".encode("utf-16-le"), "the file is empty"),
        "no-header.txt": ("会议纪要\n\n今天讨论了组件价格。\n".encode(), "no issue date range"),
        "no-toc.txt": (text.replace("目 录", "").encode("utf-8"), "no table of contents"),
        "truncated.pdf": (pdf[: len(pdf) // 2], "not a readable PDF"),
        "truncated.docx": (docx[: len(docx) // 2], "not a readable Word"),
        "empty.pdf": (b"", "the file is empty"),
        "too-big.txt": (("光伏组件价格\n" * 4000).encode("utf-8"), "over the 40000-byte limit"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {folder / name: reason for name, (_, reason) in files.items()}


def read_and_parse(path: Path, max_bytes: int) -> None:
    _, text = read_document(path, max_bytes)
    parse_issue(text, path.name)


def test_each_bad_file_raises_one_error_naming_the_file_and_the_reason(tmp_path):
    for path, reason in bad_files(tmp_path).items():
        with pytest.raises((ReadError, ParseError)) as caught:
            read_and_parse(path, 40_000)
        message = str(caught.value)
        assert path.name in message and reason in message, (path.name, message)


def index_without_the_real_issue(corpus_kb, data_dir: Path) -> None:
    """A copy of the corpus index with its issue deleted: the issue's embeddings stay cached, so
    ingesting it again needs no model."""
    copy_of(corpus_kb, data_dir, without=["2025-06-23"]).close()


def test_a_batch_with_bad_files_ingests_the_good_one_and_the_command_fails(corpus_kb, tmp_path):
    data_dir = tmp_path / "index"
    index_without_the_real_issue(corpus_kb, data_dir)
    folder = tmp_path / "batch"
    folder.mkdir()
    expected = bad_files(folder)
    good = folder / "pv-digest-2025-06-23.txt"
    good.write_bytes(REAL_ISSUE.read_text(encoding="utf-8").encode("gb18030"))
    misnamed = Path(os.fsdecode(os.fsencode(folder) + "/光伏".encode("gbk") + b".txt"))  # a GBK name
    misnamed.write_bytes(good.read_bytes())
    expected[misnamed] = "the file name is not valid UTF-8"

    result = CliRunner().invoke(main, ["ingest", str(folder), "--quiet", "--data-dir", str(data_dir)],
                                env={"KB_MAX_FILE_BYTES": "40000"})

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(expected)
    for path, reason in expected.items():
        name = os.fsencode(path.name).decode("utf-8", "backslashreplace")
        assert any(name in line and reason in line for line in errors), (name, errors)
    assert f"1 added, 0 replaced, 0 unchanged, 0 pruned, {len(expected)} failed" in result.output
    kb = KnowledgeBase(Settings(data_dir=data_dir))
    assert list(kb.store.indexed_files()) == [str(good.resolve())]
    assert kb.vectors.size == kb.store.counts()["rows"]["chunks"] == 44
