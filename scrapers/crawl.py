"""Crawl a source from Python or Prefect: ``crawl(job)`` runs it in its own ``python -m scrapers.crawl_process``.

Twisted's reactor cannot be restarted inside one process, so every crawl gets a subprocess. The caller
resolves the source once (``crawl_job``), opens the run's ``crawl_runs`` row, hands the process one typed
CrawlJob (JSON on its command line) and reads one CrawlResult back (JSON in a file the job names). The
caller migrates the database (once per command or flow); neither side here does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
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

from db.repo import close_run, close_stale_runs, open_run, read_run
from db.session import get_engine
from labourwatch.contract import CrawlStats
from labourwatch.settings import child_env, get_settings
from scrapers.config import SourceConfig, load_auth, resolve_source
from scrapers.progress import CrawlProgress, read_progress
from scrapers.sharding import check_shard, merge_stats

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
    shards: int = 1  # processes that crawl this source together (scrapers.sharding)
    shard: int = 0  # which of them this process is (set by ``crawl`` for each process it starts)

    def __post_init__(self) -> None:
        check_shard(self.shard, self.shards)

    def to_json(self) -> str:
        return _JOB.dump_json(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> CrawlJob:
        return _JOB.validate_json(text)


_JOB: TypeAdapter[CrawlJob] = TypeAdapter(CrawlJob)


def crawl_job(source: str, *, url: str | None = None, spider: str | None = None, base_url: str | None = None,
              max_requests: int | None = None, resume: bool = True,
              extra_settings: dict[str, Any] | None = None, shards: int | None = None) -> CrawlJob:
    """The job of crawling ``source``: a source of the sources config, or with ``url`` (and ``spider``, default
    ``jobposting``) an ad hoc one; ``base_url`` replaces scheme and host of every URL of the source (replaying
    recorded responses); ``shards`` processes crawl it together (default LABOURWATCH_CRAWL_SHARDS). An unknown
    source, or one that needs the user's auth file and has none, raises SourceConfigError here, before any
    process starts; a shard count out of range raises ValueError."""
    src = resolve_source(source, url, spider, base_url=base_url)
    load_auth(src)
    return CrawlJob(source=src, max_requests=max_requests, resume=resume, extra_settings=dict(extra_settings or {}),
                    shards=get_settings().crawl_shards if shards is None else shards)


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
    """Run ``job`` in a subprocess (``job.shards`` subprocesses) and return how it went.

    Opens the run's ``crawl_runs`` row, then the subprocess crawls, stores into the configured (already
    migrated) database and closes the row. A source that fails returns status ``failed`` unless
    ``raise_on_failure`` (CrawlFailed). The process is killed after ``timeout`` seconds. Its log goes to
    ``<home>/crawls/<source>/run-<id>.log``.

    With several shards (scrapers.sharding) this function holds the source's lock for all of them, each
    process crawls its own part and logs to ``run-<id>.shard-<k>.log``, and their counters are merged into the
    run's row here; the run is as bad as its worst shard (failed > partial > succeeded).

    With ``progress``, the processes write their counters every ``LW_PROGRESS_INTERVAL`` seconds to
    ``run-<id>[.shard-<k>].progress.json`` beside the log; they are read every ``poll_s`` seconds and each new
    snapshot (summed over the shards) is passed to ``progress`` (in this thread), the last one (``finished``)
    with the run's final counters.
    """
    src = job.source
    get_settings().ensure_dirs()
    engine = get_engine()
    run_id = open_run(engine, src.name, kind="crawl", spider=src.spider, lang=src.lang,
                      url=next(iter(src.sitemap_urls or src.start_urls), None))
    log_dir = crawl_dir(src.name)
    log_dir.mkdir(parents=True, exist_ok=True)
    job = replace(job, run_id=run_id)
    if job.shards == 1:
        proc = _Process.of(job, log_dir / f"run-{run_id}", progress)
        (one,), (rc,), interrupted = _crawl_processes([proc], timeout, progress, poll_s)
        # no result: the process was killed, timed out or crashed; the row says how far it got
        result = one if one is not None else _without_result(run_id, src.name, rc, proc.log_path)
    else:
        result, interrupted = _crawl_sharded(job, log_dir, timeout, progress, poll_s)
    if interrupted:  # recorded (paused: the next crawl resumes); the caller stops too
        raise KeyboardInterrupt(f"crawl of {src.name} interrupted: {result.summary()}")
    if raise_on_failure and result.status == "failed":
        raise CrawlFailed(result)
    return result


@plain_dataclass(frozen=True)
class _Process:
    """One crawl subprocess: its job and the files it writes (log, result, progress snapshots)."""

    job: CrawlJob
    log_path: Path
    result_path: Path
    progress_path: Path | None

    @classmethod
    def of(cls, job: CrawlJob, stem: Path, progress: Callable[[CrawlProgress], None] | None) -> _Process:
        result_path = stem.with_name(stem.name + ".result.json")
        result_path.unlink(missing_ok=True)
        progress_path = None
        if progress is not None:
            progress_path = stem.with_name(stem.name + ".progress.json")
            progress_path.unlink(missing_ok=True)
            job = replace(job, extra_settings={**job.extra_settings, "LW_PROGRESS_FILE": str(progress_path)})
        return cls(replace(job, result_path=str(result_path)), stem.with_name(stem.name + ".log"), result_path,
                   progress_path)

    def result(self) -> CrawlResult | None:
        """The CrawlResult the process wrote (None when it wrote none: killed, timed out, crashed)."""
        if not self.result_path.exists():
            return None
        result = CrawlResult.from_json(self.result_path.read_text(encoding="utf-8"))
        self.result_path.unlink(missing_ok=True)
        return replace(result, log_path=str(self.log_path))


def _crawl_processes(procs: list[_Process], timeout: float | None,
                     progress: Callable[[CrawlProgress], None] | None, poll_s: float
                     ) -> tuple[list[CrawlResult | None], list[int | str], bool]:
    """Run the processes together; each one's result (None for one that wrote none) and exit code, and whether
    Ctrl-C stopped them. The progress snapshots are summed over them, the last (finished) one from their
    results."""
    rcs, interrupted = _run_processes(procs, timeout, progress, poll_s)
    results = [p.result() for p in procs]
    if progress is not None:
        lasts = []
        for proc, result in zip(procs, results, strict=True):
            last = read_progress(proc.progress_path) if proc.progress_path else None
            if proc.progress_path:
                proc.progress_path.unlink(missing_ok=True)
            if last is None or not last.finished:  # killed or crashed before its spider closed: its counters
                s = result.stats if result is not None else CrawlStats()
                last = CrawlProgress(source=proc.job.source.name, pages=s.response_count, requests=s.requests,
                                     scraped=s.items_scraped, stored=s.items_stored, skipped=s.skipped_unchanged,
                                     dropped=s.dropped_total, elapsed_s=s.elapsed_s or 0.0, finished=True)
            lasts.append(last)
        progress(_summed(lasts))
    return results, rcs, interrupted


def _summed(snaps: list[CrawlProgress]) -> CrawlProgress:
    """One snapshot of a run from its shards' (the same one when there is one shard)."""
    if len(snaps) == 1:
        return snaps[0]
    return CrawlProgress(source=snaps[0].source, pages=sum(s.pages for s in snaps),
                         requests=sum(s.requests for s in snaps), scraped=sum(s.scraped for s in snaps),
                         stored=sum(s.stored for s in snaps), skipped=sum(s.skipped for s in snaps),
                         dropped=sum(s.dropped for s in snaps), elapsed_s=max(s.elapsed_s for s in snaps),
                         finished=all(s.finished for s in snaps))


