"""Crawl commands: `labourwatch crawl` (configured or ad hoc sources) and `labourwatch bench crawl`."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _parse_sets(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in values:
        key, sep, raw = v.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--set expects KEY=VALUE, got {v!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


@dataclass(frozen=True)
class BenchResult:
    """One crawl of the local demo board compared with its ground truth."""

    source: str
    status: str
    pages: int
    seconds: float
    pages_per_s: float
    peak_rss_mb: float
    expected: int  # non-malformed postings of this style on the board
    stored: int
    missing: int  # expected but not stored
    duplicates: int  # stored rows beyond one per external id
    extra: int  # stored but not expected (malformed pages stored, ids read wrongly)
    dropped: int
    stats: dict[str, Any]


@contextmanager
def scratch_env(home: Path, board_url: str) -> Iterator[None]:
    """LABOURWATCH_* pointing at a scratch home/SQLite database and the given demo board, restored after."""
    from db.session import get_engine
    from labourwatch.settings import get_settings

    keys = ("LABOURWATCH_HOME", "LABOURWATCH_DB_URL", "LABOURWATCH_DEMO_BOARD_URL", "LABOURWATCH_SOURCES_FILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["LABOURWATCH_HOME"] = str(home)
    os.environ["LABOURWATCH_DB_URL"] = f"sqlite:///{(home / 'bench.db').as_posix()}"
    os.environ["LABOURWATCH_DEMO_BOARD_URL"] = board_url
    os.environ.pop("LABOURWATCH_SOURCES_FILE", None)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
        get_engine.cache_clear()


def stored_ids(source: str) -> list[str]:
    """External ids of every stored posting of ``source`` (one per row, so duplicates would show)."""
    from sqlalchemy import select

    from db import schema
    from db.session import get_engine, session_scope

    with session_scope(get_engine()) as s:
        return list(s.scalars(select(schema.Posting.external_id).join(schema.Source)
                              .where(schema.Source.name == source)))


def compare(report: Any, expected_ids: set[str]) -> BenchResult:
    """A crawl report set against the ids the board should have yielded."""
    ids = stored_ids(report.source)
    st = report.stats.to_dict()
    return BenchResult(
        source=report.source, status=report.status, pages=st.get("response_count", 0),
        seconds=st.get("elapsed_s", 0.0), pages_per_s=st.get("pages_per_s") or 0.0,
        peak_rss_mb=st.get("peak_rss_mb", 0.0), expected=len(expected_ids), stored=len(ids),
        missing=len(expected_ids - set(ids)), duplicates=len(ids) - len(set(ids)),
        extra=len(set(ids) - expected_ids), dropped=sum(st.get("dropped", {}).values()), stats=st,
    )


def expected_ids(dataset: Any, style: str) -> set[str]:
    """Ids of the board's postings of ``style`` that are well-formed (malformed ones must be dropped)."""
    return {str(p.external_id) for p in dataset.postings if p.style == style and not p.malformed}


