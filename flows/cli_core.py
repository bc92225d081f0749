"""Core commands: file import and status."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer()



@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="CSV, JSONL or XLSX file of postings (see README: column contract)."),
    source: str | None = typer.Option(None, "--source", help="Source name; default the file's stem."),
    rejects: Path | None = typer.Option(None, "--rejects", help="Rejects CSV; default <file>.rejects.csv "
                                        "under <home>/rejects/."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of a CSV/JSONL file "
                                        "(e.g. gb18030, cp1252); default detected."),
) -> None:
    """Import postings from a file; idempotent, bad rows go to a rejects file."""
    from flows.importing import import_file
    from scrapers.fileimport import ImportFileError

    try:
        report = import_file(path, source=source, rejects_path=rejects, progress=True, encoding=encoding)
    except ImportFileError as exc:
        Console(stderr=True).print(f"labourwatch import: {exc}", soft_wrap=True, markup=False, style="red")
        raise typer.Exit(2) from exc
    console.print(report.summary(), soft_wrap=True, markup=False)
    if report.imported == 0:
        raise typer.Exit(1)



@app.command("status")
def status() -> None:
    """Postings per source, last crawl and labelled share."""
    from db.migrate import upgrade
    from db.queries import status_rows
    from db.runs import mark_interrupted
    from db.session import get_engine

    engine = get_engine()
    upgrade(engine)
    mark_interrupted(engine)  # a killed run shows as interrupted, not running
    rows = status_rows(engine)
    table = Table(title=f"labourwatch status — {engine.url.render_as_string()}")
    for col in ("source", "postings", "canonical", "labelled", "last run", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.source, str(r.postings), str(r.canonical), f"{r.labelled_share:.1%}",
                      r.last_run or "-", r.last_status or "-")
    console.print(table)
