"""Typed reads for the analyst dashboard: trend tables, briefs, quality, postings behind a cell, the audit store.

Every page of the dashboard calls only these functions; they read the trend tables (never all postings),
except ``cell_postings`` which is an indexed ``LIMIT`` query on one period's postings. ``readonly_engine``
gives the connection the pages use; only ``record_verdict`` writes (through ``db.audit``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, create_engine, func, inspect, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from db import schema
from db.audit import AUDIT_FIELDS, AuditIn, latest_audit, record_audit
from db.audit import audit_report as measured_accuracy
from db.findings import market_sizes
from db.stats import DuplicateCounts, ShiftShare
from db.trends import METRICS, shift_share_change
from labourwatch.contract import CrawlStats

PERIOD_TYPES = ("month", "week")
# Seasonally adjusted monthly demand (migration 0005, written by ``db.seasonal.update_seasonal``): index_value
# is the adjusted series with mean 100, null where the series has under three years (status yoy_only).
SEASONAL = schema.TrendSeasonal.__table__
# Every table the pages read, down to the newest migration's (source_counts, 0007): an older database is told
# to upgrade at start instead of failing on one page.
REQUIRED_TABLES = ("postings", "posting_labels", "trend_demand", "trend_shares", "trend_seasonal", "audit_labels",
                   "briefs", "source_counts")
UNKNOWN = "unknown"


class DashboardDataError(RuntimeError):
    """The database cannot back the dashboard (unreachable, unmigrated or without trend rows)."""


# --- connections -----------------------------------------------------------------------------------------


def readonly_engine(url: str) -> Engine:
    """An engine whose connections the database keeps read-only (SQLite ``mode=ro`` + ``query_only``;
    PostgreSQL ``default_transaction_read_only``). Raises ``DashboardDataError`` for a missing SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise DashboardDataError("the dashboard needs a database file or server, not an in-memory SQLite")
        file = Path(path).resolve()
        if not file.exists():
            raise DashboardDataError(f"database file {file} does not exist (run `labourwatch demo` or "
                                     "`labourwatch db upgrade` and load postings first)")
        uri = f"file:{file.as_posix()}?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA query_only = ON")
            return conn

        # A small pool: the dashboard's server answers callbacks on several threads at once, and a checked-out
        # connection is never shared.
        return create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=4)
    connect_args: dict[str, Any] = {"options": "-c default_transaction_read_only=on -c statement_timeout=30000"}
    if parsed.get_driver_name() == "psycopg":
        connect_args["prepare_threshold"] = None
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    """What the dashboard found at start: backend, trend rows, newest month and the SA index column."""

    backend: str
    demand_rows: int
    share_rows: int
    newest_month: str | None
    seasonal: bool  # seasonally adjusted rows present (trend_seasonal)


def check_database(engine: Engine) -> DatabaseStatus:
    """Raise ``DashboardDataError`` (one line, naming the fix) when the database is unreachable,
    unmigrated or holds no trend rows; else describe it."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise DashboardDataError(f"cannot open the database {where}: {str(exc.orig).strip()}") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise DashboardDataError(f"database {where} is not migrated (missing tables: {', '.join(missing)}); "
                                 "run `labourwatch db upgrade`")
    D, T = schema.TrendDemand, schema.TrendShare
    with engine.connect() as c:
        demand = c.execute(select(func.count()).select_from(D)).scalar_one()
        shares = c.execute(select(func.count()).select_from(T)).scalar_one()
        newest = c.execute(select(func.max(D.period)).where(D.period_type == "month")).scalar()
    if not demand:
        raise DashboardDataError(f"database {where} has no trend rows; load and label postings, then run "
                                 "`labourwatch trends` (or `labourwatch demo`)")
    return DatabaseStatus(engine.dialect.name, int(demand), int(shares), newest, has_seasonal(engine))


def has_seasonal(engine: Engine) -> bool:
    """Whether ``trend_seasonal`` holds adjusted rows (series of three years or more)."""
    with engine.connect() as c:
        return c.execute(select(SEASONAL.c.period).where(SEASONAL.c.index_value.is_not(None)).limit(1)).first() \
            is not None


# --- trend tables --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendFilters:
    """What the filters offer: each dimension's values, the periods of each type, and the categories."""

    dims: Mapping[str, tuple[str, ...]]  # dim -> values (dim "all" is left out)
    periods: Mapping[str, tuple[str, ...]]  # period type -> periods, oldest first
    categories: tuple[str, ...]
    has_sa: bool


