"""Orchestration commands: nightly, backfill, reclassify, monthly-brief, serve, deploy, demo."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.markdown import Markdown

from flows.cli_shared import prefect_setup

console = Console()
app = typer.Typer()


@app.command("nightly")
def nightly_cmd(
    source: list[str] = typer.Option(None, "--source", "-s", help="Crawl only these sources (repeatable)."),
    max_requests: int | None = typer.Option(None, "--max-requests", help="Request budget per source."),
) -> None:
    """Run the nightly flow once, now: crawl → classify → dedupe → trends (no server needed)."""
    prefect_setup()
    from flows.nightly import nightly

    report = nightly(sources=source or None, max_requests=max_requests)
    console.print(Markdown(report.markdown()))
    if not report.ok:
        raise typer.Exit(1)



@app.command("backfill")
def backfill_cmd(
    start: str = typer.Option(..., "--start", help="First month, YYYY-MM."),
    end: str = typer.Option(..., "--end", help="Last month, YYYY-MM."),
    crawl: bool = typer.Option(True, "--crawl/--no-crawl", help="Crawl the sources' history first."),
    source: list[str] = typer.Option(None, "--source", "-s", help="Crawl only these sources."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress", help="Live progress display; default: "
                                              "only when the output is a terminal."),
) -> None:
    """Re-run the months START..END: crawl history, classify, dedupe and recompute their trends."""
    from flows.tasks.runstate import month_range

    try:
        month_range(start, end)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    prefect_setup()
    from flows.backfill import backfill
    from flows.progress import shown

    with shown(console, progress):
        report = backfill(start=start, end=end, crawl=crawl, sources=source or None)
    console.print(Markdown(report.pipeline.markdown()))
    from rich.table import Table

    table = Table(title=f"backfill {start}..{end}")
    for col in ("month", "postings", "canonical", "labelled", "trend_rows"):
        table.add_column(col, justify="right")
    for row in report.months:
        table.add_row(*(str(row[c]) for c in ("month", "postings", "canonical", "labelled", "trend_rows")))
    console.print(table)
    if not report.pipeline.ok:
        raise typer.Exit(1)



@app.command("reclassify")
def reclassify_cmd(
    model_version: str | None = typer.Option(None, "--model-version", help="Classifier version; "
                                             "default the newest trained one."),
) -> None:
    """Label all history with a (new) classifier version, recompute trends, compare with the old labels."""
    prefect_setup()
    from flows.backfill import reclassify

    r = reclassify(model_version=model_version)
    console.print(f"labelled {r.labelled} postings with {r.model_version} "
                  f"(previous {r.previous_version or '-'}); trend rows changed: {r.trend_rows_changed}")
    for f, share in r.agreement.items():
        console.print(f"  {f}: {share:.1%} of {r.compared} postings agree with {r.previous_version}")
    for v, (ok, n) in r.audit_agreement.items():
        console.print(f"  {v}: role agrees with {ok} of {n} audited postings ({ok / n:.1%})")



@app.command("monthly-brief")
def monthly_brief_cmd(
    month: str | None = typer.Option(None, "--month", help="YYYY-MM; default last month."),
    lang: str = typer.Option("zh", "--lang", help="zh or en."),
) -> None:
    """Run the monthly brief flow: the PDF brief of MONTH, recorded in the database."""
    prefect_setup()
    from flows.monthly_brief import monthly_brief

    s = monthly_brief(month=month, lang=lang)
    console.print(f"brief {s.month} ({s.lang}): {s.path} — {s.pages} pages, {s.seconds:.1f} s")
    for i, text in enumerate(s.findings, 1):
        console.print(f"  {i}. {text}")



@app.command("serve")
def serve_cmd(
    limit: int | None = typer.Option(None, "--limit", help="Most flow runs at once."),
) -> None:
    """Register the schedules (nightly 02:00, brief 08:00 on the 1st) and run them; needs a Prefect server."""
    prefect_setup()
    from flows.deploy import MONTHLY_BRIEF_CRON, NIGHTLY_CRON, require_server, serve
    from labourwatch.settings import get_settings

    try:
        url = require_server()
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    tz = get_settings().timezone
    console.print(f"serving on {url}: nightly '{NIGHTLY_CRON}', monthly-brief '{MONTHLY_BRIEF_CRON}' ({tz})")
    serve(limit=limit)



@app.command("deploy")
def deploy_cmd(
    work_pool: str = typer.Option(..., "--work-pool", help="Work pool whose workers run the flows."),
) -> None:
    """Deploy the scheduled flows to a work pool (start workers with `prefect worker start --pool NAME`)."""
    prefect_setup()
    from flows.deploy import SCHEDULED, deploy_to_pool

    try:
        ids = deploy_to_pool(work_pool)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    for (name, (_, cron)), dep_id in zip(SCHEDULED.items(), ids, strict=True):
        console.print(f"deployed {name} ('{cron}') to pool {work_pool}: {dep_id}")



@app.command("demo")
def demo_cmd(
    postings: int | None = typer.Option(None, "--postings", help="Demo board size; default 20000."),
    seed: int | None = typer.Option(None, "--seed", help="Generator seed; default 2026."),
    lang: str = typer.Option("zh", "--lang", help="Brief language: zh or en."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress", help="Live progress display; default: "
                                              "only when the output is a terminal."),
) -> None:
    """The main job on embedded defaults: demo board → backfill → nightly → trends in SQLite → brief."""
    prefect_setup()
    from flows.demo import run_demo
    from flows.progress import shown

    t0 = time.perf_counter()
    with shown(console, progress):
        result = run_demo(postings=postings, seed=seed, lang=lang, say=console.print)
    wall = time.perf_counter() - t0
    console.print(Markdown(result.backfill_summary))
    console.print(Markdown(result.nightly_summary))
    console.print(f"\n[bold]done in {wall:.0f} s[/bold] ({result.postings} postings, "
                  f"{result.months[0]}..{result.months[1]})")
    console.print(f"  database:     {result.database}")
    console.print(f"  brief (PDF):  {result.brief}")
    console.print(f"  ground truth: {result.truth_dir}")
    console.print("  analysts:     labourwatch status · labourwatch query … · "
                  f"labourwatch findings --month {result.months[1]}")
    console.print("\n[bold]headline findings[/bold]")
    for i, text in enumerate(result.findings, 1):
        console.print(f"  {i}. {text}")
    if len(result.findings) < 3 and result.withheld:
        console.print(f"  ({len(result.withheld)} more withheld: cells under the minimum size, e.g. "
                      f"{result.withheld[0]}; a larger --postings gives more)")
    # One short line (no wrapping at 80 columns): the command that opens the dashboard on this database.
    console.print("\n[bold]dashboard:[/bold] labourwatch dashboard  (then open http://127.0.0.1:8050/)")
