"""The nightly flow: crawl every enabled source in parallel → classify new postings → dedupe → trends → summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from db.progress import months_to_recompute, source_counts
from db.session import get_engine
from flows.progress import stage
from flows.tasks import crawling, pipeline

if TYPE_CHECKING:
    from collections.abc import Callable

    from prefect.futures import PrefectFuture

    from scrapers.crawl import CrawlResult


@dataclass(slots=True)
class SourceResult:
    """How one source's crawl ended and what it added."""

    source: str
    status: str  # succeeded | partial | failed
    run_id: int | None = None
    postings: int = 0  # in the database after the run
    new: int = 0  # first seen in this run
    duplicates: int = 0  # of the new ones, linked to a canonical posting elsewhere
    rejects: int = 0  # items dropped by validation
    requests: int = 0
    error: str | None = None


@dataclass(slots=True)
class PipelineReport:
    """What one nightly or backfill run did; also rendered as the run's Prefect artifacts."""

    flow: str
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceResult] = field(default_factory=list)
    labelled: int = 0
    model_version: str | None = None
    classify_seconds: float = 0.0
    duplicates_linked: int = 0
    trends_since: str | None = None
    trend_rows_changed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    def table(self) -> list[dict[str, Any]]:
        """One row per source (the table artifact)."""
        return [{"source": s.source, "status": s.status, "postings": s.postings, "new": s.new,
                 "duplicates": s.duplicates, "rejects": s.rejects, "requests": s.requests,
                 "error": (s.error or "")[:300]} for s in self.sources]

    def markdown(self) -> str:
        """The run summary (the markdown artifact and what the CLI prints)."""
        took = (self.finished_at - self.started_at).total_seconds() if self.finished_at else 0.0
        lines = [
            f"# {self.flow} run {self.started_at:%Y-%m-%d %H:%M} UTC ({took:.0f} s)",
            "",
            "| source | status | postings | new | duplicates | rejects | requests |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        lines += [f"| {s.source} | {s.status} | {s.postings} | {s.new} | {s.duplicates} | {s.rejects} | "
                  f"{s.requests} |" for s in self.sources]
        lines += [
            "",
            f"- new postings: **{self.new}**",
            f"- labelled: **{self.labelled}** (classifier {self.model_version or '-'}, "
            f"{self.classify_seconds:.1f} s)",
            f"- duplicates linked: **{self.duplicates_linked}**",
            f"- trend rows changed: **{self.trend_rows_changed}**"
            + (f" (recomputed from {self.trends_since})" if self.trends_since else " (trends were up to date)"),
            f"- failures: **{len(self.failures)}**",
        ]
        lines += [f"  - `{s.source}`: {s.error}" for s in self.failures]
        lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines)


def crawl_all(sources: list[str], *, max_requests: int | None = None, retries: int = 3,
              flow: str = "nightly") -> list[SourceResult]:
    """Crawl ``sources`` in parallel as tagged tasks; a failing source is recorded, never raised. Reported as
    the ``crawl`` stage of ``flow`` (sources done of all), each source's crawl with its live counters."""
    with stage(flow, "crawl", total=len(sources), unit="sources") as st:
        return _crawl_all(sources, max_requests=max_requests, retries=retries, advance=st.update)


def _crawl_all(sources: list[str], *, max_requests: int | None, retries: int,
               advance: Callable[[int], None]) -> list[SourceResult]:
    logger = get_run_logger()
    crawling.ensure_concurrency_limits(sources)
    futures: dict[str, PrefectFuture[CrawlResult]] = {}
    for source in sources:
        task = crawling.crawl_source.with_options(
            tags=[crawling.CRAWL_TAG, crawling.source_tag(source)], retries=retries)
        futures[source] = task.submit(source, max_requests=max_requests)
    results = []
    for source, future in futures.items():
        future.wait()
        state = future.state
        if state.is_completed():
            report = future.result()
            stats = report.stats
            results.append(SourceResult(
                source=source, status=report.status, run_id=report.run_id,
                rejects=stats.dropped_total, requests=stats.requests, error=report.error))
        else:
            failed = SourceResult(source=source, status="failed", error=state.message or state.name)
            try:
                future.result(raise_on_failure=True)
            except Exception as exc:  # the task's final exception, after its retries
                failed.error = f"{type(exc).__name__}: {exc}"
                crawl_report = crawling.crawl_failure_report(exc)  # CrawlFailed carries the run's stats
                if crawl_report is not None:
                    stats = crawl_report.stats
                    failed.run_id = crawl_report.run_id
                    failed.rejects = stats.dropped_total
                    failed.requests = stats.requests
            logger.error("source %s failed: %s", source, failed.error)
            results.append(failed)
        advance(len(results))
    return results