def trend_filters(engine: Engine) -> TrendFilters:
    """Dimensions and their values, periods per type and categories present in ``trend_demand``."""
    D = schema.TrendDemand
    dims: dict[str, list[str]] = defaultdict(list)
    periods: dict[str, list[str]] = defaultdict(list)
    with engine.connect() as c:
        for dim, value in c.execute(select(D.dim, D.dim_value).where(D.dim != "all").distinct()
                                    .order_by(D.dim, D.dim_value)):
            dims[dim].append(value)
        for pt, p in c.execute(select(D.period_type, D.period).where(D.dim == "all", D.category == "all")
                               .distinct().order_by(D.period_type, D.period)):
            periods[pt].append(p)
        cats = [r[0] for r in c.execute(select(D.category).where(D.dim == "all").distinct().order_by(D.category))]
    return TrendFilters({k: tuple(v) for k, v in dims.items()}, {k: tuple(v) for k, v in periods.items()},
                        tuple(cats), has_seasonal(engine))


@dataclass(frozen=True, slots=True)
class DemandPoint:
    """One ``trend_demand`` cell: new canonical postings, year-on-year change (95% Katz) and index."""

    period_type: str
    period: str
    dim: str
    dim_value: str
    category: str
    n: int
    n_prev_year: int | None
    yoy_change: float | None
    yoy_ci_low: float | None
    yoy_ci_high: float | None
    index_value: float | None
    index_sa: float | None  # seasonally adjusted (monthly, series mean = 100), when the database has it
    suppressed: bool
    model_version: str
    holiday_shift: str | None = None  # a moving holiday (spring_festival, easter) distorting this month's YoY


@dataclass(frozen=True, slots=True)
class SharePoint:
    """One ``trend_shares`` cell: k of n with the share and its 95% Wilson interval."""

    period_type: str
    period: str
    dim: str
    dim_value: str
    category: str
    metric: str
    n: int
    k: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


def _check_period_type(period_type: str) -> None:
    if period_type not in PERIOD_TYPES:
        raise ValueError(f"period type must be one of {', '.join(PERIOD_TYPES)}, got {period_type!r}")


def demand_points(engine: Engine, *, period_type: str = "month", dim: str = "all", dim_value: str = "",
                  start: str | None = None, end: str | None = None, period: str | None = None,
                  categories: Sequence[str] | None = None, fill_missing: bool = False) -> list[DemandPoint]:
    """Demand cells of one dimension value over ``start..end`` (or one ``period``), for ``categories``
    (default all), ordered by category and period.

    A category without postings in a period has no row; ``fill_missing`` adds it as ``n = 0`` (index 0 when
    the category has a baseline, flagged small) for every period that has postings at all, so a series
    shows the zero instead of joining its neighbours.
    """
    _check_period_type(period_type)
    D = schema.TrendDemand
    stmt = select(D.period_type, D.period, D.dim, D.dim_value, D.category, D.n, D.n_prev_year, D.yoy_change,
                  D.yoy_ci_low, D.yoy_ci_high, D.index_value, D.suppressed, D.model_version).where(
        D.period_type == period_type, D.dim == dim, D.dim_value == dim_value)
    if period is not None:
        stmt = stmt.where(D.period == period)
    if start:
        stmt = stmt.where(D.period >= start)
    if end:
        stmt = stmt.where(D.period <= end)
    if categories:
        stmt = stmt.where(D.category.in_(list(categories)))
    stmt = stmt.order_by(D.category, D.period)
    seasonal: dict[tuple[str, str], tuple[float | None, str | None]] = {}
    with engine.connect() as c:
        rows: Sequence[Any] = c.execute(stmt).all()
        if period_type == "month" and rows and has_seasonal(engine):
            S = SEASONAL.c
            sstmt = select(S.category, S.period, S.index_value, S.holiday_shift).where(
                S.dim == dim, S.dim_value == dim_value)
            if period is not None:
                sstmt = sstmt.where(S.period == period)
            if start:
                sstmt = sstmt.where(S.period >= start)
            if end:
                sstmt = sstmt.where(S.period <= end)
            if categories:
                sstmt = sstmt.where(S.category.in_(list(categories)))
            seasonal = {(cat, per): (idx, hol) for cat, per, idx, hol in c.execute(sstmt)}
        out = [DemandPoint(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6], r[7], r[8], r[9], r[10],
                           seasonal.get((r[4], r[1]), (None, None))[0], bool(r[11]), r[12],
                           seasonal.get((r[4], r[1]), (None, None))[1]) for r in rows]
        if not fill_missing or not out:
            return out
        pstmt = select(D.period).where(D.period_type == period_type, D.dim == "all", D.category == "all")
        if period is not None:
            pstmt = pstmt.where(D.period == period)
        if start:
            pstmt = pstmt.where(D.period >= start)
        if end:
            pstmt = pstmt.where(D.period <= end)
        periods = [p for (p,) in c.execute(pstmt)]
    have = {(p.category, p.period) for p in out}
    based = {p.category for p in out if p.index_value is not None}
    mv = out[0].model_version
    for cat in (list(categories) if categories else sorted({p.category for p in out})):
        for per in periods:
            if (cat, per) not in have:
                out.append(DemandPoint(period_type, per, dim, dim_value, cat, 0, None, None, None, None,
                                       0.0 if cat in based else None, None, True, mv))
    return sorted(out, key=lambda p: (p.category, p.period))


