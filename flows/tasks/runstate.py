"""Plain reads the flows use to decide what to recompute and to summarise a run (no Prefect here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update

from db import schema


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """What one source holds in the database, and what changed since a moment."""

    source: str
    postings: int
    new: int
    duplicates: int


def source_counts(engine: Engine, since: datetime, sources: list[str] | None = None) -> dict[str, SourceCounts]:
    """Per source: all postings, postings first seen at or after ``since``, and how many of those are duplicates."""
    P, S = schema.Posting, schema.Source
    with engine.connect() as c:
        q = select(S.name, func.count(P.id)).join(P, P.source_id == S.id, isouter=True).group_by(S.name)
        total = dict(c.execute(q).all())
        new = dict(c.execute(select(S.name, func.count(P.id)).join(P, P.source_id == S.id)
                             .where(P.first_seen >= since).group_by(S.name)).all())
        dup = dict(c.execute(select(S.name, func.count(P.id)).join(P, P.source_id == S.id)
                             .where(P.first_seen >= since, P.canonical_id.is_not(None)).group_by(S.name)).all())
    names = sources if sources is not None else sorted(total)
    return {n: SourceCounts(n, int(total.get(n, 0)), int(new.get(n, 0)), int(dup.get(n, 0))) for n in names}


def link_crawl_run(run_id: int, flow_run_id: str | None) -> None:
    """Record which flow run a crawl belonged to (``crawl_runs.flow_run_id``), for provenance."""
    if not flow_run_id:
        return
    from db.session import get_engine

    with get_engine().begin() as c:
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == run_id).values(flow_run_id=str(flow_run_id)))


def latest_trend_time(engine: Engine) -> datetime | None:
    """When the trend tables were last computed; None when they are empty."""
    with engine.connect() as c:
        return c.execute(select(func.max(schema.TrendDemand.computed_at))).scalar()


def months_to_recompute(engine: Engine) -> str | None:
    """The earliest posting month whose labels are newer than the trend tables, or None when none are.

    Stateless on purpose: a run killed between classification and trends is caught up by the next one.
    """
    P, L = schema.Posting, schema.PostingLabel
    last = latest_trend_time(engine)
    q = select(func.min(P.posted_month)).join(L, L.posting_id == P.id)
    if last is not None:
        q = q.where(L.labelled_at > last)
    with engine.connect() as c:
        return c.execute(q).scalar()


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the tables a pipeline run writes."""
    tables = {
        "postings": schema.Posting,
        "posting_labels": schema.PostingLabel,
        "trend_demand": schema.TrendDemand,
        "trend_shares": schema.TrendShare,
        "crawl_runs": schema.CrawlRun,
        "briefs": schema.Brief,
    }
    with engine.connect() as c:
        return {name: int(c.execute(select(func.count()).select_from(t)).scalar() or 0)
                for name, t in tables.items()}


def month_range(start: str, end: str) -> list[str]:
    """Months from ``start`` to ``end`` inclusive, both ``YYYY-MM``; a clear error for bad input."""
    def parse(m: str) -> tuple[int, int]:
        try:
            y, mo = (int(x) for x in m.split("-"))
        except ValueError:
            raise ValueError(f"month {m!r} is not YYYY-MM (e.g. 2026-03)") from None
        if not 1 <= mo <= 12 or len(m) != 7:
            raise ValueError(f"month {m!r} is not YYYY-MM (e.g. 2026-03)")
        return y, mo

    y, m = parse(start)
    ey, em = parse(end)
    if (ey, em) < (y, m):
        raise ValueError(f"backfill start {start} is after end {end}")
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def previous_month(today: datetime) -> str:
    """The month before ``today``'s, as YYYY-MM."""
    y, m = today.year, today.month
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return f"{y:04d}-{m:02d}"
