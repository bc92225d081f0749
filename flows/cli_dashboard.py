"""The ``labourwatch dashboard`` command (the analyst dashboard in the browser) and its benchmark."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(soft_wrap=True)


def _engines():  # type: ignore[no-untyped-def]
    """The read-only engine the pages use and the writable one for audit verdicts; exits on a bad database."""
    from db.dashboard import DashboardDataError, check_database, readonly_engine
    from db.session import get_engine
    from labourwatch.settings import get_settings

    url = get_settings().database_url
    try:
        ro = readonly_engine(url)
        status = check_database(ro)
    except DashboardDataError as exc:
        console.print(f"[red]dashboard:[/red] {exc}")
        raise typer.Exit(1) from None
    return ro, get_engine(url), status


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
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

    @bench_app.command("dashboard")
    def bench_dashboard(
        repeat: int = typer.Option(3, "--repeat", help="Timed calls per page."),
    ) -> None:
        """Time each dashboard page's data functions against the configured database (seconds per call)."""
        import time

        from db import dashboard as data
        from db.dashboard import DashboardDataError

        ro, _rw, status = _engines()
        f = data.trend_filters(ro)
        months = list(f.periods.get("month", ()))
        month = status.newest_month or months[-1]
        prev = f"{int(month[:4]) - 1:04d}{month[4:]}"
        start = prev if prev in months else months[0]
        city = (f.dims.get("city") or ("",))[0]
        ne = [c for c in f.categories if c not in ("all", "new_economy")]
        checks = {
            "filters (every page)": lambda: data.trend_filters(ro),
            "overview": lambda: (data.key_figures(ro, month), data.briefs(ro)),
            "demand": lambda: (data.demand_points(ro, start=months[0], end=month,
                                                  categories=["all", "new_economy", "software_dev"]),
                               data.demand_points(ro, period=month)),
            "demand by city": lambda: data.demand_points(ro, dim="city", dim_value=city, start=months[0], end=month),
            "ai": lambda: (data.share_points(ro, metrics=["references_ai", "ai_skills", "ai_tools", "ai_incidental"],
                                             period=month),
                           data.share_points(ro, metrics=["references_ai"], categories=["all", "new_economy"]),
                           data.shift_share_split(ro, start, month, ne)),
            "experience": lambda: (data.share_points(ro, metrics=["requires_3plus", "experience_unstated"],
                                                     period=month),
                                   data.share_points(ro, metrics=["requires_3plus", "experience_unstated"],
                                                     dim="city", dim_value=None, period=month, categories=["all"])),
            "postings behind a figure": lambda: data.cell_postings(ro, period_type="month", period=month,
                                                                   roles=["software_dev"]),
            "sources and quality": lambda: data.quality_report(ro),
            "audit": lambda: data.audit_report(ro),
        }
        console.print(f"{status.backend}: {status.demand_rows:,} demand rows, {status.share_rows:,} share rows, "
                      f"month {month}; {repeat} calls each")
        worst = 0.0
        for name, fn in checks.items():
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                try:
                    fn()
                except (DashboardDataError, ValueError) as exc:
                    console.print(f"  {name}: [red]{exc}[/red]")
                    break
                times.append(time.perf_counter() - t0)
            if times:
                worst = max(worst, max(times))
                console.print(f"  {name:<26} " + "  ".join(f"{x * 1000:7.1f} ms" for x in times))
        console.print(f"slowest data call {worst * 1000:.1f} ms")

        # The whole server-side render of each page: data, plotly figures and tables (the cache is off).
        from dashboard.app import Pages

        pages = Pages(ro, _rw, cache_seconds=0)
        city_filter = {"dm-dim": "city", "dm-value": city}
        renders = {
            "overview": lambda: (pages.overview("zh"), pages.overview_body(month, "zh")),
            "demand": lambda: (pages.demand("zh", {}), pages.demand_body(
                "zh", "all", "", "month", months[0], month, ["all", "new_economy", "software_dev", "design_basic"])),
            "demand by city, weekly": lambda: (pages.demand("zh", city_filter), pages.demand_body(
                "zh", "city", city, "week", f.periods["week"][0], f.periods["week"][-1], ["all", "software_dev"])),
            "ai": lambda: (pages.ai("zh", {}), pages.ai_body("zh", "all", "", month),
                           pages.shift_share_body("zh", "new_economy", start, month)),
            "experience": lambda: (pages.experience("zh"), pages.experience_body("zh", month, "all")),
            "postings behind a figure": lambda: pages.postings(
                "zh", f"?pt=month&p={month}&dim=city&v={city}&cat=software_dev"),
            "sources and quality": lambda: pages.quality("zh"),
            "audit": lambda: pages.audit("zh"),
        }
        console.print("server-side render per page (data + figures + tables):")
        worst = 0.0
        for name, fn in renders.items():
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            worst = max(worst, max(times))
            console.print(f"  {name:<26} " + "  ".join(f"{x * 1000:7.1f} ms" for x in times))
        console.print(f"slowest page render {worst * 1000:.1f} ms")