def share_points(engine: Engine, *, metrics: Sequence[str], period_type: str = "month", dim: str = "all",
                 dim_value: str | None = "", start: str | None = None, end: str | None = None,
                 period: str | None = None, categories: Sequence[str] | None = None) -> list[SharePoint]:
    """Share cells of ``metrics`` for one dimension value (``dim_value=None``: every value of ``dim``)."""
    _check_period_type(period_type)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {', '.join(METRICS)}")
    T = schema.TrendShare
    stmt = select(T.period_type, T.period, T.dim, T.dim_value, T.category, T.metric, T.n, T.k, T.share,
                  T.ci_low, T.ci_high, T.suppressed).where(T.period_type == period_type, T.dim == dim,
                                                          T.metric.in_(list(metrics)))
    if dim_value is not None:
        stmt = stmt.where(T.dim_value == dim_value)
    if period is not None:
        stmt = stmt.where(T.period == period)
    if start:
        stmt = stmt.where(T.period >= start)
    if end:
        stmt = stmt.where(T.period <= end)
    if categories:
        stmt = stmt.where(T.category.in_(list(categories)))
    stmt = stmt.order_by(T.category, T.dim_value, T.metric, T.period)
    with engine.connect() as c:
        return [SharePoint(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7]), r[8], r[9], r[10],
                           bool(r[11])) for r in c.execute(stmt)]


def shift_share_split(engine: Engine, period_from: str, period_to: str, categories: Iterable[str],
                      metric: str = "references_ai", dim: str = "all", dim_value: str = "") -> ShiftShare:
    """Within-category and mix parts of the change of a pooled share (``db.trends.shift_share_change``)."""
    return shift_share_change(engine, period_from, period_to, categories, metric=metric, dim=dim,
                              dim_value=dim_value)


# --- overview ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyFigures:
    """A month's key figures for one country (``country`` empty: all postings pooled)."""

    country: str
    month: str
    postings: DemandPoint | None  # category all
    ai_share: SharePoint | None  # references_ai in the AI group (new_economy, else all)
    ai_share_prev_year: SharePoint | None
    requires_3plus: SharePoint | None  # category all
    unstated: SharePoint | None


def key_figures(engine: Engine, month: str, ai_group: str = "new_economy") -> list[KeyFigures]:
    """Per country, largest first (``dim = 'country'`` rows of known countries; all postings pooled only when
    no posting has a known country): postings and their change, the AI share of ``ai_group`` against a year
    earlier, and the 3+ years share. Postings of an unknown country are a filter value, not a market."""
    known = [m.country for m in market_sizes(engine) if m.country != UNKNOWN]
    countries = [("country", v) for v in known] or [("all", "")]
    prev = f"{int(month[:4]) - 1:04d}{month[4:]}"
    out = []
    for dim, value in countries:
        d = demand_points(engine, dim=dim, dim_value=value, period=month, categories=["all"])
        shares = share_points(engine, metrics=["references_ai", "requires_3plus", "experience_unstated"],
                              dim=dim, dim_value=value, start=prev, end=month,
                              categories=sorted({ai_group, "all"}))
        by = {(s.period, s.category, s.metric): s for s in shares}
        group = ai_group if (month, ai_group, "references_ai") in by else "all"
        out.append(KeyFigures(value, month, d[0] if d else None, by.get((month, group, "references_ai")),
                              by.get((prev, group, "references_ai")), by.get((month, "all", "requires_3plus")),
                              by.get((month, "all", "experience_unstated"))))
    return out


