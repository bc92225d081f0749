"""Benchmark harnesses behind ``labourwatch bench``: each sets up scratch data, runs one part of the pipeline
and returns what it measured (time, peak memory, counts); the command prints it."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flows.cli_shared import peak_rss_mb, reset_peak_rss
from labourwatch.contract import CrawlStats

# --- settings of a scratch run ----------------------------------------------------------------------------


@contextmanager
def scratch_settings(**env: str | None) -> Iterator[None]:
    """Run with LABOURWATCH_* settings replaced (``db_url="sqlite:///..."`` sets LABOURWATCH_DB_URL; None unsets
    one), for code that reads the configured settings, including crawl subprocesses; everything is restored
    and the settings and engine caches are cleared on the way in and out."""
    from db.session import get_engine
    from labourwatch.settings import get_settings

    keys = {f"LABOURWATCH_{k.upper()}": v for k, v in env.items()}
    saved = {k: os.environ.get(k) for k in keys}

    def apply(values: dict[str, str | None]) -> None:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
        get_engine.cache_clear()

    apply(keys)
    try:
        yield
    finally:
        apply(saved)


# --- crawl ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlBenchResult:
    """One crawl of the local demo board compared with its ground truth."""

    source: str
    status: str
    pages: int
    seconds: float
    pages_per_s: float
    peak_rss_mb: float
    expected: int  # non-malformed postings of this style on the board
    stored: int
    missing: int  # expected but not stored
    duplicates: int  # stored rows beyond one per external id
    extra: int  # stored but not expected (malformed pages stored, ids read wrongly)
    dropped: int
    stats: CrawlStats


def compare_crawl(report: Any, expected_ids: set[str]) -> CrawlBenchResult:
    """A crawl report set against the ids the board should have yielded (the configured database's postings)."""
    from db.queries import stored_external_ids
    from db.session import get_engine

    ids = stored_external_ids(get_engine(), report.source)
    st = report.stats
    return CrawlBenchResult(
        source=report.source, status=report.status, pages=st.response_count, seconds=st.elapsed_s,
        pages_per_s=st.pages_per_s or 0.0, peak_rss_mb=st.peak_rss_mb or 0.0, expected=len(expected_ids),
        stored=len(ids), missing=len(expected_ids - set(ids)), duplicates=len(ids) - len(set(ids)),
        extra=len(set(ids) - expected_ids), dropped=st.dropped_total, stats=st,
    )


def board_ids(dataset: Any, style: str) -> set[str]:
    """Ids of the board's postings of ``style`` that are well-formed (malformed ones must be dropped)."""
    return {str(p.external_id) for p in dataset.postings if p.style == style and not p.malformed}


def bench_crawl(*, postings: int, seed: int, styles: tuple[str, ...] = ("html", "api"), faults: bool = False,
                recrawl: bool = False, home: Path | None = None, shards: int = 1) -> list[CrawlBenchResult]:
    """Serve a generated demo board on 127.0.0.1, crawl each style into a scratch home and SQLite database and
    compare; with ``recrawl`` each style is crawled a second time (incremental: ``<source> (again)``); each
    crawl runs as ``shards`` processes."""
    from db.migrate import upgrade
    from db.session import get_engine
    from demoboard.generator import generate
    from demoboard.server import DemoBoard, FaultConfig
    from scrapers.crawl import crawl, crawl_job

    dataset = generate(postings, seed)
    fault_cfg = (FaultConfig(rate_500=0.02, rate_429=0.02, burst=2, slow_rate=0.01, slow_seconds=0.5,
                             truncate_rate=0.01, bad_encoding_rate=0.01, seed=seed)
                 if faults else FaultConfig())
    results = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp, DemoBoard(dataset, faults=fault_cfg) as board:
        scratch = home or Path(tmp)
        with scratch_settings(home=str(scratch), db_url=f"sqlite:///{(scratch / 'bench.db').as_posix()}",
                              demo_board_url=board.url, sources_file=None):
            upgrade(get_engine())
            for style in styles:
                report = crawl(crawl_job(f"demo_{style}", shards=shards))
                results.append(compare_crawl(report, board_ids(dataset, style)))
                if recrawl:
                    again = compare_crawl(crawl(crawl_job(f"demo_{style}", shards=shards)), board_ids(dataset, style))
                    results.append(replace(again, source=f"{again.source} (again)"))
    return results


# --- import -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportBenchResult:
    label: str
    rows: int
    seconds: float
    inserted: int
    unchanged: int


def bench_import(rows: int, db_url: str | None = None) -> tuple[list[ImportBenchResult], float]:
    """Import a generated CSV of ``rows`` postings twice (new, then idempotent) into ``db_url`` (default a
    scratch SQLite file); returns both runs and the peak RSS in MiB."""
    import csv

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
        out = []
        with scratch_settings(db_url=db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"):
            from flows.importing import import_file

            for label in ("first import", "re-import"):
                r = import_file(path, source="bench", progress=True)
                out.append(ImportBenchResult(label, r.rows, r.seconds, r.inserted, r.unchanged))
    return out, peak_rss_mb()


# --- classify ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyBenchResult:
    postings: int
    seconds: float
    per_second: float
    peak_rss_mb: float
    model_version: str
    embed_cache_hits: int
    embed_cache_misses: int
    cpu_seconds: float = 0.0  # this process's CPU time: comparable across runs when other work shares the cores


def bench_classify(n: int = 5000, batch_size: int | None = None) -> tuple[ClassifyBenchResult, ClassifyBenchResult]:
    """Store ``n`` synthetic postings in a scratch SQLite database and time ``classify_pending`` on them
    (embeddings, rules and database writes included; the model load is not timed).

    Two passes over two different draws of the same mix: the first starts with an empty title-embedding
    cache (a fresh process), the second with the cache the first left (a long nightly run's steady state).
    """
    from db.migrate import upgrade
    from db.repo import store_postings
    from db.session import get_engine
    from flows.classify import classify_pending, synthetic_postings
    from models import load_classifier

    clf = load_classifier()
    emb = clf.artifact.roles.embedder
    if hasattr(emb, "start_cold"):  # measure from empty caches: no vectors from earlier runs
        emb.start_cold()
    out = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        engine = get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        for seed in (7, 8):
            store_postings(engine, synthetic_postings(n, seed=seed, prefix=f"s{seed}-"))
            hits0, miss0 = getattr(emb, "hits", 0), getattr(emb, "misses", 0)
            cpu0 = time.process_time()
            report = classify_pending(engine, batch_size=batch_size, classifier=clf)
            cpu = time.process_time() - cpu0
            out.append(ClassifyBenchResult(report.labelled, report.seconds, report.per_second, peak_rss_mb(),
                                           report.model_version, getattr(emb, "hits", 0) - hits0,
                                           getattr(emb, "misses", 0) - miss0, cpu))
        engine.dispose()
    return out[0], out[1]


# --- train ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainBenchResult:
    """One training from scratch: the training's own clock and stages, the whole process, its peak memory."""

    version: str
    examples: int
    seconds: float  # what ``labourwatch train`` reports ("trained in"): from the banks to the written artifact
    process_seconds: float  # a fresh process: Python's imports and the training
    peak_rss_mb: float
    stages: tuple[tuple[str, float], ...]


def step_train(cache: str, model: str) -> tuple[float, float, tuple[str, int, tuple[tuple[str, float], ...]]]:
    """Train ``model``'s classifier into the scratch cache ``cache`` (run in a fresh process by ``in_child``)."""
    from models.train import train

    r = train(model, Path(cache), force=True)
    return r.seconds, peak_rss_mb(), (r.version, r.examples, r.stages)


def bench_train(runs: int = 1) -> list[TrainBenchResult]:
    """Train the configured classifier ``runs`` times, each in a fresh process and a scratch cache that holds the
    built embedding model but no cached vectors: the first training of a new install, or after an engine
    change. Building the model (once, into the configured cache) is not timed."""
    from labourwatch.settings import get_settings
    from models.embed import DEFAULT_MODEL, default_model_dir, resolve_model_path

    if runs < 1:
        raise ValueError(f"--runs must be at least 1, got {runs}")
    s = get_settings()
    s.ensure_dirs()
    model = s.embedding_model
    if model == DEFAULT_MODEL:
        resolve_model_path(model, s.cache_path)  # built once, outside the timing
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lw-bench-train-") as tmp:
            cache = Path(tmp) / "cache"
            if model == DEFAULT_MODEL:  # the built model, not its vectors
                (cache / "embeddings").mkdir(parents=True)
                (cache / "embeddings" / DEFAULT_MODEL).symlink_to(default_model_dir(s.cache_path).resolve())
            t0 = time.perf_counter()
            step = in_child("train", step_train, str(cache), model)
            wall = time.perf_counter() - t0
        version, examples, stages = step.result
        out.append(TrainBenchResult(version, examples, step.seconds, wall, step.peak_rss_mb, stages))
    return out


# --- trends -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One timed step of a benchmark, run in its own process."""

    label: str
    seconds: float
    peak_rss_mb: float
    result: Any


def in_child(label: str, fn: Callable[..., tuple[float, float, Any]], *args: Any) -> Step:
    """Run ``fn(*args)`` (which returns seconds, peak RSS MB and a result) in a spawned process, so its peak
    RSS is the step's own."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        secs, mem, what = pool.apply(fn, args)
    return Step(label, secs, mem, what)


def step_load(db_url: str, n: int, seed: int, offset: int) -> tuple[float, float, str]:
    """Load ``n`` synthetic labelled postings: the history (``offset`` 0) or one night after ``offset`` postings."""
    from db.bulk import analyze_after_load, bulk_insert_labelled, secondary_indexes_dropped
    from db.session import get_engine
    from db.synthetic import generate_labelled_sql, synthetic_postings

    engine = get_engine(db_url)
    reset_peak_rss()
    base = peak_rss_mb()
    t = time.perf_counter()
    if offset == 0:
        start, end, prefix = date(2024, 1, 1), date(2026, 3, 27), "syn"
        when = datetime(2026, 3, 28, tzinfo=UTC)
    else:  # one night: postings of a single new day
        start, end, prefix = date(2026, 3, 28), date(2026, 3, 28), f"night-{offset}"
        when = datetime(2026, 3, 29, tzinfo=UTC)
    if engine.dialect.name == "postgresql":
        # Straight into the database; a first load builds the secondary indexes once at the end.
        from contextlib import nullcontext

        with secondary_indexes_dropped(engine) if offset == 0 else nullcontext():
            generate_labelled_sql(engine, n, seed=seed, start=start, end=end, prefix=prefix, labelled_at=when)
    else:
        bulk_insert_labelled(engine, synthetic_postings(n, seed=seed, start=start, end=end, prefix=prefix),
                             labelled_at=when)
    analyze_after_load(engine)
    return time.perf_counter() - t, peak_rss_mb(), f"{n:,} postings + labels; +{peak_rss_mb() - base:.0f} MB"


def step_update(db_url: str, groups: dict[str, list[str]], full: bool) -> tuple[float, float, str]:
    """One trend update (full or incremental)."""
    from db.bulk import warm_up
    from db.session import get_engine
    from db.trends import update_trends

    engine = get_engine(db_url)
    warm_up(engine)  # the timing is the update's, not the connect's
    reset_peak_rss()
    base = peak_rss_mb()
    t = time.perf_counter()
    r = update_trends(engine, groups, full=full)
    return (time.perf_counter() - t, peak_rss_mb(),
            f"{len(r.months)} months, {len(r.weeks)} weeks; {r.rows_changed:,} rows changed; "
            f"+{peak_rss_mb() - base:.0f} MB")


def step_queries(db_url: str) -> tuple[float, float, list[tuple[str, int, list[float]]]]:
    """Each named query three times on the analyst connection (as `labourwatch query` runs it)."""
    from db.queries import NAMED_QUERIES, grant_analyst, named_query, trend_months
    from db.session import get_engine

    engine = get_engine(db_url)
    grant_analyst(engine)
    months = trend_months(engine)
    params = {"change": {"from": months[-13], "to": months[-1]} if len(months) > 12 else {}}
    out = []
    for name in NAMED_QUERIES:
        if name == "change" and not params["change"]:
            continue
        times = []
        for _ in range(3):
            t = time.perf_counter()
            res = named_query(engine, name, params.get(name))
            times.append(time.perf_counter() - t)
        out.append((name, len(res.rows), times))
    return 0.0, peak_rss_mb(), out
