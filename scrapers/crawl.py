"""Crawl a source from Python or Prefect: ``crawl(job)`` runs it in its own ``python -m scrapers.crawl_process``.

Twisted's reactor cannot be restarted inside one process, so every crawl gets a subprocess. The caller
resolves the source once (``crawl_job``), opens the run's ``crawl_runs`` row, hands the process one typed
CrawlJob (JSON on its command line) and reads one CrawlResult back (JSON in a file the job names). The
caller migrates the database (once per command or flow); neither side here does.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass as plain_dataclass
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass

from db.repo import close_run, open_run, read_run
from db.session import get_engine
from labourwatch.contract import CrawlStats
from labourwatch.settings import child_env, get_settings
from scrapers.config import SourceConfig, load_auth, resolve_source
from scrapers.progress import CrawlProgress, read_progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class CrawlJob:
    """Everything one crawl process needs: the resolved source, its run row and this run's options."""

    source: SourceConfig
    run_id: int | None = None  # the crawl_runs row opened by the caller (None: the process opens one)
    max_requests: int | None = None  # request budget of this run (over the source's own)
    resume: bool = True  # False discards a paused crawl's queue
    extra_settings: dict[str, Any] = field(default_factory=dict)  # Scrapy/LW_* settings of this run
    result_path: str | None = None  # where the process writes its CrawlResult as JSON

    def to_json(self) -> str:
        return _JOB.dump_json(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> CrawlJob:
        return _JOB.validate_json(text)


_JOB: TypeAdapter[CrawlJob] = TypeAdapter(CrawlJob)


def crawl_job(source: str, *, url: str | None = None, spider: str | None = None, base_url: str | None = None,
              max_requests: int | None = None, resume: bool = True,
              extra_settings: dict[str, Any] | None = None) -> CrawlJob:
    """The job of crawling ``source``: a source of the sources config, or with ``url`` (and ``spider``, default
    ``jobposting``) an ad hoc one; ``base_url`` replaces scheme and host of every URL of the source (replaying
    recorded responses). An unknown source, or one that needs the user's auth file and has none, raises
    SourceConfigError here, before any process starts."""
    src = resolve_source(source, url, spider, base_url=base_url)
    load_auth(src)
    return CrawlJob(source=src, max_requests=max_requests, resume=resume, extra_settings=dict(extra_settings or {}))


@plain_dataclass(frozen=True)
class CrawlResult:
    """How one crawl ended: its status and counters, as its ``crawl_runs`` row records them."""

    source: str
    run_id: int
    status: str  # succeeded | partial | failed
    stats: CrawlStats = field(default_factory=CrawlStats)
    error: str | None = None
    log_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "partial")

    def summary(self) -> str:
        s = self.stats
        parts = [f"{self.source}: {self.status} (run {self.run_id})"]
        if s != CrawlStats():
            parts.append(
                f"{s.items_scraped} postings scraped, {s.inserted} new, {s.updated} updated, {s.unchanged} "
                f"unchanged, {s.skipped_unchanged} skipped as unchanged; {s.requests} requests, {s.retries} "
                f"retries, {s.dropped_total} dropped {s.dropped or ''}; {s.pages_per_s} pages/s, peak "
                f"{s.peak_rss_mb} MB"
            )
        if self.error:
            parts.append(f"error: {self.error}")
        return "\n  ".join(parts)

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "run_id": self.run_id, "status": self.status,
                           "stats": self.stats.to_dict(), "error": self.error, "log_path": self.log_path},
                          ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> CrawlResult:
        d = json.loads(text)
        return cls(source=d["source"], run_id=int(d["run_id"]), status=d["status"],
                   stats=CrawlStats.from_dict(d.get("stats")), error=d.get("error"), log_path=d.get("log_path"))


class CrawlFailed(RuntimeError):
    """A crawl ended with status failed and the caller asked for an exception (``raise_on_failure``)."""

    def __init__(self, report: CrawlResult) -> None:
        super().__init__(f"crawl of {report.source} (run {report.run_id}) failed: {report.error}")
        self.report = report