@dataclass(frozen=True, slots=True)
class BriefFile:
    month: str
    lang: str
    path: str
    pages: int
    sha256: str
    created_at: datetime
    country: str = ""  # the brief's market: ISO code, "all" when pooled, "" when recorded before migration 0006


def briefs(engine: Engine) -> list[BriefFile]:
    """The rendered PDF briefs recorded in ``briefs``, newest month first."""
    B = schema.Brief
    with engine.connect() as c:
        return [BriefFile(*r) for r in c.execute(
            select(B.month, B.lang, B.path, B.pages, B.sha256, B.created_at, B.country)
            .order_by(B.month.desc(), B.lang, B.country))]


def brief_path(engine: Engine, month: str, lang: str, country: str | None = None) -> str | None:
    """The recorded file of one brief, or None: the brief of ``country`` (ISO code, ``all`` for pooled);
    without a country, the newest brief of the month and language."""
    B = schema.Brief
    stmt = select(B.path).where(B.month == month, B.lang == lang)
    if country is not None:
        stmt = stmt.where(B.country == country)
    with engine.connect() as c:
        return c.execute(stmt.order_by(B.created_at.desc(), B.id.desc()).limit(1)).scalar()


# --- postings behind a figure ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostingSample:
    """One posting in a trend cell with the labels that put it there and the newest audit verdicts."""

    posting_id: int
    title: str
    company: str | None
    city: str | None
    source: str
    url: str | None
    posted_at: str | None
    role_category: str
    role_confidence: float
    ai_level: str
    ai_terms: tuple[str, ...]
    experience_bucket: str
    requires_3plus_years: bool | None
    model_version: str
    audit: Mapping[str, bool | None]  # field -> newest verdict (True right, False wrong)


def cell_postings(engine: Engine, *, period_type: str, period: str, dim: str = "all", dim_value: str = "",
                  roles: Sequence[str] | None = None, model_version: str | None = None,
                  limit: int = 25) -> list[PostingSample]:
    """A sample (lowest ids first, ``limit``) of the canonical postings counted in one trend cell.

    ``roles``: the role codes of the cell's category (None: every role, for ``all``). ``model_version``
    defaults to the version that computed the cell. Uses the posted month/week index and stops at ``limit``.
    """
    _check_period_type(period_type)
    P, L, S, D = schema.Posting, schema.PostingLabel, schema.Source, schema.TrendDemand
    if model_version is None:
        with engine.connect() as c:
            model_version = c.execute(select(D.model_version).where(
                D.period_type == period_type, D.period == period, D.dim == "all", D.category == "all")).scalar()
        if model_version is None:
            return []
    period_col = P.posted_month if period_type == "month" else P.posted_week
    stmt = (select(P.id, P.title, P.company, P.city, S.name, P.url, P.posted_at, L.role_category,
                   L.role_confidence, L.ai_level, L.ai_terms, L.experience_bucket, L.requires_3plus_years,
                   L.model_version)
            .join(L, and_(L.posting_id == P.id, L.model_version == model_version))
            .join(S, S.id == P.source_id)
            .where(period_col == period, P.canonical_id.is_(None)))
    if roles:
        stmt = stmt.where(L.role_category.in_(list(roles)))
    if dim != "all":
        col = {"city": P.city, "lang": P.lang, "country": P.country, "source": S.name}.get(dim)
        if col is None:
            raise ValueError(f"cannot list postings by dimension {dim!r}")
        if dim_value == UNKNOWN and dim != "source":
            stmt = stmt.where(or_(col.is_(None), col == ""))
        else:
            stmt = stmt.where(col == dim_value)
    stmt = stmt.order_by(P.id).limit(max(1, min(int(limit), 500)))
    with engine.connect() as c:
        rows = c.execute(stmt).all()
        ids = [r[0] for r in rows]
        verdicts: dict[int, dict[str, bool | None]] = defaultdict(dict)
        if ids:
            A = schema.AuditLabel
            for pid, field, correct in c.execute(select(A.posting_id, A.field, A.correct)
                                                 .where(A.posting_id.in_(ids)).order_by(A.id)):
                verdicts[pid][field] = correct
    return [PostingSample(r[0], r[1], r[2], r[3], r[4], r[5], r[6].isoformat() if r[6] else None, r[7],
                          float(r[8]), r[9], tuple(r[10] or ()), r[11], r[12], r[13], dict(verdicts.get(r[0], {})))
            for r in rows]


