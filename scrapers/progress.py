"""A running crawl's counters, written every few seconds to a JSON file its parent reads for a live display."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The stats keys the display reads (Scrapy's downloader and the pipelines' lw/* counters).
_PAGES = "downloader/response_count"
_REQUESTS = "downloader/request_count"


@dataclass(frozen=True, slots=True)
class CrawlProgress:
    """How far one crawl has got: pages fetched, postings scraped/stored/dropped, and the page rate so far.

    ``finished`` is True in the last snapshot a crawl writes (when its spider closes), whose counters are then
    the run's final ones (those of its CrawlResult)."""

    source: str
    pages: int = 0  # responses received
    requests: int = 0
    scraped: int = 0  # valid postings (lw/items/valid, set when the crawl ends; items scraped so far before)
    stored: int = 0  # postings written to the database so far (stored in batches)
    skipped: int = 0  # detail pages skipped as stored and unchanged (incremental)
    dropped: int = 0
    elapsed_s: float = 0.0
    finished: bool = False

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @classmethod
    def from_stats(cls, source: str, stats: dict[str, Any], elapsed_s: float, *, finished: bool = False
                   ) -> CrawlProgress:
        """The snapshot of Scrapy stats ``stats`` (a crawler's ``get_stats()``) after ``elapsed_s`` seconds."""
        dropped = sum(int(v) for k, v in stats.items() if k.startswith("lw/dropped/"))
        return cls(source=source, pages=int(stats.get(_PAGES, 0)), requests=int(stats.get(_REQUESTS, 0)),
                   scraped=int(stats.get("lw/items/valid", stats.get("item_scraped_count", 0))), stored=int(stats.get("lw/store/stored", 0)),
                   skipped=int(stats.get("lw/items/seen_unchanged", 0)), dropped=dropped,
                   elapsed_s=round(elapsed_s, 2), finished=finished)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlProgress:
        d = json.loads(text)
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def line(self) -> str:
        """One short line for a terminal: ``124 pages, 98 postings (50 stored), 2 dropped, 31 pages/s``."""
        return (f"{self.pages:,} pages, {self.scraped + self.skipped:,} postings ({self.stored:,} stored), "
                f"{self.dropped:,} dropped, {self.pages_per_s:.0f} pages/s")


def write_progress(path: Path, progress: CrawlProgress) -> None:
    """Write ``progress`` to ``path`` atomically (a reader sees the old or the new snapshot, never half)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(progress.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def read_progress(path: Path) -> CrawlProgress | None:
    """The snapshot in ``path``; None when there is none yet (or it cannot be read)."""
    try:
        return CrawlProgress.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


class ProgressFile:
    """Scrapy extension: every ``LW_PROGRESS_INTERVAL`` seconds, and once when the spider closes, write the
    crawl's CrawlProgress to ``LW_PROGRESS_FILE`` (set by ``scrapers.crawl.crawl`` when a display asks for it;
    off otherwise)."""

    def __init__(self, crawler: Any, path: Path, interval: float) -> None:
        self.crawler, self.path, self.interval = crawler, path, interval
        self.task: Any = None
        self.t0 = time.monotonic()
        self.source = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressFile:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("LW_PROGRESS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(crawler, Path(path), crawler.settings.getfloat("LW_PROGRESS_INTERVAL", 2.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        # spider_closed is sent after the item pipelines closed (their last batch stored): final counters
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _snapshot(self, finished: bool = False) -> CrawlProgress:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        return CrawlProgress.from_stats(self.source, dict(stats), time.monotonic() - self.t0, finished=finished)

    def write(self) -> None:
        try:
            write_progress(self.path, self._snapshot())
        except OSError:  # a display is not worth failing a crawl for
            pass

    def spider_opened(self, spider: Any) -> None:
        from scrapy.utils.asyncio import create_looping_call

        self.t0 = time.monotonic()
        source = getattr(spider, "source", None)
        self.source = getattr(source, "name", None) or spider.name
        self.write()
        self.task = create_looping_call(self.write)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        try:
            write_progress(self.path, self._snapshot(finished=True))
        except OSError:
            pass
