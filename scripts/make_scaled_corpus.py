"""Write N synthetic digest issues for benchmarks at scale: real articles recombined (the default)
or the real issue redrawn (--mode derived, the older corpus, kept for comparison).

    .venv/bin/python scripts/make_scaled_corpus.py 100 data/bench/corpus-100 [--mode recombined|derived]
                                                   [--seed 0] [--check] [--df]

--mode recombined (default): every article of ../shared/archive/issues/ (24 digest issues) and
of the real issue, and of the CMRC 2018 dev benchmark's issues (../shared/benchmarks/cmrc2018-dev/
corpus, 848 Wikipedia paragraphs), is drawn in shuffled rounds (each round a fresh permutation of
its pool), ten articles an issue, a slot taken from the encyclopaedia with probability --share
(0.3); each article whole (title, section, body lines), so every chunk is a real chunk and the
embedding cache serves it. Issues are spread evenly over the 30 years before the real issue. A
term is then about as common as in the digest's own archive at any size, where the derived corpus
repeats the real issue's ten stories so that ordinary terms match 20-65 % of all chunks; --df
prints the document frequencies of the most common terms beside the archive's.

--mode derived: issue i (1..N) is the source issue moved i weeks back in time (the header's date
range, hence the issue id; years in the text follow), with its sections, and the articles within
each section, shuffled: the table of contents is renumbered with page numbers recounted, and the
body follows the same order. Numbers are redrawn (not years, months or days), company / place /
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
POOL = [REPO.parent / "shared" / "archive" / "issues", REPO.parent / "shared" / "benchmarks" / "cmrc2018-dev" / "corpus"]
ARTICLES_PER_ISSUE = 10
SPAN_DAYS = 30 * 365
# Share of encyclopaedia articles: 0.3 keeps the digest's own terms near the archive's document
# frequencies (光伏 in 63 % of chunks against 79 %, 19 terms in over 20 % against 39) with a wider
# vocabulary; the derived corpus has 73 terms in over 20 %. --df prints the table.
ENCYCLOPAEDIA_SHARE = 0.3

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
    out = _output_folder(out)
    source = Source.read(source_path)
    seen = {chunk.text for chunk in chunk_issue(source.issue)}
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


def _output_folder(out: Path) -> Path:
    """`out`, created; never corpus/ or a folder inside it."""
    out = out.resolve()
    corpus = (REPO / "corpus").resolve()
    if out == corpus or corpus in out.parents:
        raise SystemExit(f"refusing to write synthetic issues inside {corpus}: it holds real issues only")
    out.mkdir(parents=True, exist_ok=True)
    return out


# ---- recombined: real articles of the archive, CMRC and the real issue, reshuffled over decades ----


@dataclass(frozen=True)
class PoolArticle:
    title: str
    section: str | None
    span: int  # pages
    body: list[str]  # from its title line to the next article's, trailing blank lines dropped
    chunks: int  # what the real chunker makes of it


def pool_files(source_path: Path = SOURCE) -> dict[str, list[Path]]:
    """The pool's issue files: the digest's own (the archive and the real issue) and the encyclopaedia's."""
    return {"digest": [*sorted(POOL[0].glob("*.txt")), source_path], "encyclopaedia": sorted(POOL[1].glob("*.txt"))}


def article_pool(paths: list[Path]) -> list[PoolArticle]:
    """Every article of `paths` whose issue the real parser reads whole (others are named and skipped)."""
    pool = []
    for path in paths:
        try:
            source = Source.read(path)
        except SystemExit as exc:
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        chunks = Counter(chunk.article_id for chunk in chunk_issue(source.issue))
        for (title, section, span), body, article in zip(source.entries, source.bodies, source.issue.articles):
            while body and not body[-1].strip():
                body = body[:-1]
            pool.append(PoolArticle(title, section, span, body, chunks[article.id]))
    return pool


