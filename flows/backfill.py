"""Backfill a range of months (crawl history, classify, dedupe, trends) and reclassify history with a new model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy import func, select

from db import schema
from db.session import get_engine
from flows.nightly import PipelineReport, classify_and_trend, crawl_all, fill_source_counts, publish
from flows.tasks import crawling, pipeline
from flows.tasks.runstate import month_range


def month_rows(months: list[str]) -> list[dict[str, Any]]:
    """Per month: postings, canonical postings, labelled postings, trend rows (what a backfill produced)."""
    P, L, T = schema.Posting, schema.PostingLabel, schema.TrendDemand
    engine = get_engine()
    with engine.connect() as c:
        def per_month(q: Any) -> dict[str, int]:
            return {m: int(n) for m, n in c.execute(q).all()}

        postings = per_month(select(P.posted_month, func.count()).where(P.posted_month.in_(months))
                             .group_by(P.posted_month))
        canonical = per_month(select(P.posted_month, func.count()).where(P.posted_month.in_(months),
                                                                          P.canonical_id.is_(None))
                              .group_by(P.posted_month))
        labelled = per_month(select(P.posted_month, func.count(func.distinct(L.posting_id)))
                             .join(L, L.posting_id == P.id).where(P.posted_month.in_(months))
                             .group_by(P.posted_month))
        trends = per_month(select(T.period, func.count()).where(T.period_type == "month", T.period.in_(months))
                           .group_by(T.period))
    return [{"month": m, "postings": postings.get(m, 0), "canonical": canonical.get(m, 0),
             "labelled": labelled.get(m, 0), "trend_rows": trends.get(m, 0)} for m in months]


@dataclass(slots=True)
class BackfillReport:
    """A backfill's pipeline report plus what each month of the range now holds."""

    start: str
    end: str
    pipeline: PipelineReport
    months: list[dict[str, Any]] = field(default_factory=list)


@flow(name="backfill", timeout_seconds=24 * 3600)
def backfill(start: str, end: str, crawl: bool = True, sources: list[str] | None = None,
             max_requests: int | None = None, crawl_retries: int = 3) -> BackfillReport:
    """Re-run the months ``start``..``end`` (YYYY-MM): crawl the sources' history, classify, dedupe, trends.

    Idempotent like ``nightly``: postings are upserted, only unlabelled postings are classified, and the
    trend months from ``start`` on are recomputed in place.
    """
    months = month_range(start, end)
    report = PipelineReport(flow="backfill", started_at=datetime.now(UTC))
    pipeline.migrate_db()
    warm = pipeline.prepare_classifier.submit()  # trains on a fresh install, while the crawls run
    if crawl:
        names = sources or crawling.enabled_sources()
        report.sources = crawl_all(names, max_requests=max_requests, retries=crawl_retries)
    warm.wait()
    classify_and_trend(report, dedupe_since=start, trends_since=start)
    if report.sources:
        fill_source_counts(report)
    report.finished_at = datetime.now(UTC)
    publish(report, "backfill")
    rows = month_rows(months)
    create_table_artifact(rows, key="backfill-months", description=f"backfill {start}..{end}: per month")
    get_run_logger().info("backfill %s..%s: %d months, %d labelled, %d trend rows changed",
                          start, end, len(months), report.labelled, report.trend_rows_changed)
    return BackfillReport(start=start, end=end, pipeline=report, months=rows)


@dataclass(slots=True)
class ReclassifyReport:
    """A new classifier version run over history and compared with the previous one."""

    model_version: str | None
    previous_version: str | None
    labelled: int
    compared: int
    agreement: dict[str, float]
    trend_rows_changed: int
    # version → (correct, n) on the analysts' audited roles (a version trained on them has seen these labels)
    audit_agreement: dict[str, tuple[int, int]] = field(default_factory=dict)


def label_agreement(old: str, new: str) -> tuple[int, dict[str, float]]:
    """Postings labelled by both versions, and the share on which they agree, per field."""
    L = schema.PostingLabel
    a, b = L.__table__.alias("a"), L.__table__.alias("b")
    fields = ("role_category", "experience_bucket", "ai_level")
    engine = get_engine()
    with engine.connect() as c:
        joined = a.join(b, a.c.posting_id == b.c.posting_id)
        n = c.execute(select(func.count()).select_from(joined)
                      .where(a.c.model_version == old, b.c.model_version == new)).scalar() or 0
        out = {}
        for f in fields:
            k = c.execute(select(func.count()).select_from(joined).where(
                a.c.model_version == old, b.c.model_version == new, a.c[f] == b.c[f])).scalar() or 0
            out[f] = k / n if n else 0.0
    return int(n), out


def current_trend_version() -> str | None:
    """The classifier version the trend tables were last computed from."""
    T = schema.TrendDemand
    with get_engine().connect() as c:
        return c.execute(select(T.model_version).order_by(T.computed_at.desc()).limit(1)).scalar()


@flow(name="reclassify", timeout_seconds=24 * 3600)
def reclassify(model_version: str | None = None) -> ReclassifyReport:
    """Label all history with classifier ``model_version`` (default: newest), recompute trends, compare.

    Labels are kept per version, so the previous version's labels stay for the comparison; running it
    again labels nothing new.
    """
    pipeline.migrate_db()
    previous = current_trend_version()
    from flows.partitioned import classify_step

    classified = classify_step(model_version=model_version)  # on Dask when LABOURWATCH_DASK_* ask for it
    new_version = getattr(classified, "model_version", None) or model_version
    trends = pipeline.update_trends(full=True, model_version=new_version)
    compared, agreement = (0, {})
    if previous and new_version and previous != new_version:
        compared, agreement = label_agreement(previous, new_version)
    from db.labels import audit_role_agreement

    audit = {v: audit_role_agreement(get_engine(), v) for v in (previous, new_version) if v}
    report = ReclassifyReport(model_version=new_version, previous_version=previous,
                              labelled=int(getattr(classified, "labelled", 0) or 0), compared=compared,
                              agreement=agreement,
                              trend_rows_changed=int(getattr(trends, "rows_changed", 0) or 0),
                              audit_agreement={v: a for v, a in audit.items() if a[1]})
    md = [f"# reclassify with {new_version} (previous {previous or '-'})", "",
          f"- postings labelled: **{report.labelled}**", f"- trend rows changed: **{report.trend_rows_changed}**"]
    if compared:
        md += [f"- compared on {compared} postings labelled by both versions:"]
        md += [f"  - {f}: {share:.1%} agree" for f, share in agreement.items()]
    for v, (ok, n) in report.audit_agreement.items():
        md += [f"- {v}: role agrees with {ok} of {n} audited postings ({ok / n:.1%})"]
    create_markdown_artifact("\n".join(md), key="reclassify-summary", description="reclassify: comparison")
    return report
