"""Reads: status summaries and analyst queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from db import schema


@dataclass(frozen=True)
class SourceStatus:
    source: str
    postings: int
    canonical: int
    labelled_share: float
    last_run: str | None
    last_status: str | None


def status_rows(engine: Engine) -> list[SourceStatus]:
    """One row per source: postings, canonical postings, labelled share, last run time and status."""
    P, L, S, R = schema.Posting, schema.PostingLabel, schema.Source, schema.CrawlRun
    with engine.connect() as c:
        counts = dict(c.execute(select(P.source_id, func.count()).group_by(P.source_id)).all())
        canon = dict(c.execute(select(P.source_id, func.count()).where(P.canonical_id.is_(None))
                               .group_by(P.source_id)).all())
        labelled = dict(c.execute(
            select(P.source_id, func.count(func.distinct(L.posting_id))).join(L, L.posting_id == P.id)
            .group_by(P.source_id)).all())
        last = {}
        for sid, started, st in c.execute(select(R.source_id, R.started_at, R.status).order_by(R.started_at)):
            last[sid] = (started, st)
        out = []
        for sid, name in c.execute(select(S.id, S.name).order_by(S.name)):
            n = counts.get(sid, 0)
            started, st = last.get(sid, (None, None))
            out.append(SourceStatus(name, n, canon.get(sid, 0), (labelled.get(sid, 0) / n) if n else 0.0,
                                    started.isoformat(timespec="seconds") if started else None, st))
    return out
