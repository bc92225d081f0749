"""`labourwatch bench ...`: every benchmark, printing throughput, time and peak memory. The harnesses live in
``flows.bench``; these commands parse options and print what they return."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from flows.cli_shared import peak_rss_mb, prefect_setup, taxonomy_data

console = Console()
wrap_console = Console(soft_wrap=True)  # the demo and dashboard benchmarks print long lines unwrapped
app = typer.Typer(help="Benchmarks that print throughput and peak memory.", no_args_is_help=True)


@app.command("import")
def bench_import(
    rows: int = typer.Option(100_000, "--rows", help="Rows in the generated CSV."),
    db_url: str | None = typer.Option(None, "--db-url", help="Database; default a scratch SQLite file."),
) -> None:
    """Import a generated CSV of ROWS postings twice (new, then idempotent) and print rows/s."""
    from flows.bench import bench_import as run

    results, peak = run(rows, db_url)
    for r in results:
        console.print(f"{r.label}: {r.rows} rows in {r.seconds:.1f} s = {r.rows / r.seconds:,.0f} rows/s "
                      f"({r.inserted} new, {r.unchanged} unchanged)")
    console.print(f"peak memory: {peak:,.0f} MiB")


@app.command("demo")
def bench_demo(
    postings: int = typer.Option(1_000_000, "--postings", help="Postings to generate."),
    seed: int = typer.Option(2026, "--seed", help="Generator seed."),
    truth_dir: Path | None = typer.Option(None, "--truth-dir", help="Also stream the ground truth here."),
    serve_requests: int = typer.Option(2000, "--serve-requests", help="Detail pages fetched from a served board "
                                       "(4 keep-alive clients) to time serving; 0 skips it."),
) -> None:
    """Generate POSTINGS postings (streamed) and print postings/s and peak memory; then serve a 2,000-posting
    board and print the requests/s it answers."""
    console = wrap_console  # long lines stay unwrapped
    import time

    from demoboard.generator import benchmark, generate, iter_postings
    from demoboard.server import serve_benchmark
    from demoboard.truth import write_truth

    result = benchmark(postings, seed)
    console.print(result.summary())
    if serve_requests > 0:
        console.print(serve_benchmark(generate(2000, seed), requests=serve_requests).summary())
    if truth_dir is not None:
        t0 = time.perf_counter()
        write_truth(iter_postings(postings, seed), truth_dir)
        seconds = time.perf_counter() - t0
        peak = peak_rss_mb()
        console.print(f"generated and wrote the ground truth in {seconds:.1f} s = "
                      f"{postings / seconds:,.0f} postings/s; peak RSS {peak:.0f} MB")


@app.command("crawl")
def bench_crawl(
    postings: int = typer.Option(2000, "--postings", "-n", help="Postings the local demo board generates."),
    style: str = typer.Option("both", "--style", help="html, api or both."),
    seed: int = typer.Option(2026, "--seed"),
    faults: bool = typer.Option(False, "--faults", help="Inject 500/429 bursts, slow, truncated and "
                                "mis-encoded pages."),
    recrawl: bool = typer.Option(False, "--recrawl", help="Crawl each style a second time (incremental)."),
    shards: int = typer.Option(1, "--shards", min=1, max=64, help="Crawl processes per source (each its own part "
                               "of the detail pages; every one reads the listings)."),
) -> None:
    """Crawl a fresh local demo board into a scratch database; print pages/s, peak memory and the
    comparison with the board's ground truth (missing and duplicate postings)."""
    if style not in ("html", "api", "both"):
        raise typer.BadParameter("--style must be html, api or both")
    from flows.bench import bench_crawl as run

    results = run(postings=postings, seed=seed, styles=("html", "api") if style == "both" else (style,),
                        faults=faults, recrawl=recrawl, shards=shards)
    for table in crawl_tables(results, f"crawl benchmark: {postings} postings, seed {seed}"
                              f"{', faults' if faults else ''}{f', {shards} shards' if shards > 1 else ''}"):
        console.print(table)
    for r in results:
        print(f"{r.source}: {r.status}; {r.pages} pages in {r.seconds:.1f} s = {r.pages_per_s:.1f} pages/s "
              f"({r.stats.cpu_ms_per_page} CPU ms a page, {r.stored / max(r.seconds, 1e-9):.1f} postings/s); "
              f"peak {r.peak_rss_mb:.0f} MB; expected {r.expected}, stored {r.stored}, missing {r.missing}, "
              f"duplicates {r.duplicates}, extra {r.extra}, dropped {r.dropped} {r.stats.dropped}; "
              f"retries {r.stats.retries}; inserted {r.stats.inserted}, "
              f"skipped as unchanged {r.stats.skipped_unchanged}")
    if any(r.missing or r.duplicates or r.extra or r.status == "failed" for r in results):
        raise typer.Exit(1)


