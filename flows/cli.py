"""The ``labourwatch`` command line: one entry point, commands registered per area."""

from __future__ import annotations

import logging
import os

import typer

from flows.cli_errors import FriendlyErrorsGroup
from labourwatch.settings import get_settings

app = typer.Typer(
    cls=FriendlyErrorsGroup,
    name="labourwatch",
    help="Measure how AI is changing the labour market, from job postings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print throughput and peak memory.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
          debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error.")) -> None:
    FriendlyErrorsGroup.debug = debug
    level = "DEBUG" if verbose else get_settings().log_level
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # Migration chatter on every command hides the output that matters.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


# Each area registers its commands; the modules stay independent of each other.
from flows import cli_core  # noqa: E402

cli_core.register(app, db_app, bench_app)
for _name in ("cli_demo", "cli_crawl", "cli_sources", "cli_classify", "cli_trends", "cli_figures", "cli_query",
              "cli_brief", "cli_flows", "cli_dashboard"):
    try:
        _mod = __import__(f"flows.{_name}", fromlist=["register"])
    except ModuleNotFoundError as exc:
        if exc.name != f"flows.{_name}":
            raise
        continue
    _mod.register(app, db_app, bench_app)


if __name__ == "__main__":
    app()
