"""`labourwatch sources list | show NAME | check NAME`: the source catalogue, and a live check of one source."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer(help="The catalogue of job-board sources: list, show, check live.", no_args_is_help=True)


def _load() -> dict:
    from scrapers.config import SourceConfigError, load_sources

    try:
        return load_sources()
    except SourceConfigError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc


def _get(name: str):  # noqa: ANN202
    sources = _load()
    if name not in sources:
        console.print(f"[red]unknown source {name!r}; known: {', '.join(sorted(sources))}[/red]")
        raise typer.Exit(2)
    return sources[name]


@app.command("list")
def list_cmd() -> None:
    """Every source of the catalogue: adapter, country, language, whether it is enabled and needs your auth."""
    from scrapers.config import auth_path, sources_path

    table = Table(title=f"sources in {sources_path()}")
    for col in ("name", "spider", "enabled", "country", "lang", "auth", "browser", "tokens"):
        table.add_column(col)
    for s in _load().values():
        auth = ("present" if auth_path(s).exists() else "MISSING") if s.needs_auth else "-"
        table.add_row(s.name, s.spider, "yes" if s.enabled else "no", s.country or "-", s.lang or "-", auth,
                      "yes" if s.render else "-", ", ".join(s.tokens) or "-")
    console.print(table)


@app.command("show")
def show_cmd(name: str = typer.Argument(..., help="Source name.")) -> None:
    """One source's configuration: URLs, politeness, field mapping, what it needs from you."""
    from scrapers.check import describe_source

    print(json.dumps(describe_source(_get(name)), ensure_ascii=False, indent=2))


@app.command("check")
def check_cmd(
    name: str = typer.Argument(..., help="Source name."),
    base_url: str | None = typer.Option(None, "--base-url", help="Replace scheme and host of every URL."),
) -> None:
    """Fetch one listing and one detail page live, parse them and print the fields found and missing, and
    why a request failed; exit 1 when the source does not work."""
    from scrapers.check import CHECK_FIELDS, REQUIRED, check_source
    from scrapers.config import SourceConfigError, with_base_url

    src = _get(name)
    try:
        if base_url:
            src = with_base_url(src, base_url)
        report = check_source(src)
    except SourceConfigError as exc:
        console.print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    for step in report.steps:
        mark = "[green]ok[/green]" if step.ok else "[red]FAILED[/red]"
        console.print(f"{step.what:8} {mark} {step.status or '-'} {step.url}\n         {step.message}",
                      highlight=False, soft_wrap=True)
    if report.listed is not None:
        console.print(f"postings on the listing page: {report.listed}")
    if report.posting is not None:
        fields = report.fields
        found = [f for f in CHECK_FIELDS if fields[f]]
        missing = [f for f in CHECK_FIELDS if not fields[f]]
        console.print(f"first posting: {report.posting.external_id}")
        for f in found:
            value = " ".join(str(fields[f]).split())
            console.print(f"  [green]found[/green]   {f:16} {value[:100]}", highlight=False)
        for f in missing:
            console.print(f"  [yellow]missing[/yellow] {f}" + (" (required)" if f in REQUIRED else ""))
    console.print(f"{name}: " + ("[green]works[/green]" if report.ok else "[red]does not work[/red]"))
    if not report.ok:
        raise typer.Exit(1)