def classify_and_trend(report: PipelineReport, *, dedupe_since: str | None = None,
                       trends_since: str | None = None, full: bool = False,
                       months: list[str] | None = None) -> None:
    """Classify pending postings, link duplicates, recompute the trend months that changed (in place).

    Reported as the stages classify (postings labelled), dedupe (duplicates linked) and trends (months
    recomputed; with ``months``, those of ``months`` out of all of them) of ``report.flow``."""
    from flows.partitioned import PartitionedReport, classify_step

    with stage(report.flow, "classify", unit="postings") as st:
        classified = classify_step()  # the single-process task, or partitions on Dask (LABOURWATCH_DASK_*)
        st.update(classified.labelled)
    if isinstance(classified, PartitionedReport):
        parts = classified.partitions
        report.notes.append(f"classified on Dask: {len(parts)} partitions on "
                            f"{len({p.worker for p in parts})} worker processes")
    report.labelled = classified.labelled
    report.model_version = classified.model_version
    report.classify_seconds = classified.seconds

    # Duplicates are looked for among postings whose labels are newer than the trend tables (this run's).
    dedupe_from = dedupe_since or months_to_recompute(get_engine())
    if dedupe_from is not None or full:
        with stage(report.flow, "dedupe", unit="duplicates") as st:
            deduped = pipeline.link_duplicates(since_month=dedupe_from)
            st.update(deduped.linked)
        report.duplicates_linked = deduped.linked
    # update_trends finds the periods whose labelled postings changed by itself (fingerprints per period),
    # so calling it every night is cheap and a run killed before this step is caught up by the next one.
    # The newest labels are this run's classifier's; None also copes with a database with no labels yet.
    with stage(report.flow, "trends", total=len(months) if months else None, unit="months") as st:
        trends = pipeline.update_trends(since=trends_since, full=full)
        st.update(len(set(trends.months) & set(months)) if months else len(trends.months))
    report.trends_since = trends.months[0] if trends.months else None
    report.trend_rows_changed = trends.rows_changed


def publish(report: PipelineReport, key: str) -> None:
    """Write the run summary as a Prefect table artifact and a markdown artifact under ``key``."""
    if report.sources:
        create_table_artifact(report.table(), key=f"{key}-sources", description=f"{report.flow}: per source")
    create_markdown_artifact(report.markdown(), key=f"{key}-summary", description=f"{report.flow}: run summary")


def fill_source_counts(report: PipelineReport) -> None:
    """Per-source totals, new postings and duplicates among them, read from the database."""
    counts = source_counts(get_engine(), report.started_at, [s.source for s in report.sources])
    for s in report.sources:
        c = counts[s.source]
        s.postings, s.new, s.duplicates = c.postings, c.new, c.duplicates


@flow(name="nightly", timeout_seconds=8 * 3600)
def nightly(sources: list[str] | None = None, max_requests: int | None = None,
            crawl_retries: int = 3) -> PipelineReport:
    """Crawl every enabled source (or ``sources``), classify what is new, link duplicates, update trends.

    One failing source does not stop the others; it is reported in the summary. Running it twice in a
    row changes nothing the second time: crawls are incremental, classification only labels unlabelled
    postings, dedupe only links unlinked ones, and trends rewrite only periods whose postings changed.
    """
    report = PipelineReport(flow="nightly", started_at=datetime.now(UTC))
    pipeline.migrate_db()
    names = sources or crawling.enabled_sources()
    # A fresh install builds the embedding model and trains the classifier: do that while the crawls run.
    warm = pipeline.prepare_classifier.submit()
    report.sources = crawl_all(names, max_requests=max_requests, retries=crawl_retries)
    warm.wait()
    classify_and_trend(report)
    fill_source_counts(report)
    report.finished_at = datetime.now(UTC)
    publish(report, "nightly")
    get_run_logger().info("nightly: %d new postings, %d labelled, %d trend rows changed, %d failed sources",
                          report.new, report.labelled, report.trend_rows_changed, len(report.failures))
    return report