class Rounds:
    """Articles of one pool in shuffled rounds: each round a fresh permutation of the whole pool."""

    def __init__(self, pool: list[PoolArticle], rng: random.Random):
        self.pool, self.rng, self.stream = pool, rng, []

    def take(self, avoid: set[str]) -> PoolArticle:
        """The next article whose title is not in `avoid` (a repeat at a round's seam waits its turn)."""
        for _ in range(2):
            if not self.stream:
                self.stream = self.rng.sample(self.pool, len(self.pool))
            position = next((i for i, a in enumerate(self.stream) if a.title not in avoid), None)
            if position is not None:
                return self.stream.pop(position)
            self.stream = []
        raise SystemExit(f"a pool of {len(self.pool)} articles cannot fill an issue without repeats")


def draw_issues(pools: dict[str, list[PoolArticle]], count: int, seed: int, share: float) -> list[list[PoolArticle]]:
    """`count` issues of ARTICLES_PER_ISSUE articles, each slot from the encyclopaedia with probability
    `share` and else from the digest; an article never twice in one issue."""
    rng = random.Random(f"recombined/{seed}")
    rounds = {name: Rounds(pool, rng) for name, pool in pools.items()}
    issues = []
    for _ in range(count):
        issue: list[PoolArticle] = []
        while len(issue) < ARTICLES_PER_ISSUE:
            name = "encyclopaedia" if rng.random() < share else "digest"
            issue.append(rounds[name].take({a.title for a in issue}))
        issues.append(issue)
    return issues


def render_recombined(source: Source, articles: list[PoolArticle], start: date) -> str:
    """An issue in the real one's layout: its header with the new dates, contents, then bodies."""
    header = list(source.header)
    header[source.date_line] = f"({start:%Y. %m. %d}-{start + timedelta(days=6):%Y. %m. %d})"
    sections: dict[str | None, list[PoolArticle]] = defaultdict(list)
    for article in articles:  # grouped by section, in order of first appearance
        sections[article.section].append(article)
    toc, body, page, position = ["目 录"], [], 1, 0
    for section, members in sections.items():
        toc += ["", section, ""] if section else [""]
        for article in members:
            position += 1
            toc.append(f"{position}. {article.title} {page}")
            page += article.span
            body += article.body + [""]
    return "\n".join(header + toc + [""] + body)


def make_recombined(count: int, out: Path, seed: int = 0, source_path: Path = SOURCE,
                    share: float = ENCYCLOPAEDIA_SHARE) -> list[Path]:
    """Write `count` recombined issues into `out`, newest first; returns their paths."""
    out = _output_folder(out)
    source = Source.read(source_path)
    last = date.fromisoformat(source.issue.date_start) - timedelta(weeks=1)
    step = SPAN_DAYS / count
    if step < 1:
        raise SystemExit(f"{count} issues do not fit {SPAN_DAYS} days at one issue a day")
    paths = []
    pools = {name: article_pool(paths) for name, paths in pool_files(source_path).items()}
    for number, articles in enumerate(draw_issues(pools, count, seed, share)):
        start = last - timedelta(days=round(number * step))
        path = out / f"pv-digest-{start.isoformat()}.txt"
        path.write_text(render_recombined(source, articles, start), encoding="utf-8")
        paths.append(path)
    return paths


def chunks_per_issue(source_path: Path = SOURCE, share: float = ENCYCLOPAEDIA_SHARE) -> float:
    """Mean chunks of a recombined issue: how many issues make N chunks."""
    pools = {name: article_pool(paths) for name, paths in pool_files(source_path).items()}
    mean = {name: sum(a.chunks for a in pool) / len(pool) for name, pool in pools.items()}
    return ARTICLES_PER_ISSUE * (share * mean["encyclopaedia"] + (1 - share) * mean["digest"])


def document_frequencies(paths: list[Path], sample: int = 4000, seed: int = 0) -> tuple[Counter, int]:
    """Per term, how many of (at most `sample`, drawn at random) chunks of `paths` contain it."""
    from kb.segment import terms

    texts = [chunk.text for path in paths for chunk in chunk_issue(parse_issue(path.read_text(encoding="utf-8"), path.name))]
    if len(texts) > sample:
        texts = random.Random(seed).sample(texts, sample)
    counts: Counter = Counter()
    for text in texts:
        counts.update({term for term in terms(text) if len(term) > 1})
    return counts, len(texts)


