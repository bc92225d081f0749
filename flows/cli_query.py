"""`labourwatch query`: named queries and read-only analyst SQL, printed as a table or saved as a file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from flows.cli_shared import write_result

console = Console()
err_console = Console(stderr=True)
app = typer.Typer()
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