def _table(title: str, columns: tuple[str, ...], wrap: str | None = None) -> Table:
    """A table that stays readable at 80 columns: no vertical rules, numbers right-aligned, no cell wraps
    except in column ``wrap``."""
    from rich import box

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 or col == wrap else "right", no_wrap=col != wrap,
                         ratio=1 if col == wrap else None)
    return table


def crawl_tables(results: list[Any], title: str) -> list[Table]:
    """The crawl benchmark as two tables of at most 80 columns: speed, then the ground-truth comparison."""
    speed = _table(title, ("source", "status", "pages", "seconds", "pages/s", "peak MB"))
    truth = _table("against the board's ground truth", ("source", "expected", "stored", "missing", "dupl.",
                                                          "extra", "dropped"))
    for r in results:
        speed.add_row(r.source, r.status, str(r.pages), f"{r.seconds:.1f}", f"{r.pages_per_s:.1f}",
                      f"{r.peak_rss_mb:.0f}")
        truth.add_row(r.source, str(r.expected), str(r.stored), str(r.missing), str(r.duplicates), str(r.extra),
                      str(r.dropped))
    return [speed, truth]


def trends_tables(title: str, steps: list[Any], queries: list[tuple[str, int, list[float]]]) -> list[Table]:
    """The trends benchmark at 80 columns: its steps (the result column wraps), then the named queries."""
    table = _table(title, ("step", "seconds", "peak MB", "result"), wrap="result")
    for step in steps:
        table.add_row(step.label, f"{step.seconds:.2f}", f"{step.peak_rss_mb:.0f}", step.result)
    qtable = _table("named queries (`labourwatch query NAME`), analyst connection: seconds per call",
                    ("query", "rows", "1st", "2nd", "3rd"))
    for name, nrows, times in queries:
        qtable.add_row(name, f"{nrows:,}", *[f"{x:.3f}" for x in times])
    return [table, qtable]


