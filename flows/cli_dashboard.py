"""The ``labourwatch dashboard`` command: the analyst dashboard in the browser."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(soft_wrap=True)
app = typer.Typer()



@app.command("dashboard")
def dashboard(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every one)."),
    port: int = typer.Option(8050, "--port", help="Port to listen on."),
    url_prefix: str | None = typer.Option(None, "--url-prefix", help="Path the dashboard is served under "
                                          "behind a reverse proxy, e.g. /labourwatch/; default "
                                          "LABOURWATCH_DASHBOARD_URL_PREFIX (/)."),
    debug: bool = typer.Option(False, "--debug", help="Dash debug mode (reloads on code changes; "
                               "development only, never on a shared server).")
) -> None:
    """Serve the analyst dashboard over the configured database (Ctrl-C stops it)."""
    from dashboard.app import build_from_settings
    from db.dashboard import DashboardDataError, check_database
    from labourwatch.settings import get_settings

    settings = get_settings()
    try:
        web = build_from_settings(url_prefix)
    except (DashboardDataError, ValueError) as exc:
        console.print(f"[red]dashboard:[/red] {exc}")
        raise typer.Exit(1) from None
    prefix = web.config.requests_pathname_prefix or "/"
    status = check_database(web.server.config["LW_READONLY_ENGINE"])
    console.print(f"{status.backend} database: {status.demand_rows:,} demand rows, {status.share_rows:,} share "
                  f"rows, newest month {status.newest_month}"
                  + ("; seasonally adjusted demand present" if status.seasonal else ""))
    console.print(f"dashboard on [bold]http://{host}:{port}{prefix}[/bold]"
                  + (" (basic authentication on)" if settings.dashboard_user else ""))
    web.run(host=host, port=port, debug=debug)
