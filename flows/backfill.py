"""Backfill a range of months (crawl history, classify, dedupe, trends) and reclassify history with a new model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from db.labels import audit_role_agreement
from db.progress import current_trend_version, label_agreement, month_counts
from db.session import get_engine
from flows.nightly import PipelineReport, classify_and_trend, crawl_all, fill_source_counts, publish
from flows.tasks import crawling, pipeline
from flows.tasks.runstate import month_range


def month_rows(months: list[str]) -> list[dict[str, Any]]:
    """Per month: postings, canonical postings, labelled postings, trend rows (what a backfill produced), as the
    rows of the backfill's table artifact (keys month, postings, canonical, labelled, trend_rows)."""
    return [asdict(m) for m in month_counts(get_engine(), months)]


@dataclass(slots=True)
class BackfillReport:
    """A backfill's pipeline report plus what each month of the range now holds."""

    start: str
    end: str
    pipeline: PipelineReport
    months: list[dict[str, Any]] = field(default_factory=list)  # month_rows(): the table artifact's rows


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
        report.sources = crawl_all(names, max_requests=max_requests, retries=crawl_retries, flow="backfill")
    warm.wait()
    classify_and_trend(report, dedupe_since=start, trends_since=start, months=months)
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
    agreement: dict[str, float]  # field -> share of the compared postings on which the versions agree
    trend_rows_changed: int
    # version → (correct, n) on the analysts' audited roles (a version trained on them has seen these labels)
    audit_agreement: dict[str, tuple[int, int]] = field(default_factory=dict)


@flow(name="reclassify", timeout_seconds=24 * 3600)
def reclassify(model_version: str | None = None) -> ReclassifyReport:
    """Label all history with classifier ``model_version`` (default: newest), recompute trends, compare.

    Labels are kept per version, so the previous version's labels stay for the comparison; running it
    again labels nothing new.
    """
    pipeline.migrate_db()
    engine = get_engine()
    previous = current_trend_version(engine)
    from flows.partitioned import classify_step

    classified = classify_step(model_version=model_version)  # on Dask when LABOURWATCH_DASK_* ask for it
    new_version = classified.model_version or model_version
    trends = pipeline.update_trends(full=True, model_version=new_version)
    both = (label_agreement(engine, previous, new_version)
            if previous and new_version and previous != new_version else None)
    compared, agreement = (both.compared, both.agreement) if both else (0, {})
    audit = {v: audit_role_agreement(engine, v) for v in (previous, new_version) if v}
    report = ReclassifyReport(model_version=new_version, previous_version=previous,
                              labelled=classified.labelled, compared=compared, agreement=agreement,
                              trend_rows_changed=trends.rows_changed,
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