def run_bench(*, postings: int, seed: int, styles: tuple[str, ...] = ("html", "api"), faults: bool = False,
              recrawl: bool = False, home: Path | None = None) -> list[BenchResult]:
    """Serve a generated demo board on 127.0.0.1, crawl each style into a scratch database and compare;
    with ``recrawl`` each style is crawled a second time (incremental: results named ``<source> (again)``)."""
    from db.migrate import upgrade
    from db.session import get_engine
    from demoboard.generator import generate
    from demoboard.server import DemoBoard, FaultConfig
    from scrapers.crawl import crawl, crawl_job

    dataset = generate(postings, seed)
    fault_cfg = (FaultConfig(rate_500=0.02, rate_429=0.02, burst=2, slow_rate=0.01, slow_seconds=0.5,
                             truncate_rate=0.01, bad_encoding_rate=0.01, seed=seed)
                 if faults else FaultConfig())
    results = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp, DemoBoard(dataset, faults=fault_cfg) as board:
        with scratch_env(home or Path(tmp), board.url):
            upgrade(get_engine())
            for style in styles:
                report = crawl(crawl_job(f"demo_{style}"))
                results.append(compare(report, expected_ids(dataset, style)))
                if recrawl:
                    again = compare(crawl(crawl_job(f"demo_{style}")), expected_ids(dataset, style))
                    results.append(replace(again, source=f"{again.source} (again)"))
    return results


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("crawl")
    def crawl_cmd(
        sources: list[str] = typer.Argument(None, help="Source names from the sources file."),
        all_: bool = typer.Option(False, "--all", help="Crawl every enabled source."),
        spider: str | None = typer.Option(None, "--spider", help="Ad hoc: spider slug (jobposting, greenhouse, "
                                          "lever) to point at --url."),
        url: str | None = typer.Option(None, "--url", help="Ad hoc: start, listing or sitemap URL."),
        source: str | None = typer.Option(None, "--source", help="Ad hoc: source name to store postings under."),
        max_requests: int | None = typer.Option(None, "--max-requests", help="Request budget of each run."),
        fresh: bool = typer.Option(False, "--fresh", help="Discard a paused crawl's queue instead of resuming."),
        full: bool = typer.Option(False, "--full", help="Refetch every detail page (not incremental)."),
        set_: list[str] = typer.Option([], "--set", help="Extra Scrapy/LW_* setting KEY=VALUE (repeatable)."),
        list_: bool = typer.Option(False, "--list", help="List the configured sources and exit."),
        base_url: str | None = typer.Option(None, "--base-url", help="Replace scheme and host of every URL of "
                                            "the crawled sources (replaying recorded responses)."),
    ) -> None:
        """Crawl sources into the database, one subprocess per source; exit 1 if any failed, 3 if any lost pages."""
        from db.migrate import upgrade
        from db.session import get_engine
        from scrapers.config import SourceConfigError, load_sources, sources_path
        from scrapers.crawl import crawl, crawl_job

        try:
            configured = load_sources()
        except SourceConfigError as exc:
            console.print(f"[red]{exc}[/red]", soft_wrap=True)
            raise typer.Exit(2) from exc
        if list_:
            table = Table(title=f"sources in {sources_path()}")
            for col in ("name", "spider", "enabled", "country", "lang", "start", "max requests"):
                table.add_column(col)
            for s in configured.values():
                start = (s.sitemap_urls or s.start_urls or ((s.api.list_url,) if s.api else ("",)))[0]
                table.add_row(s.name, s.spider, "yes" if s.enabled else "no", s.country or "-", s.lang or "-", start,
                              str(s.max_requests or "-"))
            console.print(table)
            return
        extra = _parse_sets(set_)
        if full:
            extra["LW_INCREMENTAL"] = False
        jobs: list[tuple[str, str | None, str | None]] = []
        if spider is not None:
            from scrapers.spiders import SPIDERS

            if spider not in SPIDERS:
                console.print(f"labourwatch crawl: --spider {spider!r} is not a spider; known: "
                              f"{', '.join(sorted(SPIDERS))}", style="red", markup=False)
                raise typer.Exit(2)
        names = list(sources or [])
        if url or spider:
            if not (url and source):
                raise typer.BadParameter("an ad hoc crawl needs --url and --source (and --spider, default "
                                         "jobposting)")
            jobs.append((source, url, spider))
        elif source:  # --source NAME names a configured source (with --base-url, replayed elsewhere)
            names.append(source)
        if all_:
            names += [n for n, s in configured.items() if s.enabled and n not in names]
        unknown = [n for n in names if n not in configured]
        if unknown:
            console.print(f"[red]unknown source(s) {unknown}; configured: {sorted(configured)}[/red]")
            raise typer.Exit(2)
        jobs += [(n, None, None) for n in names]
        if not jobs:
            raise typer.BadParameter("name sources to crawl, --all, or --spider/--url/--source")
        upgrade(get_engine())  # once for every crawl of this command
        failed = partial = 0
        for name, u, sp in jobs:
            console.print(f"crawling [bold]{name}[/bold] ...")
            try:
                report = crawl(crawl_job(name, url=u, spider=sp, max_requests=max_requests, resume=not fresh,
                                         extra_settings=extra or None, base_url=base_url))
            except SourceConfigError as exc:
                console.print(f"[red]{exc}[/red]", soft_wrap=True)
                failed += 1
                continue
            colour = {"succeeded": "green", "partial": "yellow"}.get(report.status, "red")
            console.print(f"[{colour}]{report.summary()}[/{colour}]")
            console.print(f"  log: {report.log_path}")
            failed += report.status == "failed"
            partial += report.status == "partial"
        if failed:
            raise typer.Exit(1)
        if partial:  # pages were lost: the data is incomplete, so scripts must notice
            raise typer.Exit(3)

    @bench_app.command("crawl")
    def bench_crawl(
        postings: int = typer.Option(2000, "--postings", "-n", help="Postings the local demo board generates."),
        style: str = typer.Option("both", "--style", help="html, api or both."),
        seed: int = typer.Option(2026, "--seed"),
        faults: bool = typer.Option(False, "--faults", help="Inject 500/429 bursts, slow, truncated and "
                                    "mis-encoded pages."),
        recrawl: bool = typer.Option(False, "--recrawl", help="Crawl each style a second time (incremental)."),
    ) -> None:
        """Crawl a fresh local demo board into a scratch database; print pages/s, peak memory and the
        comparison with the board's ground truth (missing and duplicate postings)."""
        if style not in ("html", "api", "both"):
            raise typer.BadParameter("--style must be html, api or both")
        results = run_bench(postings=postings, seed=seed, styles=("html", "api") if style == "both" else (style,),
                            faults=faults, recrawl=recrawl)
        table = Table(title=f"crawl benchmark: {postings} postings, seed {seed}{', faults' if faults else ''}")
        for col in ("source", "status", "pages", "seconds", "pages/s", "peak MB", "expected", "stored",
                    "missing", "duplicates", "extra", "dropped"):
            table.add_column(col)
        for r in results:
            table.add_row(r.source, r.status, str(r.pages), f"{r.seconds:.1f}", f"{r.pages_per_s:.1f}",
                          f"{r.peak_rss_mb:.0f}", str(r.expected), str(r.stored), str(r.missing),
                          str(r.duplicates), str(r.extra), str(r.dropped))
        console.print(table)
        for r in results:
            print(f"{r.source}: {r.status}; {r.pages} pages in {r.seconds:.1f} s = {r.pages_per_s:.1f} pages/s; "
                  f"peak {r.peak_rss_mb:.0f} MB; expected {r.expected}, stored {r.stored}, missing {r.missing}, "
                  f"duplicates {r.duplicates}, extra {r.extra}, dropped {r.dropped} {r.stats.get('dropped')}; "
                  f"retries {r.stats.get('retries')}; inserted {r.stats.get('inserted')}, "
                  f"skipped as unchanged {r.stats.get('skipped_unchanged')}")
        if any(r.missing or r.duplicates or r.extra or r.status == "failed" for r in results):
            raise typer.Exit(1)
