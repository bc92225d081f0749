"""Typed reads and writes for the monthly brief: trend rows of a market, the quality page's figures, ``briefs``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from db import schema
from db.dashboard import SharePoint
from db.session import session_scope
from labourwatch.contract import CrawlStats


@dataclass(frozen=True)
class DemandRow:
    """One ``trend_demand`` row (period_type month, one market)."""

    period: str
    category: str
    n: int
    n_prev_year: int | None
    yoy_change: float | None
    yoy_ci_low: float | None
    yoy_ci_high: float | None
    index_value: float | None
    suppressed: bool


ShareRow = SharePoint  # one trend_shares cell; the brief reads the monthly cells of one market


@dataclass(frozen=True)
class EvaluationRow:
    model_version: str
    dataset: str
    field: str
    metric: str
    value: float
    n: int
    created_at: datetime


@dataclass(frozen=True)
class RunStats:
    """One crawl or import run of a source: when, how it ended and its typed counters."""

    started_at: datetime
    status: str
    stats: CrawlStats


@dataclass(frozen=True)
class SourceRuns:
    """A source with its postings, canonical postings and runs (oldest first)."""

    name: str
    kind: str
    postings: int
    canonical: int
    runs: tuple[RunStats, ...]


@dataclass(frozen=True)
class QualityFigures:
    """What the brief's methods and data-quality page reads from the database for one month."""

    sources: tuple[SourceRuns, ...]  # by name
    cells_demand: int
    suppressed_demand: int
    cells_shares: int
    suppressed_shares: int
    model_version: str | None  # the version behind most of the month's demand rows
    taxonomy_version: str | None
    evaluations: tuple[EvaluationRow, ...]
    previous_briefs: int  # briefs recorded for earlier months


def trend_rows(engine: Engine, dim: str, dim_value: str, first: str, last: str
               ) -> tuple[list[DemandRow], list[ShareRow]]:
    """The monthly ``trend_demand`` and ``trend_shares`` rows of one market (``dim``, ``dim_value``) from month
    ``first`` to ``last`` (YYYY-MM, inclusive), ordered by period, category (and metric)."""
    D, S = schema.TrendDemand, schema.TrendShare
    with engine.connect() as c:
        demand_rows = c.execute(
            select(D.period, D.category, D.n, D.n_prev_year, D.yoy_change, D.yoy_ci_low, D.yoy_ci_high,
                   D.index_value, D.suppressed)
            .where(D.period_type == "month", D.dim == dim, D.dim_value == dim_value,
                   D.period >= first, D.period <= last)
            .order_by(D.period, D.category)
        ).all()
        share_rows = c.execute(
            select(S.period_type, S.period, S.dim, S.dim_value, S.category, S.metric, S.n, S.k, S.share, S.ci_low,
                   S.ci_high, S.suppressed)
            .where(S.period_type == "month", S.dim == dim, S.dim_value == dim_value,
                   S.period >= first, S.period <= last)
            .order_by(S.period, S.category, S.metric)
        ).all()
    return ([DemandRow(*r[:8], bool(r[8])) for r in demand_rows],
            [SharePoint(r.period_type, r.period, r.dim, r.dim_value, r.category, r.metric, int(r.n), int(r.k),
                        r.share, r.ci_low, r.ci_high, bool(r.suppressed)) for r in share_rows])


def quality_figures(engine: Engine, month: str) -> QualityFigures:
    """Sources with their posting counts and runs (``crawl_runs.stats`` read as ``CrawlStats``), the month's
    monthly cells and suppressed cells, the label versions behind them, the newest evaluations of that model
    version (else of the newest evaluated version) and the number of briefs recorded for earlier months."""
    P, S, R, D, T, B = (schema.Posting, schema.Source, schema.CrawlRun, schema.TrendDemand, schema.TrendShare,
                        schema.Brief)
    with engine.connect() as c:
        postings = dict(c.execute(select(P.source_id, func.count()).group_by(P.source_id)).all())
        canonical = dict(c.execute(select(P.source_id, func.count()).where(P.canonical_id.is_(None))
                                   .group_by(P.source_id)).all())
        runs: dict[int, list[RunStats]] = defaultdict(list)
        for sid, started, status, stats in c.execute(
                select(R.source_id, R.started_at, R.status, R.stats).order_by(R.started_at)):
            runs[sid].append(RunStats(started, status, CrawlStats.from_dict(stats)))
        sources = tuple(
            SourceRuns(name, kind or "", postings.get(sid, 0), canonical.get(sid, 0), tuple(runs.get(sid, ())))
            for sid, name, kind in c.execute(select(S.id, S.name, S.kind).order_by(S.name)))
        month_filter_d = (D.period_type == "month", D.period == month)
        month_filter_s = (T.period_type == "month", T.period == month)
        cells_d = c.execute(select(func.count()).select_from(D).where(*month_filter_d)).scalar_one()
        supp_d = c.execute(select(func.count()).select_from(D).where(*month_filter_d, D.suppressed)).scalar_one()
        cells_s = c.execute(select(func.count()).select_from(T).where(*month_filter_s)).scalar_one()
        supp_s = c.execute(select(func.count()).select_from(T).where(*month_filter_s, T.suppressed)).scalar_one()
        versions = c.execute(
            select(D.model_version, D.taxonomy_version, func.count())
            .where(*month_filter_d).group_by(D.model_version, D.taxonomy_version)
            .order_by(func.count().desc())
        ).first()
        model_version = versions[0] if versions else None
        evals = _latest_evaluations(c, model_version)
        previous = c.execute(select(func.count()).select_from(B).where(B.month < month)).scalar_one()
    return QualityFigures(
        sources=sources, cells_demand=cells_d, suppressed_demand=supp_d, cells_shares=cells_s,
        suppressed_shares=supp_s, model_version=model_version, taxonomy_version=versions[1] if versions else None,
        evaluations=evals, previous_briefs=previous)


def _latest_evaluations(conn: Connection, model_version: str | None) -> tuple[EvaluationRow, ...]:
    """The newest row per (field, metric, dataset) of the trend rows' model version, else of any version."""
    E = schema.Evaluation
    query = select(E.model_version, E.dataset, E.field, E.metric, E.value, E.n, E.created_at)
    rows: Any = []
    if model_version:
        rows = conn.execute(query.where(E.model_version == model_version).order_by(E.created_at)).all()
    if not rows:
        newest = conn.execute(select(E.model_version).order_by(E.created_at.desc()).limit(1)).scalar()
        if newest is None:
            return ()
        rows = conn.execute(query.where(E.model_version == newest).order_by(E.created_at)).all()
    latest: dict[tuple[str, str, str], EvaluationRow] = {}
    for r in rows:
        latest[(r.field, r.metric, r.dataset)] = EvaluationRow(*r)
    return tuple(sorted(latest.values(), key=lambda e: (e.field, e.dataset, e.metric)))


def record_brief(engine: Engine, month: str, lang: str, path: Path, sha256: str, pages: int,
                 model_version: str | None, country: str = "all") -> None:
    """Insert or update the ``briefs`` row of (month, lang, country); ``country`` is the brief's market (ISO
    code, or ``all`` for every country pooled), so briefs of two countries are both kept."""
    with session_scope(engine) as session:
        row = session.scalars(select(schema.Brief).where(schema.Brief.month == month, schema.Brief.lang == lang,
                                                         schema.Brief.country == country)).first()
        if row is None:
            row = schema.Brief(month=month, lang=lang, country=country)
            session.add(row)
        row.path = str(path.resolve())
        row.sha256 = sha256
        row.pages = pages
        row.model_version = model_version
        row.created_at = datetime.now(UTC)
