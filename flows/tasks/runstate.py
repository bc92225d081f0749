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


# --- run liveness: heartbeats, and runs that were killed ---------------------------------------------


def touch_run(engine: Engine, run_id: int) -> None:
    """Record that run ``run_id`` is alive (``crawl_runs.heartbeat_at`` = now)."""
    from datetime import UTC

    with engine.begin() as c:
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == run_id)
                  .values(heartbeat_at=datetime.now(UTC)))


class Heartbeat:
    """While the block runs, a daemon thread touches the run's heartbeat every ``interval`` seconds
    (default a fifth of LABOURWATCH_RUN_STALE_AFTER); a killed process stops beating with it."""

    def __init__(self, engine: Engine, run_id: int, interval: float | None = None) -> None:
        import threading

        from labourwatch.settings import get_settings

        self.engine, self.run_id = engine, run_id
        self.interval = interval if interval is not None else max(1.0, get_settings().run_stale_after / 5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def _beat(self) -> None:
        import logging

        while not self._stop.wait(self.interval):
            try:
                touch_run(self.engine, self.run_id)
            except Exception as exc:  # a busy database must not kill the run it watches
                logging.getLogger(__name__).debug("heartbeat of run %s failed: %s", self.run_id, exc)

    def __enter__(self) -> Heartbeat:
        touch_run(self.engine, self.run_id)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def mark_interrupted(engine: Engine, stale_after: float | None = None, now: datetime | None = None) -> list[int]:
    """Mark runs still 'running' whose heartbeat (or start, if they never beat) is older than
    ``stale_after`` seconds (default LABOURWATCH_RUN_STALE_AFTER) as 'interrupted'; returns their ids.
    Called when a run starts, so a killed run does not stay 'running' for ever."""
    from datetime import UTC, timedelta

    from sqlalchemy import and_, or_

    from labourwatch.settings import get_settings

    R = schema.CrawlRun
    stale_after = get_settings().run_stale_after if stale_after is None else stale_after
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=stale_after)
    stale = or_(and_(R.heartbeat_at.is_not(None), R.heartbeat_at < cutoff),
                and_(R.heartbeat_at.is_(None), R.started_at < cutoff))
    with engine.begin() as c:
        ids = [r[0] for r in c.execute(select(R.id).where(R.status == "running", stale))]
        if ids:
            c.execute(update(R).where(R.id.in_(ids), R.status == "running").values(
                status="interrupted", finished_at=func.coalesce(R.heartbeat_at, R.started_at),
                error=f"no heartbeat for {stale_after:.0f} s: the process was killed or lost"))
    return ids
