"""Run crawls from Python or Prefect: each crawl in its own ``python -m scrapers.run`` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db import schema
from db.migrate import upgrade
from db.repo import finish_run, start_run
from db.session import get_engine, session_scope
from labourwatch.settings import get_settings
from scrapers.config import load_auth, resolve_source
from scrapers.run import crawl_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class CrawlFailed(RuntimeError):
    """A crawl ended with status failed and the caller asked for an exception (``raise_on_failure``)."""

    def __init__(self, report: CrawlReport) -> None:
        super().__init__(f"crawl of {report.source} (run {report.run_id}) failed: {report.error}")
        self.report = report


@dataclass(frozen=True)
class CrawlReport:
    """How one crawl ended, read back from its ``crawl_runs`` row."""

    source: str
    run_id: int
    status: str  # succeeded | partial | failed
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    log_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "partial")

    def summary(self) -> str:
        s = self.stats
        parts = [f"{self.source}: {self.status} (run {self.run_id})"]
        if s:
            parts.append(
                f"{s.get('items_scraped', 0)} postings scraped, {s.get('inserted', 0)} new, "
                f"{s.get('updated', 0)} updated, {s.get('unchanged', 0)} unchanged, "
                f"{s.get('skipped_unchanged', 0)} skipped as unchanged; {s.get('requests', 0)} requests, "
                f"{s.get('retries', 0)} retries, {sum(s.get('dropped', {}).values())} dropped "
                f"{s.get('dropped') or ''}; {s.get('pages_per_s')} pages/s, peak {s.get('peak_rss_mb')} MB"
            )
        if self.error:
            parts.append(f"error: {self.error}")
        return "\n  ".join(parts)


def command(source: str, *, run_id: int | None = None, url: str | None = None, spider: str | None = None,
            max_requests: int | None = None, resume: bool = True,
            extra_settings: dict[str, Any] | None = None, base_url: str | None = None) -> list[str]:
    """The command line of one crawl subprocess."""
    cmd = [sys.executable, "-m", "scrapers.run", "--source", source]
    if base_url:
        cmd += ["--base-url", base_url]
    if run_id is not None:
        cmd += ["--run-id", str(run_id)]
    if url:
        cmd += ["--url", url]
    if spider:
        cmd += ["--spider", spider]
    if max_requests is not None:
        cmd += ["--max-requests", str(max_requests)]
    if not resume:
        cmd.append("--no-resume")
    if extra_settings:
        cmd += ["--settings-json", json.dumps(extra_settings)]
    return cmd


def subprocess_env() -> dict[str, str]:
    """This process's environment with the project importable (LABOURWATCH_* settings are inherited)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def read_report(run_id: int, log_path: Path | None = None) -> CrawlReport:
    """The CrawlReport of run ``run_id`` as recorded in ``crawl_runs``."""
    with session_scope(get_engine()) as s:
        run = s.get(schema.CrawlRun, run_id)
        if run is None:
            raise LookupError(f"crawl run {run_id} does not exist in {get_engine().url.render_as_string()}")
        src = s.get(schema.Source, run.source_id)
        return CrawlReport(source=src.name if src else "?", run_id=run.id, status=run.status,
                           stats=dict(run.stats or {}), error=run.error,
                           log_path=str(log_path) if log_path else None)


def crawl(source: str, *, url: str | None = None, spider: str | None = None, max_requests: int | None = None,
          resume: bool = True, extra_settings: dict[str, Any] | None = None, raise_on_failure: bool = False,
          timeout: float | None = None, base_url: str | None = None) -> CrawlReport:
    """Crawl one source in a subprocess and return how it went.

    ``source`` names a source of the sources config, or with ``url`` (and ``spider``, default
    ``jobposting``) an ad hoc one. The subprocess stores into the configured database and records the
    run; a source that fails returns status ``failed`` unless ``raise_on_failure``. Its log goes to
    ``<home>/crawls/<source>/run-<id>.log``. ``base_url`` replaces scheme and host of every URL of the
    source (replaying recorded responses). An unknown source, or one that needs the user's auth file and
    has none, raises SourceConfigError at once.
    """
    src = resolve_source(source, url, spider, base_url=base_url)
    load_auth(src)
    settings = get_settings()
    settings.ensure_dirs()
    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as s:
        run_id = start_run(s, src.name, kind="crawl", spider=src.spider, lang=src.lang,
                           url=next(iter(src.sitemap_urls or src.start_urls), None)).id
    log_dir = crawl_dir(src.name)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{run_id}.log"
    cmd = command(src.name, run_id=run_id, url=url, spider=spider, max_requests=max_requests,
                  resume=resume, extra_settings=extra_settings, base_url=base_url)
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.run(cmd, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
            rc: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            rc = f"timeout after {timeout}s"
    report = read_report(run_id, log_path)
    if report.status == "running":
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
        with session_scope(engine) as s:
            finish_run(s, run_id, "failed", report.stats,
                       f"crawl process exited ({rc}) without recording a result; log {log_path}:\n{tail}")
        report = read_report(run_id, log_path)
    if raise_on_failure and report.status == "failed":
        raise CrawlFailed(report)
    return report
