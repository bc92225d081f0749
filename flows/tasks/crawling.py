"""Crawl tasks: one Scrapy crawl per source in its own subprocess, retried with backoff, tagged per source."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

CRAWL_TAG = "crawl"


def source_tag(source: str) -> str:
    """The tag that carries a source's concurrency limit (``tag:crawl:<source>`` on the Prefect server)."""
    return f"{CRAWL_TAG}:{source}"


class CrawlFailed(RuntimeError):
    """A crawl ended with status ``failed``; raised so Prefect retries it and marks the task failed."""


@task(name="enabled-sources", cache_policy=NO_CACHE)
def enabled_sources() -> list[str]:
    """Names of the sources enabled in the sources config (scrapers/sources.yaml or LABOURWATCH_SOURCES_FILE)."""
    from scrapers.config import load_sources

    return [s.name for s in load_sources().values() if s.enabled]


@task(name="crawl-source", task_run_name="crawl-{source}", retries=3, retry_delay_seconds=[2, 5, 15],
      timeout_seconds=4 * 3600, cache_policy=NO_CACHE, tags=[CRAWL_TAG])
def crawl_source(source: str, max_requests: int | None = None, url: str | None = None) -> Any:
    """Crawl ``source`` (resuming an interrupted crawl); raise :class:`CrawlFailed` if the crawl failed."""
    from scrapers.runner import crawl

    report = crawl(source, url=url, max_requests=max_requests, resume=True)
    if report.status == "failed":
        raise CrawlFailed(f"crawl of source {source!r} failed (run {report.run_id}): {report.error}")
    return report


@task(name="ensure-concurrency-limits", cache_policy=NO_CACHE)
def ensure_concurrency_limits(sources: list[str], per_source: int = 1, total: int = 8) -> dict[str, int]:
    """Create the tag concurrency limits (one crawl per source at a time, ``total`` crawls overall).

    Prefect enforces a limit named ``tag:<tag>`` on every task run carrying that tag, across all flow runs
    and workers that share the server. Existing limits are left as an operator set them.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists

    wanted = {f"tag:{CRAWL_TAG}": total} | {f"tag:{source_tag(s)}": per_source for s in sources}
    with get_client(sync_client=True) as client:
        for name, limit in wanted.items():
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))
            except ObjectAlreadyExists:
                pass
    return wanted
