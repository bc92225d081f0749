"""`labourwatch query`: named queries and read-only analyst SQL, printed as a table or saved as a file."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)
FORMATS = ("table", "csv", "json", "parquet", "xlsx")


def parse_params(values: list[str]) -> dict[str, str]:
    """KEY=VALUE pairs of ``--param``; a clear error naming the bad one."""
    out = {}
    for v in values:
        if "=" not in v:
            raise ValueError(f"--param takes KEY=VALUE, got {v!r}")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def _plain(v: Any) -> Any:
    from decimal import Decimal

    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _category_names(lang: str) -> dict[str, str]:
    try:
        from models.taxonomy import load_taxonomy

        tax = load_taxonomy()
    except Exception:  # the table still prints, with codes only
        return {}
    names = {c.code: (c.zh if lang == "zh" else c.en) for c in tax.categories}
    names.update({g: g.replace("_", " ") for g in tax.groups})
    return names


def write_result(result: Any, fmt: str, output: Path | None, lang: str = "en") -> None:
    """Print or save a QueryResult as a table, CSV (UTF-8 with BOM, for Excel), JSON, Parquet or XLSX."""
    import csv
    import io
    import json

    if fmt in ("parquet", "xlsx") and output is None:
        raise ValueError(f"--format {fmt} needs --output FILE")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {c: [_plain(r[i]) for r in result.rows] for i, c in enumerate(result.columns)}
        pq.write_table(pa.table(cols), output)
        console.print(f"{len(result.rows)} rows → {output}", markup=False)
        return
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("query")
        ws.append(list(result.columns))
        for r in result.rows:
            ws.append([_plain(v) for v in r])
        wb.save(output)
        console.print(f"{len(result.rows)} rows → {output}", markup=False)
        return
    if fmt == "table" and output is None:
        names = _category_names(lang) if "category" in result.columns else {}
        from rich import box

        table = Table(show_lines=False, expand=False, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for c in result.columns:
            if c == "category":  # codes stay whole; names and long text wrap
                table.add_column(c, no_wrap=True)
            else:
                table.add_column(c, overflow="fold")
            if c == "category" and names:
                table.add_column("name", overflow="fold")
        for r in result.rows:
            cells: list[str] = []
            for c, v in zip(result.columns, r, strict=True):
                cells.append(_cell(v))
                if c == "category" and names:
                    cells.append(names.get(str(v), ""))
            table.add_row(*cells)
        console.print(table)
        console.print(f"{len(result.rows)} rows")
        return
    buf = io.StringIO()
    if fmt == "json":
        json.dump([{c: _plain(v) for c, v in zip(result.columns, r, strict=True)} for r in result.rows], buf,
                  ensure_ascii=False, indent=1)
        buf.write("\n")
    else:  # csv, or a table written to a file
        w = csv.writer(buf)
        w.writerow(result.columns)
        w.writerows([[_plain(v) for v in r] for r in result.rows])
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        # A BOM lets Excel open the CSV as UTF-8 (Chinese text otherwise turns into mojibake).
        output.write_text(buf.getvalue(), encoding="utf-8-sig" if fmt in ("csv", "table") else "utf-8")
        console.print(f"{len(result.rows)} rows → {output}", markup=False)


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    @db_app.command("grant-analyst")
    def grant_analyst_cmd() -> None:
        """Create the PostgreSQL analyst role (LABOURWATCH_ANALYST_ROLE) with SELECT on the analyst views only."""
        from db.queries import grant_analyst
        from db.session import get_engine

        engine = get_engine()
        if engine.dialect.name != "postgresql":
            console.print("SQLite needs no analyst role: queries open the file read-only with an authorizer "
                          "that allows only reads of the analyst views")
            return
        role = grant_analyst(engine)
        console.print(f"analyst role {role!r}: SELECT on the analyst views of "
                      f"{engine.url.render_as_string()}", markup=False)

    @app.command("query")
    def query(
        name: str | None = typer.Argument(None, help="Named query (see --list)."),
        sql: str | None = typer.Option(None, "--sql", help="Ad-hoc SELECT over the analyst views, run read-only "
                                       "with a time limit (LABOURWATCH_QUERY_TIMEOUT)."),
        param: list[str] = typer.Option([], "--param", "-p", help="KEY=VALUE for a named query (repeatable)."),
        fmt: str = typer.Option("table", "--format", help="table, csv, json, parquet or xlsx"),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
        lang: str = typer.Option("en", "--lang", help="Language of category names in tables: en or zh."),
        list_: bool = typer.Option(False, "--list", help="List the named queries and views."),
    ) -> None:
        """Run a named query or a read-only SQL query; print or save the result."""
        from db.queries import ANALYST_VIEWS, NAMED_QUERIES, named_query, run_readonly
        from db.session import get_engine

        def fail(msg: str) -> None:
            err_console.print(f"labourwatch query: {msg}", style="red", markup=False, highlight=False,
                              soft_wrap=True)
            raise typer.Exit(2)

        if fmt not in FORMATS:
            fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
        if lang not in ("en", "zh"):
            fail(f"--lang {lang!r} is not en or zh")
        if list_ or (name is None and sql is None):
            for q in NAMED_QUERIES.values():
                ps = " ".join(f"--param {k}={v or '…'}" for k, v in q.params.items())
                console.print(f"[bold]{q.name}[/bold] {ps}\n    {q.description}")
            console.print(f"views: {', '.join(ANALYST_VIEWS)}")
            return
        if name and sql:
            fail("give a query NAME or --sql, not both")
        if sql is not None and param:
            fail("--param is for named queries; write the values into the --sql text")
        try:
            result = (named_query(get_engine(), name, parse_params(param)) if name
                      else run_readonly(get_engine(), sql or ""))
            write_result(result, fmt, output, lang)
        except ValueError as exc:  # ReadOnlyQueryError and QueryError too
            fail(str(exc))
        except OSError as exc:
            fail(f"{output}: {exc.strerror or exc}")