def record_verdict(engine: Engine, posting_id: int, field: str, correct: bool, *, auditor: str | None = None,
                   note: str | None = None, model_version: str | None = None) -> None:
    """Store an analyst's right/wrong verdict on one label (origin ``dashboard``) in the audit store.

    The predicted value is read from the posting's label of ``model_version`` (default: its newest label).
    ``engine`` must be writable. Raises ``ValueError`` for an unknown posting, label or field.
    """
    if field not in AUDIT_FIELDS:
        raise ValueError(f"audit field {field!r} is not one of {', '.join(AUDIT_FIELDS)}")
    L = schema.PostingLabel
    stmt = select(L.model_version, getattr(L, field)).where(L.posting_id == posting_id)
    if model_version:
        stmt = stmt.where(L.model_version == model_version)
    with engine.connect() as c:
        row = c.execute(stmt.order_by(L.labelled_at.desc()).limit(1)).first()
    if row is None:
        raise ValueError(f"posting {posting_id} has no label" + (f" of {model_version}" if model_version else ""))
    record_audit(engine, [AuditIn(posting_id=posting_id, field=field, predicted=str(row[1]), correct=correct,
                                  model_version=row[0], origin="dashboard", auditor=auditor, note=note)])


# --- sources and quality ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrawlRunRow:
    run_id: int
    source: str
    kind: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    items: int | None
    rejects: int
    error: str | None


