"""Run rows (``crawl_runs``) while a crawl or import runs: flow provenance, heartbeats, and killed runs."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, func, or_, select, update

from db import schema
from labourwatch.settings import get_settings


def link_crawl_run(engine: Engine, run_id: int, flow_run_id: str | None) -> None:
    """Record which flow run crawl run ``run_id`` belonged to (``crawl_runs.flow_run_id``); nothing for None."""
    if not flow_run_id:
        return
    with engine.begin() as c:
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == run_id).values(flow_run_id=str(flow_run_id)))


def touch_run(engine: Engine, run_id: int) -> None:
    """Record that run ``run_id`` is alive (``crawl_runs.heartbeat_at`` = now)."""
    with engine.begin() as c:
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == run_id)
                  .values(heartbeat_at=datetime.now(UTC)))


class Heartbeat:
    """While the block runs, a daemon thread touches the run's heartbeat every ``interval`` seconds
    (default a fifth of LABOURWATCH_RUN_STALE_AFTER); a killed process stops beating with it."""

    def __init__(self, engine: Engine, run_id: int, interval: float | None = None) -> None:
        self.engine, self.run_id = engine, run_id
        self.interval = interval if interval is not None else max(1.0, get_settings().run_stale_after / 5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def _beat(self) -> None:
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
    R = schema.CrawlRun
    stale_after = get_settings().run_stale_after if stale_after is None else stale_after
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=stale_after)
    stale = or_(and_(R.heartbeat_at.is_not(None), R.heartbeat_at < cutoff),
                and_(R.heartbeat_at.is_(None), R.started_at < cutoff))
    with engine.begin() as c:
        ids = [int(r[0]) for r in c.execute(select(R.id).where(R.status == "running", stale))]
        if ids:
            c.execute(update(R).where(R.id.in_(ids), R.status == "running").values(
                status="interrupted", finished_at=func.coalesce(R.heartbeat_at, R.started_at),
                error=f"no heartbeat for {stale_after:.0f} s: the process was killed or lost"))
    return ids
