"""The top floor: the `kb` command line, where the indexer, the library and the web app meet.

Each click command is a thin shell over a `KnowledgeBase` call (`ingest` runs the indexer,
`serve` starts the web app); library errors become a CLI message here, at the edge. Nothing
imports this package: `kb` (the console script) runs `cli:main`. Every command takes
`--data-dir` (or KB_DATA_DIR) after its name.
"""

from __future__ import annotations

import functools
import html
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

import click

from kb.attribution import attribution_line
from kb.config import Settings
from kb.evaluate import evaluate, format_compare, format_table, load_queries, misses
from kb.knowledge_base import KnowledgeBase
from kb.errors import QueryError
from kb.search import GROUPS, MODES, SORTS, SearchRequest
from kb.filters import Filters, parse_date
from kb.errors import BackendError, ModelError

MARK = re.compile(r"</?mark>")


def data_dir_option(command):
    """--data-dir and --model on every command; the command receives a `KnowledgeBase`."""

    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Index folder (env KB_DATA_DIR, default ./data).")
    @click.option("--model", default=None, help="Embedding model (env KB_MODEL, default m3e-small).")
    @functools.wraps(command)
    def wrapper(*args, data_dir, model, **kwargs):
        settings = Settings.from_env(data_dir=data_dir, model=model)
        kb = KnowledgeBase(settings)
        try:
            return command(kb, *args, **kwargs)
        except (ModelError, BackendError) as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            kb.close()

    return wrapper


