"""Trend commands: trends, dedupe, findings, shift-share."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from flows.cli_shared import taxonomy_data

console = Console()
app = typer.Typer()



@app.command("trends")
def trends(
    since: str | None = typer.Option(None, "--since", help="Also recompute every period from YYYY-MM on."),
    full: bool = typer.Option(False, "--full", help="Recompute every period."),
    model_version: str | None = typer.Option(None, "--model-version", help="Label version (default newest)."),
) -> None:
    """Update the trend tables (demand, year-on-year, index, shares) for the periods that changed."""
    from db.migrate import upgrade
    from db.session import get_engine
    from db.trends import update_trends

    engine = get_engine()
    upgrade(engine)
    groups, _ = taxonomy_data()
    try:
        report = update_trends(engine, groups, model_version=model_version, since=since, full=full)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(report.summary())



@app.command("dedupe")
def dedupe(
    since: str | None = typer.Option(None, "--since", help="Only postings from YYYY-MM on (default: all)."),
    window: int = typer.Option(30, "--window-days", help="Days apart two copies of one job may be."),
) -> None:
    """Link cross-source copies and reposts of the same job to one canonical posting; print rates."""
    from db.dedupe import link_duplicates
    from db.migrate import upgrade
    from db.session import get_engine

    engine = get_engine()
    upgrade(engine)
    try:
        report = link_duplicates(engine, since_month=since, window_days=window)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    console.print(report.summary(), markup=False)



@app.command("findings")
def findings(
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    lang: str = typer.Option("zh", "--lang", help="zh or en"),
    fmt: str = typer.Option("text", "--format", help="text or json"),
    country: str | None = typer.Option(None, "--country", help="Market: ISO code (CN, GB, ...); `all` pools "
                                       "every country; default the largest."),
) -> None:
    """Print the month's headline findings for one market (the sentences the PDF brief uses)."""
    import json as _json
    from dataclasses import asdict

    from brief.findings import headline_findings
    from db.session import get_engine

    if fmt not in ("text", "json") or lang not in ("zh", "en"):
        bad = f"--format {fmt!r} is not text or json" if fmt not in ("text", "json") else \
            f"--lang {lang!r} is not zh or en"
        console.print(f"labourwatch findings: {bad}", style="red", markup=False)
        raise typer.Exit(2)
    groups, names = taxonomy_data()
    try:
        items = headline_findings(get_engine(), month, lang=lang, names=names, groups=groups, country=country)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    if fmt == "json":
        sys.stdout.write(_json.dumps([asdict(f) for f in items], ensure_ascii=False, indent=1) + "\n")
        return
    for i, f in enumerate(items, 1):
        flag = " [suppressed: not for headlines]" if f.suppressed else ""
        console.print(f"{i}. {f.text}{flag}", markup=False, highlight=False)



@app.command("shift-share")
def shift_share_cmd(
    period_from: str = typer.Option(..., "--from", help="First period (YYYY-MM or YYYY-Www)."),
    period_to: str = typer.Option(..., "--to", help="Second period, same kind."),
    group: str = typer.Option("new_economy", "--group", help="Taxonomy group whose pooled share is split."),
    metric: str = typer.Option("references_ai", "--metric", help="Share metric (see docs/trends.md)."),
    dim: str = typer.Option("all", "--dim", help="all, city, source, lang or country"),
    dim_value: str = typer.Option("", "--dim-value", help="The city, source, language or country (dim != all)."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json"),
) -> None:
    """Split the change of a group's share into within-category and mix (between-category) parts."""
    if fmt not in ("table", "csv", "json"):
        console.print(f"--format must be table, csv or json, not {fmt!r}", style="red", markup=False)
        raise typer.Exit(2)
    from db.session import get_engine
    from db.trends import shift_share_change

    groups, _ = taxonomy_data()
    if group not in groups:
        console.print(f"unknown group {group!r}; groups: {', '.join(sorted(groups))}", style="red",
                      markup=False)
        raise typer.Exit(2)
    try:
        ss = shift_share_change(get_engine(), period_from, period_to, groups[group], metric=metric, dim=dim,
                                dim_value=dim_value)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    if fmt != "table":
        import csv as _csv
        import json as _json

        parts = sorted(ss.by_category.items(), key=lambda kv: -abs(kv[1][0] + kv[1][1]))
        if fmt == "json":
            sys.stdout.write(_json.dumps({
                "group": group, "metric": metric, "from": period_from, "to": period_to, "dim": dim,
                "dim_value": dim_value, "share_from": ss.share_a, "share_to": ss.share_b, "n_from": ss.n_a,
                "n_to": ss.n_b, "total": ss.total, "within": ss.within, "mix": ss.between,
                "by_category": {c: {"within": w, "mix": b} for c, (w, b) in parts}}, indent=1) + "\n")
        else:
            out = _csv.writer(sys.stdout)
            out.writerow(["category", "within", "mix"])
            out.writerows([[c, f"{wi:.6f}", f"{mi:.6f}"] for c, (wi, mi) in parts])
            out.writerow(["total", f"{ss.within:.6f}", f"{ss.between:.6f}"])
        return
    table = Table(title=f"{metric} share of {group}: {ss.share_a:.1%} (n={ss.n_a:,}) → {ss.share_b:.1%} "
                        f"(n={ss.n_b:,}), change {ss.total * 100:+.2f} pp = within {ss.within * 100:+.2f} pp "
                        f"+ mix {ss.between * 100:+.2f} pp")
    for col in ("category", "within (pp)", "mix (pp)"):
        table.add_column(col)
    for cat, (w, b) in sorted(ss.by_category.items(), key=lambda kv: -abs(kv[1][0] + kv[1][1])):
        table.add_row(cat, f"{w * 100:+.2f}", f"{b * 100:+.2f}")
    console.print(table)
