"""`labourwatch crawl`: crawl configured or ad hoc sources into the database."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer()

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
    progress: bool | None = typer.Option(None, "--progress/--no-progress", help="Live progress display; default: "
                                              "only when the output is a terminal."),
    shards: int | None = typer.Option(None, "--shards", min=1, max=64, help="Processes that crawl each source "
                                      "together, each its own part of the detail pages (default "
                                      "LABOURWATCH_CRAWL_SHARDS)."),
) -> None:
    """Crawl sources into the database, one subprocess per source (or --shards per source); exit 1 if any failed, 3 if any lost pages."""
    from db.migrate import upgrade
    from db.session import get_engine
    from flows.progress import Display, wanted
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
            job = crawl_job(name, url=u, spider=sp, max_requests=max_requests, resume=not fresh,
                            extra_settings=extra or None, base_url=base_url, shards=shards)
            if wanted(progress, console):
                with Display(console) as display:
                    report = crawl(job, progress=display)
            else:
                report = crawl(job)
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
