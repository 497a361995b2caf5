"""Write N synthetic digest issues derived from the real one, for benchmarks at scale.

    .venv/bin/python scripts/make_scaled_corpus.py 100 data/bench/corpus-100 [--seed 0] [--check]

Issue i (1..N) is the source issue moved i weeks back in time (the header's date range, hence
the issue id; years in the text follow), with its sections, and the articles within each
section, shuffled: the table of contents is renumbered with page numbers recounted, and the body
follows the same order. Numbers are redrawn (not years, months or days), company / place /
person names are permuted within their group, and "近日" becomes a date of the issue's week.
A number's new digits come from a generator seeded by (seed, issue, number) and each issue has
one permutation of names, so a title reads the same in the contents and in the body, and the
output is the same for the same --seed. An issue is drawn again (up to MAX_ATTEMPTS times) when
the real parser would not find all its articles or when one of its chunk texts already occurs in
an earlier issue or in the source: every chunk text is unique.

--check parses and chunks every file written (articles, dates, chunk texts shared between
issues) and ingests the first --check-ingest of them with the real pipeline into a temporary data
dir, printing what the store holds. Refuses to write inside corpus/ (real issues only).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from benchlib import print_table, seed_embedding_cache, update_embedding_cache

from indexer.chunk import chunk_issue
from indexer.parse import DATE_RANGE, _find_title, parse_issue
from indexer.pipeline import ingest
from indexer.toc import find_toc, parse_toc
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase
from kb.models import Issue

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "corpus" / "pv-digest-2025-06-23.txt"
MAX_ATTEMPTS = 50

# Names swapped within their group (each occurrence of a name gets the same stand-in in an issue).
NAME_GROUPS: dict[str, list[str]] = {
    "province": ["浙江", "江苏", "广东", "山东", "安徽", "福建", "湖北", "湖南", "四川", "河北", "河南",
                 "江西", "辽宁", "吉林", "山西", "陕西", "甘肃", "青海", "宁夏", "广西", "海南", "贵州",
                 "云南", "重庆", "内蒙古", "新疆"],
    "city": ["嘉兴", "宁波", "杭州", "湖州", "绍兴", "温州", "台州", "金华", "苏州", "无锡", "常州",
             "芜湖", "泉州", "佛山", "东莞", "烟台", "扬州", "盐城", "南通"],
    "district": ["南湖区", "滨海区", "秀洲区", "嘉善县", "海盐县", "海宁市", "平湖市", "桐乡市", "德清县",
                 "长兴县", "安吉县", "余姚市", "慈溪市", "诸暨市", "义乌市", "乐清市"],
    "port": ["梅山", "北仑", "穿山", "大榭", "金塘", "洋山", "乍浦", "独山"],
    "company": ["隆基", "阿特斯", "鸿禧", "芯能", "鉴衡", "晶科", "天合", "晶澳", "通威", "正泰", "协鑫",
                "爱旭", "东方日升", "昱能", "禾迈", "福斯特", "福莱特", "TCL中环"],
    "institute": ["长春应化所", "大连化物所", "宁波材料所", "上海硅酸盐所", "苏州纳米所", "青岛能源所",
                  "半导体所", "深圳先进院", "山西煤化所"],
    "person": ["秦川江", "余海峰", "沈福鑫", "戴永军", "周罡", "崔加锦", "金社平", "王立新", "李建国",
               "张晓峰", "刘海涛", "陈志远", "杨文博", "赵宏伟", "孙明辉", "周建华", "吴国强", "郑晓东",
               "黄志明", "林海燕", "何俊杰", "高振宇"],
    "rank": ["研究员", "教授", "副研究员", "副教授", "院士", "特聘研究员"],
    "journal": ["Science", "Nature", "Joule", "Nature Energy", "Nature Photonics", "Advanced Materials", "JACS",
                "Nature Communications", "Angewandte Chemie", "Energy & Environmental Science"],
}
YEAR = re.compile(r"^(19|20)\d\d$")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
DATE_PART = re.compile(r"\s*[月日]")  # a month or day number is left alone


@dataclass
class Source:
    """The source issue cut into its parts: header, contents entries, body preamble, articles."""

    issue: Issue  # as the real parser reads it
    header: list[str]
    date_line: int  # index in header of the (2025. 06. 23-2025. 06. 29) line
    entries: list[tuple[str, str | None, int]]  # (title, section, pages it spans)
    preamble: list[str]
    bodies: list[list[str]]  # per entry, the body lines from its title to the next title

    @classmethod
    def read(cls, path: Path) -> "Source":
        text = path.read_text(encoding="utf-8")
        issue = parse_issue(text, path.name)
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").lstrip("\ufeff").split("\n")]
        toc_at = find_toc(lines)
        toc = parse_toc(lines, toc_at)
        starts = []
        cursor = toc.body_start
        for entry in toc.entries:
            found = _find_title(lines, cursor, entry.title)
            if found is None:
                raise SystemExit(f"{path}: article {entry.title!r} of the contents is not in the body")
            starts.append(found[0])
            cursor = found[0] + found[1]
        pages = [entry.page for entry in toc.entries] + [None]
        spans = [b - a if a and b and b > a else 1 for a, b in zip(pages, pages[1:])]
        header = lines[:toc_at]
        date_line = next(i for i, line in enumerate(header) if DATE_RANGE.search(unicodedata.normalize("NFKC", line)))
        return cls(
            issue=issue,
            header=header,
            date_line=date_line,
            entries=[(e.title, e.section, span) for e, span in zip(toc.entries, spans)],
            preamble=lines[toc.body_start : starts[0]],
            bodies=[lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)])],
        )


class Perturber:
    """Rewrites text for one synthetic issue; the same token always gets the same stand-in."""

    def __init__(self, seed: str, year_shift: int, dateline: str):
        self.seed = seed
        self.year_shift = year_shift
        self.dateline = dateline
        self.names: dict[str, str] = {}  # each group permuted, so two names never merge into one
        for group_name, group in NAME_GROUPS.items():
            stand_ins = random.Random(f"{seed}/{group_name}").sample(group, len(group))
            self.names.update(zip(group, stand_ins))
        self.name_pattern = re.compile("|".join(sorted(map(re.escape, self.names), key=len, reverse=True)))

    def _number(self, match: re.Match) -> str:
        token = match.group()
        if DATE_PART.match(match.string, match.end()):
            return token
        if YEAR.match(token):
            return str(int(token) + self.year_shift)
        rng = random.Random(f"{self.seed}/{token}")

        def redraw(position: int, ch: str) -> str:  # as many digits; a leading 0 stays, no new one
            if not ch.isdigit() or (position == 0 and ch == "0"):
                return ch
            return str(rng.randint(0 if position else 1, 9))

        return "".join(redraw(position, ch) for position, ch in enumerate(token))

    def __call__(self, text: str) -> str:
        text = self.name_pattern.sub(lambda match: self.names[match.group()], text)
        return NUMBER.sub(self._number, text).replace("近日", self.dateline)


def _shuffled(source: Source, rng: random.Random) -> list[int]:
    """Entry indexes in a new order: sections shuffled, and the articles within each section."""
    sections: dict[str | None, list[int]] = defaultdict(list)
    for index, (_, section, _) in enumerate(source.entries):
        sections[section].append(index)
    groups = list(sections.values())
    rng.shuffle(groups)
    for group in groups:
        rng.shuffle(group)
    return [index for group in groups for index in group]


def render(source: Source, number: int, seed: int, attempt: int) -> tuple[str, date]:
    """The text of synthetic issue `number` (1-based), and its first day."""
    start = date.fromisoformat(source.issue.date_start) - timedelta(weeks=number)
    end = date.fromisoformat(source.issue.date_end) - timedelta(weeks=number)
    key = f"{seed}/{number}/{attempt}"
    rng = random.Random(key)
    day = start + timedelta(days=rng.randint(0, 6))
    dateline = f"{day.year}年{day.month}月{day.day}日"
    perturb = Perturber(key, start.year - int(source.issue.date_start[:4]), dateline)
    header = list(source.header)
    header[source.date_line] = f"({start:%Y. %m. %d}-{end:%Y. %m. %d})"
    toc, body, section, page = ["目 录"], list(source.preamble), object(), 1  # no section yet
    for position, index in enumerate(_shuffled(source, rng), start=1):
        title, entry_section, span = source.entries[index]
        if entry_section != section:
            toc += ["", entry_section, ""] if entry_section else [""]  # a section heading
            section = entry_section
        toc.append(f"{position}. {perturb(title)} {page}")
        page += span
        lines = source.bodies[index]
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        body += [perturb(line) for line in lines] + [""]
    return "\n".join(header + toc + [""] + body), start


def make_corpus(count: int, out: Path, seed: int = 0, source_path: Path = SOURCE) -> list[Path]:
    """Write `count` synthetic issues into `out` (never inside corpus/); returns their paths."""
    out = out.resolve()
    corpus = (REPO / "corpus").resolve()
    if out == corpus or corpus in out.parents:
        raise SystemExit(f"refusing to write synthetic issues inside {corpus}: it holds real issues only")
    source = Source.read(source_path)
    seen = {chunk.text for chunk in chunk_issue(source.issue)}
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        for attempt in range(MAX_ATTEMPTS):
            text, start = render(source, number, seed, attempt)
            name = f"pv-digest-{start.isoformat()}.txt"
            issue = parse_issue(text, name)
            texts = {chunk.text for chunk in chunk_issue(issue)}
            if len(issue.articles) == len(source.issue.articles) and not texts & seen:
                break
        else:
            raise SystemExit(f"issue {number}: no parseable draw with unique chunk texts in {MAX_ATTEMPTS} attempts")
        seen |= texts
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def check_files(paths: list[Path], source_path: Path = SOURCE) -> list[dict]:
    """Articles, dates and cross-issue duplicate chunk texts of each file, by the real parser."""
    real = parse_issue(source_path.read_text(encoding="utf-8"), source_path.name)
    issues = [parse_issue(path.read_text(encoding="utf-8"), path.name) for path in paths]
    owners: dict[str, set[str]] = defaultdict(set)
    for issue in [real, *issues]:
        for chunk in chunk_issue(issue):
            owners[chunk.text].add(issue.id)
    rows = []
    for number, (path, issue) in enumerate(zip(paths, issues), start=1):
        want = date.fromisoformat(real.date_start) - timedelta(weeks=number)
        chunks = chunk_issue(issue)
        shared = sum(len(owners[chunk.text]) > 1 for chunk in chunks)
        ok = len(issue.articles) == len(real.articles) and issue.date_start == want.isoformat() and not shared
        rows.append({"file": path.name, "issue": issue.id, "dates": f"{issue.date_start}..{issue.date_end}",
                     "articles": len(issue.articles), "chunks": len(chunks), "shared texts": shared,
                     "ok": "yes" if ok else "NO"})
    return rows


def check_ingest(paths: list[Path]) -> list[dict]:
    """Ingest `paths` with the real pipeline into a temporary data dir; what the store holds."""
    with tempfile.TemporaryDirectory(prefix="kb-scaled-check-") as data_dir:
        kb = KnowledgeBase(Settings.from_env(data_dir=Path(data_dir)))
        seed_embedding_cache(kb)
        report = ingest(kb, paths, progress=False)
        update_embedding_cache(kb)
        conn = kb.store.connection()
        shared = Counter(
            row[0] for row in conn.execute(
                "SELECT c.issue_id FROM chunks c JOIN (SELECT text FROM chunks GROUP BY text"
                " HAVING count(DISTINCT issue_id) > 1) d ON d.text = c.text"
            )
        )
        rows = [
            {"issue": row[0], "dates": f"{row[1]}..{row[2]}", "articles": row[3], "chunks": row[4],
             "shared texts": shared[row[0]]}
            for row in conn.execute(
                "SELECT i.id, i.date_start, i.date_end,"
                " (SELECT count(*) FROM articles a WHERE a.issue_id = i.id),"
                " (SELECT count(*) FROM chunks c WHERE c.issue_id = i.id) FROM issues i ORDER BY i.id DESC"
            )
        ]
        kb.close()
    print(f"ingest: {report.summary()}" + (f"; failed: {report.failed}" if report.failed else ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many issues to write")
    parser.add_argument("out", type=Path, help="output folder (not inside corpus/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the real issue to derive from")
    parser.add_argument("--check", action="store_true", help="parse every file written and ingest a few")
    parser.add_argument("--check-ingest", type=int, default=3, help="files --check ingests (default 3)")
    args = parser.parse_args()
    paths = make_corpus(args.count, args.out, args.seed, args.source)
    print(f"wrote {len(paths)} issues to {args.out} ({paths[-1].name} .. {paths[0].name})")
    if args.check:
        rows = check_files(paths, args.source)
        print(f"\nparsed by indexer.parse ({sum(r['ok'] == 'yes' for r in rows)}/{len(rows)} ok;"
              " 'shared texts': chunk texts also found in another issue or in the source)")
        print_table(rows, list(rows[0]))
        print(f"\ningested with indexer.pipeline (first {args.check_ingest})")
        rows = check_ingest(paths[: args.check_ingest])
        print_table(rows, list(rows[0]))


if __name__ == "__main__":
    sys.exit(main())