_WORST = {"failed": 2, "partial": 1, "succeeded": 0}


def _crawl_sharded(job: CrawlJob, log_dir: Path, timeout: float | None,
                   progress: Callable[[CrawlProgress], None] | None, poll_s: float) -> tuple[CrawlResult, bool]:
    """Crawl ``job.source`` with ``job.shards`` processes under the source's lock; close the run with their
    merged counters. Also returns whether Ctrl-C stopped them."""
    import fcntl

    src, run_id, n = job.source, int(job.run_id or 0), job.shards
    engine = get_engine()
    main_log = log_dir / f"run-{run_id}.log"
    with open(log_dir / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            error = busy(src.name, log_dir / "lock")
            close_run(engine, run_id, "failed", CrawlStats().to_dict(), error)
            return CrawlResult(src.name, run_id, "failed", CrawlStats(), error, None), False
        close_stale_runs(engine, src.name, run_id,
                         f"crawl process ended without recording a result (killed?); resumed by run {run_id}")
        drop_other_layouts(log_dir, n)
        budget = job.max_requests if job.max_requests is not None else src.max_requests
        per_shard = None if budget is None else -(-budget // n)
        procs = [_Process.of(replace(job, shard=k, max_requests=per_shard), log_dir / f"run-{run_id}.shard-{k}",
                             progress) for k in range(n)]
        results, _, interrupted = _crawl_processes(procs, timeout, progress, poll_s)
    status, errors = "succeeded", []
    for k, (proc, result) in enumerate(zip(procs, results, strict=True)):
        if result is None:
            tail = proc.log_path.read_text(encoding="utf-8", errors="replace")[-1500:] if proc.log_path.exists() else ""
            result = CrawlResult(src.name, run_id, "failed", CrawlStats(),
                                 f"crawl process exited without recording a result; log {proc.log_path}:\n{tail}")
            results[k] = result
        if _WORST[result.status] > _WORST[status]:
            status = result.status
        if result.error:
            errors.append(f"shard {k} of {n}: {result.error}")
    stats = merge_stats([r.stats for r in results if r is not None])
    joined = "; ".join(errors) or None
    close_run(engine, run_id, status, json.loads(json.dumps(stats.to_dict(), default=str)), joined)
    main_log.write_text("".join(f"shard {k} of {n}: {r.status if r else 'failed'}, log {p.log_path.name}\n"
                                for k, (p, r) in enumerate(zip(procs, results, strict=True))), encoding="utf-8")
    return CrawlResult(src.name, run_id, status, stats, joined, str(main_log)), interrupted


def busy(source: str, lock: Path) -> str:
    """Why a crawl of ``source`` could not start: another one holds ``lock``."""
    return f"another crawl of source {source!r} is running (lock {lock} is held)"


def drop_other_layouts(cdir: Path, shards: int) -> None:
    """Remove the queues of a source crawled before with another number of shards (``shards`` = 1: the
    unsharded ``jobdir``). Nothing stored is lost: stored postings are skipped when unchanged and the rest
    fetched again. Called by whoever holds the source's lock."""
    import shutil

    keep = {f"shard-{k}-of-{shards}" for k in range(shards)} if shards > 1 else set()
    stale = [d for d in cdir.glob("shard-*-of-*") if d.is_dir() and d.name not in keep]
    if shards > 1:
        stale += [p for p in (cdir / "jobdir", cdir / "paused") if p.exists()]
    for path in stale:
        if (path / "paused").exists() or path.name == "paused":
            logger.warning("dropping the paused queue %s of an earlier crawl with another number of shards; stored "
                           "postings are kept and not fetched again", path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _run_processes(procs: list[_Process], timeout: float | None,
                   progress: Callable[[CrawlProgress], None] | None, poll_s: float
                   ) -> tuple[list[int | str], bool]:
    """Run the processes' commands like ``subprocess.run`` (output to their logs, all killed after
    ``timeout``), passing every new unfinished snapshot (summed over the processes) to ``progress`` meanwhile;
    returns each exit code (or the timeout) and whether Ctrl-C stopped them.

    The processes run in a session of their own, so Ctrl-C reaches this process only: it passes one SIGINT on to
    each (a clean pause: the queue is kept for the next crawl) and waits for them to write their results."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen: CrawlProgress | None = None
    step = poll_s if progress is not None else 0.2
    running: list[subprocess.Popen[bytes]] = []
    logs = [open(p.log_path, "wb") for p in procs]  # noqa: SIM115 - closed below
    interrupted = False
    try:
        running = [subprocess.Popen(command(p.job), env=child_env(), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True) for p, log in zip(procs, logs, strict=True)]
        while True:
            try:
                codes = [proc.poll() for proc in running]
                if all(c is not None for c in codes):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    return [c if c is not None else f"timeout after {timeout}s" for c in codes], interrupted
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                wait = min(w for w in (step, left) if w is not None)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    next(p for p in running if p.poll() is None).wait(timeout=wait)
            except KeyboardInterrupt:
                for proc in running:  # a second Ctrl-C passes a second SIGINT: Scrapy then stops at once
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGINT)
                interrupted = True
                continue
            if progress is None or interrupted:
                continue
            snaps = [read_progress(p.progress_path) if p.progress_path else None for p in procs]
            if any(s is None for s in snaps):
                continue
            snap = _summed([s for s in snaps if s is not None])
            if snap != seen and not snap.finished:  # the finished one comes after the results
                seen = snap
                try:
                    progress(snap)
                except Exception:  # a broken display must not kill the crawl it shows
                    logger.warning("crawl progress display failed; the crawl goes on", exc_info=True)
    finally:
        for proc in running:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for log in logs:
            log.close()
    return [int(c) for c in codes if c is not None], interrupted


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
