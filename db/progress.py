"""Reads the flows use to decide what to recompute and to summarise a run: per-source and per-month counts, the
months whose labels are newer than the trend tables, and how two classifier versions agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Executable, Table, func, select

from db import schema

LABEL_FIELDS_COMPARED = ("role_category", "experience_bucket", "ai_level")


@dataclass(frozen=True, slots=True)
class SourceCounts:
    """What one source holds in the database, and what changed since a moment."""

    source: str
    postings: int
    new: int
    duplicates: int


def source_counts(engine: Engine, since: datetime, sources: Sequence[str] | None = None) -> dict[str, SourceCounts]:
    """Per source: all postings, postings first seen at or after ``since``, and how many of those are duplicates.

    With ``sources``, exactly those names (a source with no row counts zero); else every stored source.
    """
    P, S = schema.Posting, schema.Source
    with engine.connect() as c:
        q = select(S.name, func.count(P.id)).join(P, P.source_id == S.id, isouter=True).group_by(S.name)
        total: dict[str, int] = {str(k): int(v) for k, v in c.execute(q).all()}
        new = {str(k): int(v) for k, v in c.execute(
            select(S.name, func.count(P.id)).join(P, P.source_id == S.id)
            .where(P.first_seen >= since).group_by(S.name)).all()}
        dup = {str(k): int(v) for k, v in c.execute(
            select(S.name, func.count(P.id)).join(P, P.source_id == S.id)
            .where(P.first_seen >= since, P.canonical_id.is_not(None)).group_by(S.name)).all()}
    names = list(sources) if sources is not None else sorted(total)
    return {n: SourceCounts(n, total.get(n, 0), new.get(n, 0), dup.get(n, 0)) for n in names}


def latest_trend_time(engine: Engine) -> datetime | None:
    """When the trend tables were last computed; None when they are empty."""
    with engine.connect() as c:
        return cast(datetime | None, c.execute(select(func.max(schema.TrendDemand.computed_at))).scalar())


def months_to_recompute(engine: Engine) -> str | None:
    """The earliest posting month (YYYY-MM) whose labels are newer than the trend tables, or None when none are.

    Stateless on purpose: a run killed between classification and trends is caught up by the next one.
    """
    P, L = schema.Posting, schema.PostingLabel
    last = latest_trend_time(engine)
    q = select(func.min(P.posted_month)).join(L, L.posting_id == P.id)
    if last is not None:
        q = q.where(L.labelled_at > last)
    with engine.connect() as c:
        month = c.execute(q).scalar()
    return None if month is None else str(month)


@dataclass(frozen=True, slots=True)
class MonthCounts:
    """What one month holds after a backfill: postings, canonical postings, labelled postings, trend rows."""

    month: str
    postings: int
    canonical: int
    labelled: int
    trend_rows: int


def month_counts(engine: Engine, months: Sequence[str]) -> list[MonthCounts]:
    """``MonthCounts`` of each of ``months`` (YYYY-MM), in the order given; zeros for a month with no rows."""
    P, L, T = schema.Posting, schema.PostingLabel, schema.TrendDemand
    wanted = list(months)
    with engine.connect() as c:
        def per_month(q: Executable) -> dict[str, int]:
            return {str(m): int(n) for m, n in c.execute(q).all()}

        postings = per_month(select(P.posted_month, func.count()).where(P.posted_month.in_(wanted))
                             .group_by(P.posted_month))
        canonical = per_month(select(P.posted_month, func.count()).where(P.posted_month.in_(wanted),
                                                                          P.canonical_id.is_(None))
                              .group_by(P.posted_month))
        labelled = per_month(select(P.posted_month, func.count(func.distinct(L.posting_id)))
                             .join(L, L.posting_id == P.id).where(P.posted_month.in_(wanted))
                             .group_by(P.posted_month))
        trends = per_month(select(T.period, func.count()).where(T.period_type == "month", T.period.in_(wanted))
                           .group_by(T.period))
    return [MonthCounts(m, postings.get(m, 0), canonical.get(m, 0), labelled.get(m, 0), trends.get(m, 0))
            for m in wanted]


@dataclass(frozen=True, slots=True)
class LabelAgreement:
    """Postings labelled by two classifier versions, and the share of them on which the versions agree per field."""

    old: str
    new: str
    compared: int
    agreement: dict[str, float]  # field (LABEL_FIELDS_COMPARED) -> share agreeing, 0.0 when none compared


def label_agreement(engine: Engine, old: str, new: str) -> LabelAgreement:
    """How the labels of versions ``old`` and ``new`` agree on the postings both labelled."""
    table = cast(Table, schema.PostingLabel.__table__)
    a, b = table.alias("a"), table.alias("b")
    with engine.connect() as c:
        joined = a.join(b, a.c.posting_id == b.c.posting_id)
        n = int(c.execute(select(func.count()).select_from(joined)
                          .where(a.c.model_version == old, b.c.model_version == new)).scalar() or 0)
        out: dict[str, float] = {}
        for f in LABEL_FIELDS_COMPARED:
            k = c.execute(select(func.count()).select_from(joined).where(
                a.c.model_version == old, b.c.model_version == new, a.c[f] == b.c[f])).scalar() or 0
            out[f] = k / n if n else 0.0
    return LabelAgreement(old, new, n, out)


def current_trend_version(engine: Engine) -> str | None:
    """The classifier version the trend tables were last computed from; None when they are empty."""
    T = schema.TrendDemand
    with engine.connect() as c:
        version = c.execute(select(T.model_version).order_by(T.computed_at.desc()).limit(1)).scalar()
    return None if version is None else str(version)