@app.command("classify")
def bench_classify_cmd(
    n: int = typer.Option(5000, "--n", help="Synthetic postings to label."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Postings per batch."),
) -> None:
    """Postings/s and peak memory of `classify` on a realistic mix, database writes included."""
    from flows.bench import bench_classify

    cold, warm = bench_classify(n, batch_size)
    for name, r in (("cold title cache", cold), ("warm title cache", warm)):
        console.print(f"classify ({name}): {r.postings} postings in {r.seconds:.1f}s = "
                      f"[bold]{r.per_second:.0f} postings/s[/bold]; title embeddings {r.embed_cache_hits} cached / "
                      f"{r.embed_cache_misses} computed; {r.cpu_seconds:.1f} CPU-s "
                      f"({r.postings / max(r.cpu_seconds, 1e-9):.0f} postings per CPU-second); "
                      f"peak RSS {r.peak_rss_mb:.0f} MiB")
    console.print(f"model {cold.model_version}; database writes included, model load excluded")


def train_tables(results: list[Any]) -> list[Table]:
    """The training benchmark at 80 columns: each run's totals, then the stages (a column per run, at most 4)."""
    runs = _table("bench train: a fresh process and cache, the model built, no cached vectors",
                  ("run", "trained in (s)", "process (s)", "peak MB"))
    for i, r in enumerate(results, 1):
        runs.add_row(str(i), f"{r.seconds:.1f}", f"{r.process_seconds:.1f}", f"{r.peak_rss_mb:.0f}")
    shown = results[:4]
    stages = _table("where the training's time goes (seconds)", ("stage", *[f"run {i}" for i in
                                                                           range(1, len(shown) + 1)]))
    by_run = [dict(r.stages) for r in shown]
    names = list(dict.fromkeys(name for r in shown for name, _ in r.stages))  # in order, each stage once
    for name in names:
        stages.add_row(name, *[f"{seconds[name]:.1f}" if name in seconds else "" for seconds in by_run])
    return [runs, stages]


@app.command("train")
def bench_train_cmd(
    runs: int = typer.Option(1, "--runs", help="Trainings to time, one after another."),
) -> None:
    """Time training the configured classifier from scratch: each run in a fresh process and an empty cache that
    holds the built embedding model but no cached vectors; prints the time, peak memory and stages."""
    from flows.bench import bench_train

    results = bench_train(runs)
    for table in train_tables(results):
        console.print(table)
    console.print(f"classifier {results[0].version}, {results[0].examples} role examples; \"trained in\" is what "
                  "`labourwatch train` reports, \"process\" adds Python's imports")


@app.command("trends")
def bench_trends(
    postings: int = typer.Option(1_000_000, "--postings", help="Synthetic postings to load."),
    night: int | None = typer.Option(None, "--night", help="Postings one night adds (incremental update; "
                                     "default postings / 900, at least 1,000)."),
    db_url: str | None = typer.Option(None, "--db-url", help="Database (default: a fresh SQLite file)."),
    reuse: bool = typer.Option(False, "--reuse", help="Keep postings already there (skip the load)."),
) -> None:
    """Full recompute and one night's incremental trend update on synthetic postings: time and memory."""
    from db.bulk import row_counts
    from db.migrate import upgrade
    from db.session import get_engine
    from flows.bench import in_child, step_load, step_queries, step_update
    from labourwatch.settings import get_settings

    if db_url is None:
        settings = get_settings()
        settings.ensure_dirs()
        path = settings.home / "bench_trends.db"
        path.unlink(missing_ok=True)
        db_url = f"sqlite:///{path.as_posix()}"
    engine = get_engine(db_url)
    upgrade(engine)
    groups, _ = taxonomy_data()
    have = row_counts(engine)["postings"]
    if have and not reuse:
        console.print(f"[red]{engine.url.render_as_string()} already holds {have:,} postings; give an empty "
                      "database or --reuse[/red]")
        raise typer.Exit(2)
    # Each step runs in a fresh process, so its peak RSS is the step's own (flat in the postings
    # when the work stays in the database).
    night = max(1_000, postings // 900) if night is None else night
    how = "SQL generate_series" if engine.dialect.name == "postgresql" else "Python generator"
    rows = []
    if not have:
        rows.append(in_child(f"load ({how})", step_load, db_url, postings, 0, 0))
    rows.append(in_child("full recompute", step_update, db_url, groups, True))
    rows.append(in_child("repeat (nothing changed)", step_update, db_url, groups, False))
    rows.append(in_child(f"one night: load +{night:,}", step_load, db_url, night, 7, have + postings))
    rows.append(in_child("update after the night", step_update, db_url, groups, False))
    queries = in_child("named queries", step_queries, db_url).result
    counts = row_counts(engine)
    total, cells, shares = counts["postings"], counts["trend_demand"], counts["trend_shares"]
    for table in trends_tables(f"bench trends — {engine.dialect.name}, {total:,} postings, {cells:,} demand "
                               f"rows, {shares:,} share rows", rows, queries):
        console.print(table)


@app.command("seasonal")
def bench_seasonal(
    series: int = typer.Option(12, "--series", help="Synthetic series per holiday."),
    months: int = typer.Option(48, "--months", help="Length of each synthetic series."),
    demo: int = typer.Option(20000, "--demo", help="Also measure on a generated demo board of this size (0: skip)."),
    from_db: bool = typer.Option(False, "--from-db", help="Take the demo's monthly counts per country from the "
                                 "configured database's trend tables (after `labourwatch demo`) instead."),
) -> None:
    """Error of each seasonal-adjustment method (and of the raw index) against a known trend."""
    from db.seasonal import DEFAULT_METHOD, evaluate_methods

    for holiday in ("spring_festival", "easter"):
        t = Table(title=f"synthetic {holiday}: {series} series × {months} months, RMSE of log index vs true trend")
        t.add_column("method")
        t.add_column("RMSE %")
        for e in evaluate_methods(series, months, holiday=holiday):
            t.add_row(e.method + (" (default)" if e.method == DEFAULT_METHOD else ""), f"{e.rmse_pct:.2f}")
        console.print(t)
    if demo:
        from flows.seasonal_eval import demo_index_errors

        counts = None
        if from_db:
            from db.migrate import upgrade
            from db.queries import monthly_counts_by_country
            from db.session import get_engine

            engine = get_engine()
            upgrade(engine)
            counts = monthly_counts_by_country(engine)
            if not counts:
                console.print("no country rows in trend_demand: run `labourwatch demo` first", style="red",
                              markup=False, highlight=False)
                raise typer.Exit(2)
        for row in demo_index_errors(demo, counts=counts):
            console.print(f"demo board ({demo} postings, {row.country}, {row.months} months): RMSE vs the built-in "
                          f"trend — raw index {row.raw:.2f}%, " + ", ".join(f"{m} {v:.2f}%" for m, v in row.methods),
                          markup=False)


@app.command("brief")
def bench_brief(
    month: str = typer.Option(..., "--month", help="Month with trend rows, YYYY-MM."),
    repeat: int = typer.Option(3, "--repeat", help="Renders per language."),
) -> None:
    """Time brief renders (zh and en) against the configured database; prints seconds per render."""
    import tempfile
    import time

    from brief.render import render_brief
    from db.session import get_engine

    engine = get_engine()
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("zh", "en"):
            times = []
            for i in range(repeat):
                t0 = time.perf_counter()
                r = render_brief(engine, month, lang=lang, output=Path(tmp) / f"{lang}-{i}.pdf", record=False)
                times.append(time.perf_counter() - t0)
            console.print(f"brief {month} {lang}: {r.pages} pages; seconds per render "
                          + ", ".join(f"{t:.2f}" for t in times) + " (first includes imports/font subset)")


@app.command("classify-dask")
def bench_classify_dask(
    n: int = typer.Option(5000, "--n", help="Synthetic postings per draw."),
    workers: int = typer.Option(2, "--workers", help="Dask worker processes of the LocalCluster."),
    partition: int | None = typer.Option(None, "--partition-size", help="Postings per partition; default "
                                         "about 4 partitions per worker."),
) -> None:
    """Postings/s classifying in one process vs partitions on a Dask LocalCluster, side by side."""
    prefect_setup()
    from rich.table import Table

    from flows.partitioned import bench_partitioned

    table = Table(title=f"classify {n} postings: 1 process vs {workers} Dask workers")
    for col in ("title cache", "mode", "postings", "seconds", "postings/s"):
        table.add_column(col, justify="right")
    rows, compared, differ = bench_partitioned(n, workers, partition)
    for r in rows:
        table.add_row(r.draw, r.mode, str(r.postings), f"{r.seconds:.1f}", f"{r.per_second:.0f}")
    console.print(table)
    console.print(f"labels compared field by field: {compared}; differing: {differ}")
    import torch

    console.print("database writes included; model loads and cluster start excluded (SQLite)")
    console.print(f"torch threads: {torch.get_num_threads()} in the single process, "
                  f"{max(1, (os.cpu_count() or 1) // workers)} per worker")


def _dashboard_engines() -> tuple[Any, Any, Any]:
    """The read-only engine the pages use and the writable one for audit verdicts; exits on a bad database."""
    from db.dashboard import DashboardDataError, check_database, readonly_engine
    from db.session import get_engine
    from labourwatch.settings import get_settings

    url = get_settings().database_url
    try:
        ro = readonly_engine(url)
        status = check_database(ro)
    except DashboardDataError as exc:
        wrap_console.print(f"[red]dashboard:[/red] {exc}")
        raise typer.Exit(1) from None
    return ro, get_engine(url), status


@app.command("dashboard")
def bench_dashboard(
    repeat: int = typer.Option(3, "--repeat", help="Timed calls per page."),
) -> None:
    """Time each dashboard page's data functions against the configured database (seconds per call)."""
    console = wrap_console  # long lines stay unwrapped
    import time

    from db import dashboard as data
    from db.dashboard import DashboardDataError

    ro, _rw, status = _dashboard_engines()
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