@dataclass(frozen=True, slots=True)
class SourceQuality(DuplicateCounts):
    source: str
    kind: str
    postings: int
    canonical: int
    rejects: int
    runs: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A classifier version: trend periods it computed and its newest evaluation figures."""

    model_version: str
    periods: int
    postings: int
    evaluations: tuple[tuple[str, str, str, float, int], ...]  # (dataset, field, metric, value, n)


@dataclass(frozen=True, slots=True)
class QualityReport:
    runs: tuple[CrawlRunRow, ...]
    sources: tuple[SourceQuality, ...]
    versions: tuple[VersionRow, ...]
    suppressed_cells: int
    cells: int


def _rejects(stats: CrawlStats | None) -> int:
    """Rows an import refused, else postings a crawl dropped."""
    if stats is None:
        return 0
    return stats.rejected or stats.dropped_total


def _items(stats: CrawlStats | None) -> int | None:
    """Items a crawl scraped, else rows an import read, else postings inserted; None for a run without stats."""
    if stats is None:
        return None
    return stats.items_scraped or stats.rows or stats.inserted


def _stats(raw: Mapping[str, Any] | None) -> CrawlStats | None:
    return CrawlStats.from_dict(raw) if raw else None


def quality_report(engine: Engine, runs_limit: int = 50) -> QualityReport:
    """Recent crawl runs, postings/canonical/rejects per source, classifier versions and suppression.

    Postings and duplicates per source come from ``source_counts``, the counters the database's triggers keep
    on ``postings`` (migration 0007): milliseconds at 10M postings instead of a count over all of them.
    """
    C, S, R, TP, E, D = (schema.SourceCount, schema.Source, schema.CrawlRun, schema.TrendPeriod, schema.Evaluation,
                         schema.TrendDemand)
    with engine.connect() as c:
        names = {sid: (name, kind or "") for sid, name, kind in c.execute(select(S.id, S.name, S.kind))}
        postings: dict[int, int] = {}
        canonical: dict[int, int] = {}
        for sid, n, n_dup in c.execute(select(C.source_id, func.sum(C.postings), func.sum(C.duplicates))
                                       .group_by(C.source_id)):
            postings[sid], canonical[sid] = int(n or 0), int(n or 0) - int(n_dup or 0)
        rejects: dict[int, int] = defaultdict(int)
        nruns: dict[int, int] = defaultdict(int)
        for sid, stats in c.execute(select(R.source_id, R.stats)):
            rejects[sid] += _rejects(_stats(stats))
            nruns[sid] += 1
        runs = tuple(
            CrawlRunRow(rid, names.get(sid, ("?", ""))[0], kind, started, finished, status, _items(_stats(stats)),
                        _rejects(_stats(stats)), error)
            for rid, sid, kind, started, finished, status, stats, error in c.execute(
                select(R.id, R.source_id, R.kind, R.started_at, R.finished_at, R.status, R.stats, R.error)
                .order_by(R.started_at.desc(), R.id.desc()).limit(runs_limit)))
        evals: dict[str, dict[tuple[str, str, str], tuple[str, str, str, float, int]]] = defaultdict(dict)
        for mv, ds, field, metric, value, n in c.execute(
                select(E.model_version, E.dataset, E.field, E.metric, E.value, E.n).order_by(E.created_at)):
            evals[mv][(ds, field, metric)] = (ds, field, metric, float(value), int(n))
        versions = {mv: (int(periods), int(n or 0)) for mv, periods, n in c.execute(
            select(TP.model_version, func.count(), func.sum(TP.n_postings)).where(TP.period_type == "month")
            .group_by(TP.model_version))}
        cells = c.execute(select(func.count()).select_from(D).where(D.dim == "all")).scalar_one()
        supp = c.execute(select(func.count()).select_from(D).where(D.dim == "all", D.suppressed)).scalar_one()
    sources = tuple(sorted((SourceQuality(name, kind, int(postings.get(sid, 0)), int(canonical.get(sid, 0)),
                                          rejects.get(sid, 0), nruns.get(sid, 0))
                            for sid, (name, kind) in names.items()), key=lambda s: s.source))
    all_versions = sorted(set(versions) | set(evals))
    return QualityReport(runs, sources, tuple(
        VersionRow(mv, versions.get(mv, (0, 0))[0], versions.get(mv, (0, 0))[1],
                   tuple(sorted(evals.get(mv, {}).values()))) for mv in all_versions), int(supp), int(cells))


# --- audit ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerdictRow:
    posting_id: int
    title: str | None
    field: str
    predicted: str | None
    true_value: str | None
    correct: bool | None
    origin: str
    auditor: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Measured accuracy of one field from the newest verdicts: k right of n, 95% Wilson interval."""

    field: str
    n: int
    k: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class AuditReport:
    verdicts: tuple[VerdictRow, ...]  # newest first
    accuracy: tuple[Accuracy, ...]


def audit_report(engine: Engine, limit: int = 200) -> AuditReport:
    """The newest verdict per posting and field (``limit`` newest shown) and accuracy per field."""
    latest = latest_audit(engine)
    report = measured_accuracy(engine)  # the same accuracy the brief's method page and the adjusted figures read
    acc = []
    for field in AUDIT_FIELDS:
        fa = report.field(field)
        acc.append(Accuracy(field, fa.n, round(fa.accuracy * fa.n), fa.accuracy, fa.ci_low, fa.ci_high) if fa
                   else Accuracy(field, 0, 0, None, None, None))
    shown = sorted(latest, key=lambda a: a.created_at, reverse=True)[:limit]
    titles: dict[int, str] = {}
    if shown:
        P = schema.Posting
        with engine.connect() as c:
            titles = dict(c.execute(select(P.id, P.title).where(P.id.in_([a.posting_id for a in shown]))).all())
    return AuditReport(tuple(VerdictRow(a.posting_id, titles.get(a.posting_id), a.field, a.predicted, a.true_value,
                                        a.correct, a.origin, a.auditor, a.created_at) for a in shown), tuple(acc))


__all__ = [
    "Accuracy", "AuditReport", "BriefFile", "CrawlRunRow", "DashboardDataError", "DatabaseStatus", "DemandPoint",
    "KeyFigures", "PostingSample", "QualityReport", "SharePoint", "SourceQuality", "TrendFilters", "VerdictRow",
    "VersionRow", "audit_report", "brief_path", "briefs", "cell_postings", "check_database", "demand_points",
    "key_figures", "quality_report", "readonly_engine", "record_verdict", "share_points", "shift_share_split",
    "trend_filters",
]