@click.group()
def main() -> None:
    """Search the 光伏信息精选 digests: ingest issues, search them, evaluate, serve."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Drop indexed issues whose file is gone.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def ingest(kb: KnowledgeBase, paths: tuple[Path, ...], prune: bool, quiet: bool) -> None:
    """Index issue files (default: the corpus folder). Unchanged files are skipped."""
    from indexer.pipeline import ingest as run_ingest  # here, so `kb search` never loads the readers

    report = run_ingest(kb, list(paths) or [kb.settings.corpus_dir], prune=prune, progress=not quiet)
    for path, reason in report.failed.items():
        click.echo(f"error: {reason}", err=True)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


def _search_options(command):
    options = [
        click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True),
        click.option("--k", "k", type=int, default=10, show_default=True),
        click.option("--offset", type=int, default=0),
        click.option("--date-from", default=None, help="YYYY-MM-DD: issues ending on or after it."),
        click.option("--date-to", default=None, help="YYYY-MM-DD: issues starting on or before it."),
        click.option("--section", default=None),
        click.option("--type", "chunk_type", default=None, help="text, table_row or policy."),
        click.option("--source", default=None, help="Original source (来源), exact."),
        click.option("--no-expand", is_flag=True, help="No English->Chinese query expansion."),
        click.option("--group", type=click.Choice(GROUPS), default="none", show_default=True,
                     help="article: each article once, with its best passage."),
        click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True),
        click.option("--no-interpret", is_flag=True, help="Do not read time words (8月11日当周, 三季度) as dates."),
        click.option("--min-similarity", type=float, default=None,
                     help="Cosine a semantic hit needs, replacing the calibrated threshold (exploration)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command(name="search")
@click.argument("query")
@_search_options
@click.option("--json", "as_json", is_flag=True, help="Print the result contract as JSON.")
@data_dir_option
def search_command(kb: KnowledgeBase, query: str, as_json: bool, **options) -> None:
    """Search for QUERY; QUERY '-' reads one query per line from stdin and prints JSON lines."""
    if options["mode"] != "keyword":
        kb.warm()  # so took_ms measures the query, not the model load
    if query == "-":
        for line in sys.stdin:
            if line.strip():
                click.echo(json.dumps(_answer_line(kb, line.strip(), options), ensure_ascii=False))
        return
    try:
        response = kb.search(_request(query, options))
    except QueryError as exc:
        raise click.UsageError(exc.message) from exc
    if as_json:
        click.echo(json.dumps(response, ensure_ascii=False, indent=2))
    else:
        click.echo(_readable(response))


def _request(query: str, options: dict) -> SearchRequest:
    return SearchRequest(
        query=query,
        mode=options["mode"],
        k=options["k"],
        offset=options["offset"],
        filters=Filters(options["date_from"], options["date_to"], options["section"], options["chunk_type"],
                        options["source"]),
        expand=False if options["no_expand"] else None,
        group=options["group"],
        sort=options["sort"],
        interpret=not options["no_interpret"],
        min_similarity=options["min_similarity"],
    )


def _answer_line(kb: KnowledgeBase, query: str, options: dict) -> dict:
    """One JSON line of `kb search -`: the result contract, or the error, so one bad line stops nothing."""
    try:
        return kb.search(_request(query, options))
    except QueryError as exc:
        return {"query": query, "error": {"code": exc.code, "message": exc.message}}


def _readable(response: dict) -> str:
    more = "+" if response.get("total_relation") == "gte" else ""
    unit = "articles" if response.get("group") == "article" else "matches"
    lines = [f"{response['total']}{more} {unit} ({response['mode']}, {response['took_ms']} ms)"]
    if response.get("interpreted"):
        said = response["interpreted"]
        lines.append(f"read 「{said['from_text']}」 as {said['date_from']}..{said['date_to']} ({said['mode']};"
                     " --no-interpret to turn off)")
    for number, hit in enumerate(response["results"], start=1):
        if sys.stdout.isatty():
            snippet = MARK.sub(lambda m: "\x1b[1m" if m.group(0) == "<mark>" else "\x1b[0m", hit["snippet"])
        else:
            snippet = MARK.sub("", hit["snippet"])
        lines += [
            "",
            f"{number}. {hit['article']['title']}  [{hit['type']}{' · OCR' if hit.get('ocr') else ''} · {hit['score']:.4f}]",
            f"   {attribution_line(hit['issue'], hit['article'])}",
            f"   {html.unescape(snippet)}",
            f"   {_evidence(hit['scores'])}",
        ]
        if hit.get("passages", {}).get("count"):
            lines.append(f"   + {hit['passages']['count']} more matching passages: {', '.join(hit['passages']['ids'])}")
    if not response["results"]:
        lines.append("no results")
    return "\n".join(lines)


def _evidence(scores: dict) -> str:
    keyword = (f"bm25 {scores['keyword']:.2f} (#{scores['keyword_rank']})" if scores["keyword"] is not None
               else "no keyword hit")
    semantic = f"cosine {scores['semantic']:.3f}" if scores["semantic"] is not None else "no cosine"
    if scores["semantic_rank"]:
        semantic += f" (#{scores['semantic_rank']})"
    return f"why: {keyword} · terms {scores['keyword_share']:.0%} · {semantic} · fused {scores['fused']:.3f}"


@main.command(name="eval")
@click.argument("queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", "mode", type=click.Choice([*MODES, "all"]), default="all", show_default=True)
@click.option("--no-expand", is_flag=True, help="No English->Chinese query expansion.")
@click.option("--misses", "show_misses", is_flag=True, help="List queries not answered at rank 1.")
@click.option("--compare", is_flag=True, help="keyword / semantic / hybrid side by side, with hybrid's deltas.")
@click.option("--no-interpret", is_flag=True, help="Do not read time words in the queries.")
@data_dir_option
def eval_command(kb: KnowledgeBase, queries_file: Path, mode: str, no_expand: bool, show_misses: bool,
                 compare: bool, no_interpret: bool) -> None:
    """MRR@10, hit@1 and hit@5 over the answerable labelled queries (JSON lines: id, q, article,
    contains, kind, issue), and the share of `none` queries that came back empty."""
    queries = load_queries(queries_file)
    modes = list(MODES) if mode == "all" or compare else [mode]
    scores = evaluate(kb, queries, modes, expand=False if no_expand else None, interpret=not no_interpret)
    click.echo(format_compare(scores, queries) if compare else format_table(scores, queries))
    if show_misses:
        click.echo("\n".join(misses(scores, queries)))


@main.command()
@click.option("--zero-results", is_flag=True, help="Only the queries that found nothing.")
@click.option("--since", default=None, help="YYYY-MM-DD: searches on or after this day.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def queries(kb: KnowledgeBase, zero_results: bool, since: str | None, limit: int, as_json: bool) -> None:
    """What members searched on the site and the API: the most frequent queries, or those that
    found nothing (the log is data-dir/queries.jsonl; KB_QUERY_LOG=0 turns it off)."""
    try:
        since = parse_date(since, "date_from")
    except QueryError as exc:
        raise click.UsageError(exc.message) from exc
    rows = kb.queries.summary(since=since, zero_results=zero_results, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no searches logged" + (" that found nothing" if zero_results else ""))
        return
    click.echo(f"{'searches':>8} {'found nothing':>13}  {'last':<25} query")
    for row in rows:
        click.echo(f"{row.count:>8} {row.zero_results:>13}  {row.last:<25} {row.query}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def stats(kb: KnowledgeBase, as_json: bool) -> None:
    """Counts per issue, section and type; database and vector index sizes."""
    counts = kb.stats()
    if as_json:
        click.echo(json.dumps(counts, ensure_ascii=False, indent=2))
        return
    for group, values in counts.items():
        click.echo(f"{group}:")
        for name, value in values.items():
            click.echo(f"  {name:<24} {value}")


@main.command()
@click.option("--repair", is_flag=True, help="Rebuild what is derived from the chunks: FTS rows, embeddings, vectors.")
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def check(kb: KnowledgeBase, repair: bool, as_json: bool) -> None:
    """Verify that the database and the vector index agree; exit 1 if a problem remains."""
    report = kb.repair() if repair else kb.check()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report.repaired:
            click.echo(f"repaired: {line}")
        for problem in report.problems:
            hint = "" if problem.repairable else " (not repairable here: re-ingest the files)"
            click.echo(f"problem: {problem.code}: {problem.message}{hint}")
        counts = ", ".join(f"{name} {value}" for name, value in report.counts.items())
        click.echo(f"{'ok' if report.ok else 'problems found'}: {counts}")
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--threads", default=4, type=click.IntRange(1, 64), show_default=True, envvar="KB_THREADS",
              help="Worker threads (env KB_THREADS).")
@data_dir_option
def serve(kb: KnowledgeBase, host: str, port: int, threads: int) -> None:
    """Serve the search pages and the JSON API with waitress (a production WSGI server), at /."""
    from web import create_app  # here, so the other commands never load Flask
    from web.server import serve as serve_app

    try:
        app = create_app(kb=kb)
    except ValueError as exc:  # a setting the app cannot use: KB_TRUSTED_PROXIES, KB_FORWARDED_HEADER
        raise click.ClickException(str(exc)) from exc
    click.echo("loading the model and the indexes…", err=True)
    kb.warm()  # model, vector index and segmenter load now, not on the first request
    click.echo(f"serving {kb.settings.data_dir} on http://{host}:{port}/ with {threads} threads", err=True)
    serve_app(app, host=host, port=port, threads=threads)
