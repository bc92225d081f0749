"""The ``labourwatch`` command line: one entry point joining the sub-app of each area.

The areas' apps without a name merge their commands into the top level (``labourwatch crawl``); ``db``,
``bench``, ``sources`` and ``audit`` are sub-groups (``labourwatch db upgrade``). Joined in the order
``labourwatch --help`` lists them.
"""

from __future__ import annotations

import logging
import os

import typer

from flows import (
    cli_audit,
    cli_bench,
    cli_brief,
    cli_classify,
    cli_core,
    cli_crawl,
    cli_dashboard,
    cli_db,
    cli_demo,
    cli_figures,
    cli_flows,
    cli_query,
    cli_sources,
    cli_trends,
)
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


app.add_typer(cli_core.app)
app.add_typer(cli_demo.app)
app.add_typer(cli_crawl.app)
app.add_typer(cli_classify.app)
app.add_typer(cli_trends.app)
app.add_typer(cli_figures.app)
app.add_typer(cli_query.app)
app.add_typer(cli_brief.app)
app.add_typer(cli_flows.app)
app.add_typer(cli_dashboard.app)
app.add_typer(cli_db.app, name="db")
app.add_typer(cli_bench.app, name="bench")
app.add_typer(cli_sources.app, name="sources")
app.add_typer(cli_audit.app, name="audit")


if __name__ == "__main__":
    app()
