"""One crawl in this process: ``python -m scrapers.crawl_process --job JSON`` (started by ``scrapers.crawl``).

It reads one CrawlJob, crawls its source to the end (or until stopped), closes the run's ``crawl_runs`` row
and writes one CrawlResult to the file the job names. It neither resolves the source nor migrates: the
caller did both.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from db.repo import close_run, close_stale_runs, open_run
from db.session import get_engine
from labourwatch.contract import CrawlStats
from labourwatch.settings import get_settings
from scrapers.config import SourceConfig
from scrapers.crawl import CrawlJob, CrawlResult, busy, crawl_dir, drop_other_layouts

logger = logging.getLogger("scrapers.crawl_process")

EXIT_OK, EXIT_FAILED = 0, 1


def scrapy_settings(source: SourceConfig, *, run_id: int, jobdir: Path | None, max_requests: int | None,
                    extra: dict[str, Any] | None) -> Any:
    """Scrapy settings for one run: project defaults < source config < this run's arguments."""
    from scrapy.settings import Settings

    lw = get_settings()
    s = Settings()
    s.setmodule("scrapers.settings", priority="project")
    s.set("USER_AGENT", lw.user_agent, priority="project")
    s.set("LW_RUN_ID", run_id, priority="cmdline")
    s.set("LW_DB_URL", lw.database_url, priority="cmdline")
    if jobdir is not None:
        s.set("JOBDIR", str(jobdir), priority="cmdline")
    if source.download_delay is not None:
        s.set("DOWNLOAD_DELAY", source.download_delay, priority="spider")
        if source.download_delay == 0:
            s.set("AUTOTHROTTLE_START_DELAY", 0.0, priority="spider")
    if source.concurrency is not None:
        s.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.concurrency, priority="spider")
    if source.max_requests is not None:
        s.set("LW_MAX_REQUESTS", source.max_requests, priority="spider")
    s.set("ROBOTSTXT_OBEY", source.robots_txt, priority="spider")
    s.set("AUTOTHROTTLE_ENABLED", source.autothrottle, priority="spider")
    if source.render:
        for key, value in browser_settings().items():
            s.set(key, value, priority="spider")
    for key, value in source.settings.items():
        s.set(key, value, priority="spider")
    if max_requests is not None:
        s.set("LW_MAX_REQUESTS", max_requests, priority="cmdline")
    for key, value in (extra or {}).items():
        s.set(key, value, priority="cmdline")
    return s


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The chromium executable (settings.chromium, a path or a name on PATH); a clear error when absent."""
    name = get_settings().chromium
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"chromium {name!r} not found: install Debian's chromium (`make system-deps` or "
                                "`apt-get install chromium`) or set LABOURWATCH_CHROMIUM to its path")
    return found


def browser_settings() -> dict[str, Any]:
    """Scrapy settings that fetch requests marked ``playwright`` through headless chromium."""
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": chromium_path(), "headless": True,
                                      "args": CHROMIUM_ARGS},
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _group(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def summarise(stats: dict[str, Any], elapsed: float) -> CrawlStats:
    """The crawl_runs.stats of a run: counters named for people, from Scrapy's and the pipelines' stats."""
    n_responses = stats.get("downloader/response_count", 0)
    return CrawlStats(
        finish_reason=stats.get("finish_reason"),
        elapsed_s=round(elapsed, 2),
        requests=stats.get("downloader/request_count", 0),
        responses=_group(stats, "downloader/response_status_count/"),
        response_count=n_responses,
        bytes=stats.get("downloader/response_bytes", 0),
        pages_per_s=round(n_responses / elapsed, 1) if elapsed > 0 else None,
        retries=stats.get("retry/count", 0),
        retry_reasons=_group(stats, "retry/reason_count/"),
        retry_gave_up=stats.get("retry/max_reached", 0),
        retry_wait_s=round(stats.get("lw/retry/wait_s", 0), 2),
        parse_retries=_group(stats, "lw/parse_retry/"),
        encoding_fixed=_group(stats, "lw/encoding/"),
        robots_forbidden=stats.get("robotstxt/forbidden", 0),
        budget_ignored=stats.get("lw/budget/ignored", 0),
        known_at_start=stats.get("lw/known_at_start", 0),
        items_scraped=stats.get("lw/items/valid", 0),
        items_stored=stats.get("lw/store/stored", 0),
        inserted=stats.get("lw/store/inserted", 0),
        updated=stats.get("lw/store/updated", 0),
        unchanged=stats.get("lw/store/unchanged", 0),
        skipped_unchanged=stats.get("lw/items/seen_unchanged", 0),
        touched=stats.get("lw/store/touched", 0),
        duplicates_in_run=stats.get("lw/duplicates_in_run", 0),
        dropped=_group(stats, "lw/dropped/"),
        rejected_urls=list(stats.get("lw/rejected_urls") or []),
        validation_failures=_group(stats, "lw/validate/"),
        drop_rate=stats.get("lw/drop_rate", 0.0),
        drop_rate_exceeded=bool(stats.get("lw/drop_rate_exceeded")),
        lost=_group(stats, "lw/lost/"),
        gone=_group(stats, "lw/gone/"),
        store_error=stats.get("lw/store/error"),
        refused=stats.get("lw/refused"),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # CPU of the crawl process: on a shared machine CPU ms a page is steadier than pages/s
        cpu_s=round(_cpu_seconds(), 2),
        cpu_ms_per_page=round(1000 * _cpu_seconds() / n_responses, 3) if n_responses else None,
        pid=os.getpid(),
    )


def judge(stats: CrawlStats, max_drop_rate: float) -> tuple[str, str | None]:
    """(status, error) of a finished run: failed, partial (stopped early or pages lost) or succeeded."""
    reason = stats.finish_reason
    if stats.refused:
        return "failed", stats.refused
    if stats.store_error:
        return "failed", f"storing postings failed: {stats.store_error}"
    if stats.drop_rate_exceeded:
        top = ", ".join(f"{k}={v}" for k, v in sorted(stats.dropped.items(), key=lambda kv: -kv[1])[:3])
        return "failed", (f"drop rate {stats.drop_rate:.1%} is over LW_MAX_DROP_RATE={max_drop_rate:.0%} "
                          f"({top})")
    got = stats.items_scraped + stats.skipped_unchanged
    lost = stats.lost
    if got == 0 and (lost or stats.response_count == 0):
        what = ", ".join(f"{k}={v}" for k, v in lost.items()) or "no response"
        return "failed", f"no postings collected ({what}); see the crawl log"
    if reason == "shutdown":
        return "partial", "stopped before the end; `labourwatch crawl` on this source resumes it"
    if reason == "request_budget":
        return "partial", f"request budget spent after {stats.requests} requests"
    if reason != "finished":
        return "partial", f"spider closed early: {reason}"
    if lost:
        return "partial", "pages lost after all retries: " + ", ".join(f"{k}={v}" for k, v in lost.items())
    return "succeeded", None


def _close(run_id: int, source: str, status: str, stats: CrawlStats, error: str | None) -> CrawlResult:
    """Record the end of run ``run_id`` in its crawl_runs row; the CrawlResult that says the same."""
    close_run(get_engine(), run_id, status, json.loads(json.dumps(stats.to_dict(), default=str)), error)
    return CrawlResult(source=source, run_id=run_id, status=status, stats=stats, error=error)


def run_crawl(job: CrawlJob) -> CrawlResult:
    """Crawl ``job.source`` to the end in this process and record the run (opened here if the job has none)."""
    from scrapy.crawler import AsyncCrawlerProcess

    from db.runs import Heartbeat, mark_interrupted
    from scrapers.spiders import spider_class

    source = job.source
    get_settings().ensure_dirs()
    engine = get_engine()
    mark_interrupted(engine)
    run_id = job.run_id
    if run_id is None:
        run_id = open_run(engine, source.name, kind="crawl", spider=source.spider, lang=source.lang)
    sharded = job.shards > 1
    cdir = crawl_dir(source.name)
    # One shard of several (scrapers.sharding): its own lock, queue and pause marker; the parent holds the
    # source's lock, closes stale runs and closes the run with every shard's counters.
    wdir = cdir / f"shard-{job.shard}-of-{job.shards}" if sharded else cdir
    wdir.mkdir(parents=True, exist_ok=True)
    lock = open(wdir / "lock", "w")  # noqa: SIM115 - held for the whole crawl
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        held = busy(source.name, wdir / "lock")
        if sharded:
            return CrawlResult(source=source.name, run_id=run_id, status="failed", error=held)
        return _close(run_id, source.name, "failed", CrawlStats(), held)
    if not sharded:
        # Runs of this source still 'running' while we hold its lock belong to killed processes.
        close_stale_runs(engine, source.name, run_id,
                         f"crawl process ended without recording a result (killed?); resumed by run {run_id}")
        drop_other_layouts(cdir, 1)
    jobdir = wdir / "jobdir"
    paused = wdir / "paused"
    if jobdir.exists() and (not job.resume or not paused.exists()):
        # A JOBDIR without the 'paused' marker is from a killed process: its disk queue may be torn.
        # Progress is not lost: stored postings are skipped (incremental) and the rest fetched again.
        if job.resume:
            logger.warning("previous crawl of %s did not stop cleanly; restarting its queue (stored postings "
                           "are kept and not fetched again)", source.name)
        shutil.rmtree(jobdir)
    paused.unlink(missing_ok=True)
    extra = {**job.extra_settings, **({"LW_SHARD": job.shard, "LW_SHARDS": job.shards} if sharded else {})}
    settings = scrapy_settings(source, run_id=run_id, jobdir=jobdir, max_requests=job.max_requests, extra=extra)
    t0 = time.monotonic()
    error: str | None = None
    scrapy_stats: dict[str, Any] = {}
    try:
        process = AsyncCrawlerProcess(settings)
        # Scrapy leaves its loggers at NOTSET and filters in its root handler, so every response and item
        # built a DEBUG record only to drop it; filter at the "scrapy" logger instead (Scrapy resets the
        # root logger's level when the crawl starts, not this one).
        logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL") or "DEBUG")
        crawler = process.create_crawler(spider_class(source.spider))
        process.crawl(crawler, source=source)
        with Heartbeat(engine, run_id):
            process.start()
        scrapy_stats = dict(crawler.stats.get_stats() or {}) if crawler.stats is not None else {}
    except Exception as exc:
        logger.exception("crawl of %s crashed", source.name)
        error = f"{type(exc).__name__}: {exc}"
    stats = summarise(scrapy_stats, time.monotonic() - t0)
    if error:
        status = "failed"
    else:
        status, error = judge(stats, settings.getfloat("LW_MAX_DROP_RATE"))
    if stats.finish_reason == "shutdown":
        paused.write_text(str(run_id))
    elif stats.finish_reason == "finished" and jobdir.exists():
        shutil.rmtree(jobdir, ignore_errors=True)
    if sharded:
        result = CrawlResult(source=source.name, run_id=run_id, status=status, stats=stats, error=error)
    else:
        result = _close(run_id, source.name, status, stats, error)
    logger.info("crawl of %s: %s %s", source.name, status,
                json.dumps(stats.to_dict(), default=str, ensure_ascii=False))
    with contextlib.suppress(OSError):
        fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    return result


def stop_with_parent() -> None:
    """Ask Linux for a SIGTERM — Scrapy's clean stop: the queue is kept, the next crawl resumes it — when the
    process that started this one dies. ``scrapers.crawl`` starts crawl processes in a session of their own (so
    that Ctrl-C reaches them once, through it), where a signal to the parent's process group no longer reaches
    them; a killed parent must not leave them crawling on their own."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scrapers.crawl_process", description=__doc__)
    ap.add_argument("--job", required=True, help="the CrawlJob as JSON (scrapers.crawl.CrawlJob.to_json)")
    args = ap.parse_args(argv)
    stop_with_parent()
    job = CrawlJob.from_json(args.job)
    result = run_crawl(job)
    if job.result_path:
        Path(job.result_path).write_text(result.to_json(), encoding="utf-8")
    return EXIT_OK if result.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
