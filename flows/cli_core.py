"""Core commands: database upgrade, file import, status."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    register_bench(bench_app)

    @db_app.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
        """Create or migrate the database schema to REVISION (default: latest); on PostgreSQL also set up the
        analyst role (see `db grant-analyst`)."""
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
        from db.session import get_engine
        from flows.tasks.runstate import mark_interrupted

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


def register_bench(bench_app: typer.Typer) -> None:
    @bench_app.command("import")
    def bench_import(
        rows: int = typer.Option(100_000, "--rows", help="Rows in the generated CSV."),
        db_url: str | None = typer.Option(None, "--db-url", help="Database; default a scratch SQLite file."),
    ) -> None:
        """Import a generated CSV of ROWS postings twice (new, then idempotent) and print rows/s."""
        import csv
        import os
        import resource
        import tempfile

        from labourwatch.settings import get_settings

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.csv"
            cities = ["上海", "北京", "深圳", "杭州", "成都"]
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["职位ID", "职位名称", "公司名称", "工作地点", "工作经验", "薪资", "发布时间", "职位描述"])
                for i in range(rows):
                    w.writerow([i, f"Java开发工程师{i % 500}", f"公司{i % 3000}", cities[i % 5], "3-5年",
                                "15-25K·13薪", f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                                "岗位职责：负责后端服务开发与维护。任职要求：3年以上Java开发经验，熟悉Spring Boot。" * 3])
            os.environ["LABOURWATCH_DB_URL"] = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            get_settings.cache_clear()
            from flows.importing import import_file

            for label in ("first import", "re-import"):
                r = import_file(path, source="bench", progress=True)
                console.print(f"{label}: {r.rows} rows in {r.seconds:.1f} s = {r.rows / r.seconds:,.0f} rows/s "
                              f"({r.inserted} new, {r.unchanged} unchanged)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        console.print(f"peak memory: {peak:,.0f} MiB")
