"""`labourwatch seasonal`: a category's monthly demand with the seasonally adjusted index."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer()


def _fail(msg: str) -> typer.Exit:
    console.print(msg, style="red", markup=False, highlight=False)
    return typer.Exit(2)


@app.command("seasonal")
def seasonal_cmd(
    category: str = typer.Option("all", "--category", help="Role code or group."),
    country: str | None = typer.Option(None, "--country", help="ISO code; `all` pools; default the largest."),
) -> None:
    """Print a category's monthly demand with the seasonally adjusted index and moved-holiday flags."""
    from db.findings import resolve_market
    from db.migrate import upgrade
    from db.seasonal import MIN_MONTHS, seasonal_series
    from db.session import get_engine

    engine = get_engine()
    upgrade(engine)
    try:
        market = resolve_market(engine, country)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    ser = seasonal_series(engine, category, market.country)
    if ser is None:
        raise _fail(f"no seasonal rows for {category!r} in {market.country or 'all countries'}: "
                    "run `labourwatch trends` first")
    if not ser.adjusted:
        console.print(f"{ser.history_months} months of history (< {MIN_MONTHS}): no seasonal adjustment published, "
                      "year-on-year only", markup=False)
    t = Table(title=f"{category} · {market.country or 'all countries pooled'}")
    for col in ("month", "n", "SA index", "holiday factor", "flag"):
        t.add_column(col)
    for p in ser.points:
        t.add_row(p.month, f"{p.n:,}", "—" if p.index != p.index else f"{p.index:.1f}",
                  f"{p.holiday_effect:.3f}", p.holiday or "")
    console.print(t)
