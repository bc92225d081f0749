"""The ``labourwatch brief`` command: render a month's PDF brief from the trend tables."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()
app = typer.Typer()


def _previous_month() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from labourwatch.contract import Month
    from labourwatch.settings import get_settings

    return str(Month.of(datetime.now(ZoneInfo(get_settings().timezone))) + -1)



@app.command("brief")
def brief(
    month: str | None = typer.Option(None, "--month", help="Month to report, YYYY-MM; default last month."),
    lang: str = typer.Option("zh", "--lang", help="Language: zh (default) or en."),
    output: Path | None = typer.Option(None, "--output", "-o", help="PDF file; default "
                                       "<home>/briefs/brief-YYYY-MM-<lang>[-<country>].pdf."),
    country: str | None = typer.Option(None, "--country", help="Market: ISO code (CN, GB, ...); `all` pools "
                                       "every country; default the largest."),
) -> None:
    """Render the monthly PDF brief from the trend tables and record it in the database."""
    from brief.render import BriefError, render_brief
    from db.migrate import upgrade
    from db.session import get_engine

    engine = get_engine()
    upgrade(engine)
    from db.runs import mark_interrupted

    mark_interrupted(engine)  # a killed run shows as interrupted, not running
    try:
        result = render_brief(engine, month or _previous_month(), lang=lang, output=output, country=country)
    except BriefError as exc:
        console.print(f"[red]brief failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{result.path} — {result.pages} pages, sha256 {result.sha256[:12]}…, "
                  f"rendered in {result.seconds:.1f} s")
