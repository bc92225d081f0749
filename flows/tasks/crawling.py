"""Crawl tasks: one Scrapy crawl per source in its own subprocess, retried with backoff, tagged per source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

if TYPE_CHECKING:
    from scrapers.crawl import CrawlResult

CRAWL_TAG = "crawl"


def source_tag(source: str) -> str:
    """The tag that carries a source's concurrency limit (``tag:crawl:<source>`` on the Prefect server)."""
    return f"{CRAWL_TAG}:{source}"


@task(name="enabled-sources", cache_policy=NO_CACHE)
def enabled_sources() -> list[str]:
    """Names of the sources enabled in the sources config (scrapers/sources.yaml or LABOURWATCH_SOURCES_FILE)."""
    from scrapers.config import load_sources

    return [s.name for s in load_sources().values() if s.enabled]


CRAWL_TIMEOUT_S = 3 * 3600


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed crawl unless it failed on content (drop rate over the limit): that fails again."""
    try:
        state.result()
    except Exception as exc:
        report = crawl_failure_report(exc)
        return not (report is not None and report.stats.drop_rate_exceeded)
    return False


def crawl_failure_report(exc: BaseException) -> CrawlResult | None:
    """The crawl report a ``CrawlFailed`` carries (the failed run's id and stats); None for other errors."""
    from scrapers.crawl import CrawlFailed

    return exc.report if isinstance(exc, CrawlFailed) else None


# No Prefect timeout here: submitted tasks run in worker threads, which Prefect cannot interrupt; the crawl
# subprocess is killed after CRAWL_TIMEOUT_S instead.
@task(name="crawl-source", task_run_name="crawl-{source}", retries=3, retry_delay_seconds=[2, 5, 15],
      retry_condition_fn=_transient, cache_policy=NO_CACHE, tags=[CRAWL_TAG])
def crawl_source(source: str, max_requests: int | None = None, url: str | None = None) -> CrawlResult:
    """Crawl ``source`` (a retry resumes the interrupted crawl) into the database the flow migrated; raise
    ``CrawlFailed`` if it failed.

    The subprocess is killed after ``CRAWL_TIMEOUT_S`` (the timeout; a thread cannot be interrupted).
    """
    from prefect.runtime import flow_run

    from db.runs import link_crawl_run
    from db.session import get_engine
    from flows.progress import crawl_listener
    from scrapers.crawl import crawl, crawl_job

    try:
        report = crawl(crawl_job(source, url=url, max_requests=max_requests, resume=True), raise_on_failure=True,
                       timeout=CRAWL_TIMEOUT_S, progress=crawl_listener())
    except Exception as exc:
        failed = crawl_failure_report(exc)
        if failed is not None:
            link_crawl_run(get_engine(), failed.run_id, flow_run.id)
        raise
    link_crawl_run(get_engine(), report.run_id, flow_run.id)
    return report


@task(name="ensure-concurrency-limits", cache_policy=NO_CACHE)
def ensure_concurrency_limits(sources: list[str], per_source: int = 1, total: int = 8) -> dict[str, int]:
    """Create the tag concurrency limits (one crawl per source at a time, ``total`` crawls overall).

    Prefect enforces a limit named ``tag:<tag>`` on every task run carrying that tag, across all flow runs
    and workers that share the server. Existing limits are left as an operator set them.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    wanted = {f"tag:{CRAWL_TAG}": total} | {f"tag:{source_tag(s)}": per_source for s in sources}
    with get_client(sync_client=True) as client:
        for name, limit in wanted.items():
            try:
                client.read_global_concurrency_limit_by_name(name)
                continue
            except ObjectNotFound:
                pass
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))
            except ObjectAlreadyExists:  # another flow run created it meanwhile
                pass
    return wanted