def crawl_dir(source: str) -> Path:
    """``<home>/crawls/<source>``: the source's lock file, JOBDIR, crawl logs and results."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
    return get_settings().home / "crawls" / safe


def command(job: CrawlJob) -> list[str]:
    """The command line of one crawl subprocess."""
    return [sys.executable, "-m", "scrapers.crawl_process", "--job", job.to_json()]


def crawl(job: CrawlJob, *, raise_on_failure: bool = False, timeout: float | None = None,
          progress: Callable[[CrawlProgress], None] | None = None, poll_s: float = 0.5) -> CrawlResult:
    """Run ``job`` in a subprocess and return how it went.

    Opens the run's ``crawl_runs`` row, then the subprocess crawls, stores into the configured (already
    migrated) database and closes the row. A source that fails returns status ``failed`` unless
    ``raise_on_failure`` (CrawlFailed). The process is killed after ``timeout`` seconds. Its log goes to
    ``<home>/crawls/<source>/run-<id>.log``.

    With ``progress``, the process writes its counters every ``LW_PROGRESS_INTERVAL`` seconds to
    ``run-<id>.progress.json`` beside the log; they are read every ``poll_s`` seconds and each new snapshot is
    passed to ``progress`` (in this thread), the last one (``finished``) with the run's final counters.
    """
    src = job.source
    get_settings().ensure_dirs()
    engine = get_engine()
    run_id = open_run(engine, src.name, kind="crawl", spider=src.spider, lang=src.lang,
                      url=next(iter(src.sitemap_urls or src.start_urls), None))
    log_dir = crawl_dir(src.name)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{run_id}.log"
    result_path = log_dir / f"run-{run_id}.result.json"
    result_path.unlink(missing_ok=True)
    progress_path = log_dir / f"run-{run_id}.progress.json"
    job = replace(job, run_id=run_id, result_path=str(result_path))
    if progress is not None:
        progress_path.unlink(missing_ok=True)
        job = replace(job, extra_settings={**job.extra_settings, "LW_PROGRESS_FILE": str(progress_path)})
    with open(log_path, "wb") as log:
        rc = _run_process(command(job), log, timeout, progress_path, progress, poll_s)
    if result_path.exists():
        result = replace(CrawlResult.from_json(result_path.read_text(encoding="utf-8")), log_path=str(log_path))
        result_path.unlink(missing_ok=True)
    else:
        result = _without_result(run_id, src.name, rc, log_path)
    if progress is not None:
        last = read_progress(progress_path)
        progress_path.unlink(missing_ok=True)
        if last is None or not last.finished:  # killed or crashed before its spider closed: the row's counters
            s = result.stats
            last = CrawlProgress(source=src.name, pages=s.response_count, requests=s.requests,
                                 scraped=s.items_scraped, stored=s.items_stored, skipped=s.skipped_unchanged,
                                 dropped=s.dropped_total, elapsed_s=s.elapsed_s or 0.0, finished=True)
        progress(last)
    if raise_on_failure and result.status == "failed":
        raise CrawlFailed(result)
    return result


def _run_process(cmd: list[str], log: Any, timeout: float | None, progress_path: Path,
                 progress: Callable[[CrawlProgress], None] | None, poll_s: float) -> int | str:
    """Run ``cmd`` like ``subprocess.run`` (output to ``log``, killed after ``timeout``), passing every new
    unfinished snapshot of ``progress_path`` to ``progress`` meanwhile (none read without ``progress``);
    returns the exit code or the timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen: CrawlProgress | None = None
    step = poll_s if progress is not None else None  # without a display: one wait until the end or the timeout
    with subprocess.Popen(cmd, env=child_env(), stdout=log, stderr=subprocess.STDOUT) as proc:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = min((w for w in (step, left) if w is not None), default=None)
            try:
                return proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    proc.kill()
                    proc.wait()
                    return f"timeout after {timeout}s"
            if progress is None:
                continue
            snap = read_progress(progress_path)
            if snap is not None and snap != seen and not snap.finished:  # the finished one comes after the result
                seen = snap
                try:
                    progress(snap)
                except Exception:  # a broken display must not kill the crawl it shows
                    logger.warning("crawl progress display failed; the crawl goes on", exc_info=True)


def _without_result(run_id: int, source: str, rc: int | str, log_path: Path) -> CrawlResult:
    """The result of a crawl process that wrote none (killed, timed out, crashed): its row, closed as failed
    if it is still running."""
    engine = get_engine()
    run = read_run(engine, run_id)
    if run is None:
        raise LookupError(f"crawl run {run_id} does not exist in {engine.url.render_as_string()}")
    if run.status != "running":
        return CrawlResult(run.source, run_id, run.status, CrawlStats.from_dict(run.stats), run.error,
                           str(log_path))
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
    error = f"crawl process exited ({rc}) without recording a result; log {log_path}:\n{tail}"
    close_run(engine, run_id, "failed", run.stats, error)
    return CrawlResult(source, run_id, "failed", CrawlStats.from_dict(run.stats), error, str(log_path))
