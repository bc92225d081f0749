"""Core commands: database upgrade, file import, status."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    @db_app.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
        """Create or migrate the database schema to REVISION (default: latest)."""
        from db.migrate import current_revision, upgrade
        from db.session import get_engine
        from labourwatch.settings import get_settings

        get_settings().ensure_dirs()
        engine = get_engine()
        upgrade(engine, revision)
        console.print(f"database {engine.url.render_as_string()} at revision {current_revision(engine)}")

    @db_app.command("downgrade")
    def db_downgrade(revision: str = typer.Argument(..., help="Target revision ('base' empties it).")) -> None:
        """Migrate the database schema down to REVISION."""
        from db.migrate import current_revision, downgrade
        from db.session import get_engine

        engine = get_engine()
        downgrade(engine, revision)
        console.print(f"database at revision {current_revision(engine)}")

    @app.command("import")
    def import_(
        path: Path = typer.Argument(..., help="CSV, JSONL or XLSX file of postings (see README: column contract)."),
        source: str | None = typer.Option(None, "--source", help="Source name; default the file's stem."),
        rejects: Path | None = typer.Option(None, "--rejects", help="Rejects CSV; default <file>.rejects.csv "
                                            "under <home>/rejects/."),
    ) -> None:
        """Import postings from a file; idempotent, bad rows go to a rejects file."""
        from flows.importing import import_file
        from scrapers.fileimport import ImportFileError

        try:
            report = import_file(path, source=source, rejects_path=rejects, progress=True)
        except ImportFileError as exc:
            console.print(f"labourwatch import: {exc}", soft_wrap=True, markup=False, style="red")
            raise typer.Exit(2) from exc
        console.print(report.summary(), soft_wrap=True, markup=False)
        if report.imported == 0:
            raise typer.Exit(1)

    @app.command("status")
    def status() -> None:
        """Postings per source, last crawl and labelled share."""
        from db.migrate import upgrade
        from db.queries import status_rows
        from db.session import get_engine

        engine = get_engine()
        upgrade(engine)
        rows = status_rows(engine)
        table = Table(title=f"labourwatch status — {engine.url.render_as_string()}")
        for col in ("source", "postings", "canonical", "labelled", "last run", "status"):
            table.add_column(col)
        for r in rows:
            table.add_row(r.source, str(r.postings), str(r.canonical), f"{r.labelled_share:.1%}",
                          r.last_run or "-", r.last_status or "-")
        console.print(table)