def df_rows(corpora: dict[str, list[Path]], top: int = 15) -> list[dict]:
    """Side by side: each corpus's most common terms with the share of chunks they occur in, and
    how many terms occur in more than 5 %, 10 % and 20 % of the chunks."""
    frequencies = {name: document_frequencies(paths) for name, paths in corpora.items()}
    rows = []
    for rank in range(top):
        row = {"rank": rank + 1}
        for name, (counts, n) in frequencies.items():
            term, df = counts.most_common(top)[rank]
            row[name] = f"{term} {100 * df / n:.1f}%"
        rows.append(row)
    for share in (0.05, 0.1, 0.2):
        rows.append({"rank": f"terms >{share:.0%}",
                     **{name: sum(df > share * n for df in counts.values()) for name, (counts, n) in frequencies.items()}})
    rows.append({"rank": "chunks read", **{name: n for name, (_, n) in frequencies.items()}})
    return rows


def check_files(paths: list[Path], expected: list[tuple[str, int]], source_path: Path = SOURCE,
                unique: bool = True) -> list[dict]:
    """Articles, dates and cross-issue duplicate chunk texts of each file, by the real parser, against
    the (first day, article count) `expected` of each; `unique`: a shared chunk text is a fault."""
    real = parse_issue(source_path.read_text(encoding="utf-8"), source_path.name)
    issues = [parse_issue(path.read_text(encoding="utf-8"), path.name) for path in paths]
    owners: dict[str, set[str]] = defaultdict(set)
    for issue in [real, *issues]:
        for chunk in chunk_issue(issue):
            owners[chunk.text].add(issue.id)
    rows = []
    for path, issue, (want_start, want_articles) in zip(paths, issues, expected):
        chunks = chunk_issue(issue)
        shared = sum(len(owners[chunk.text]) > 1 for chunk in chunks)
        ok = len(issue.articles) == want_articles and issue.date_start == want_start and not (unique and shared)
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
    parser.add_argument("--mode", choices=["recombined", "derived"], default="recombined",
                        help="real articles recombined (default), or the real issue redrawn (the older corpus)")
    parser.add_argument("--share", type=float, default=ENCYCLOPAEDIA_SHARE,
                        help="recombined: share of articles drawn from the CMRC encyclopaedia paragraphs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the real issue (its header; derived: its text)")
    parser.add_argument("--check", action="store_true", help="parse every file written and ingest a few")
    parser.add_argument("--check-ingest", type=int, default=3, help="files --check ingests (default 3)")
    parser.add_argument("--df", action="store_true", help="document frequencies of common terms beside the archive's")
    args = parser.parse_args()
    recombined = args.mode == "recombined"
    if recombined:
        paths = make_recombined(args.count, args.out, args.seed, args.source, args.share)
    else:
        paths = make_corpus(args.count, args.out, args.seed, args.source)
    print(f"wrote {len(paths)} {args.mode} issues to {args.out} ({paths[-1].name} .. {paths[0].name})")
    if args.df:
        archive = sorted(POOL[0].glob("*.txt"))
        print(f"\nshare of chunks containing each term (jieba terms of 2+ characters; up to 4,000 chunks each)")
        print_table(df_rows({f"{args.mode} ({len(paths)} issues)": paths, f"archive ({len(archive)} issues)": archive}),
                    ["rank", f"{args.mode} ({len(paths)} issues)", f"archive ({len(archive)} issues)"])
    if args.check:
        real_start = date.fromisoformat(parse_issue(args.source.read_text(encoding="utf-8"), args.source.name).date_start)
        expected = ([(p.stem.removeprefix("pv-digest-"), ARTICLES_PER_ISSUE) for p in paths] if recombined else
                    [((real_start - timedelta(weeks=n)).isoformat(), 10) for n in range(1, len(paths) + 1)])
        rows = check_files(paths, expected, args.source, unique=not recombined)
        print(f"\nparsed by indexer.parse ({sum(r['ok'] == 'yes' for r in rows)}/{len(rows)} ok;"
              " 'shared texts': chunk texts also found in another issue or in the source)")
        print_table(rows, list(rows[0]))
        print(f"\ningested with indexer.pipeline (first {args.check_ingest})")
        rows = check_ingest(paths[: args.check_ingest])
        print_table(rows, list(rows[0]))


if __name__ == "__main__":
    sys.exit(main())
