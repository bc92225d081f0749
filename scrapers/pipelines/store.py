"""Store pipeline: batches of validated postings upserted through ``db.repo`` (typed calls, no SQL here)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from db.repo import last_seen, register_source, store_batch, touch_seen
from db.session import get_engine
from labourwatch.contract import PostingIn
from scrapers.incremental import KnownPostings
from scrapers.items import SeenUnchanged

logger = logging.getLogger(__name__)


class StorePipeline:
    """Buffers postings and upserts them in batches of ``LW_STORE_BATCH`` (and at least every
    ``LW_STORE_INTERVAL`` seconds), counting ``lw/store/inserted|updated|unchanged|touched``.

    On open it loads what the store holds for the source into ``spider.known`` (incremental crawls).
    A database error closes the spider with reason ``store_error`` rather than silently losing postings.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.run_id: int | None = settings.getint("LW_RUN_ID") or None
        self.batch_size = settings.getint("LW_STORE_BATCH", 1000)
        self.interval = settings.getfloat("LW_STORE_INTERVAL", 5.0)
        self.incremental = settings.getbool("LW_INCREMENTAL", True)
        self.engine = get_engine(settings.get("LW_DB_URL") or None)
        self.batch: list[PostingIn] = []
        self.touch_ids: list[str] = []
        self.touch_urls: list[str] = []
        self.last_flush = time.monotonic()
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        src = getattr(spider, "source", None)
        name = src.name if src is not None else spider.name
        register_source(self.engine, name, spider=spider.name, lang=getattr(src, "lang", None),
                        url=next(iter((src.sitemap_urls or src.start_urls) if src else ()), None))
        known = KnownPostings(enabled=False)
        if self.incremental:
            known = KnownPostings.from_rows(last_seen(self.engine, name))
        spider.known = known
        self.stats.set_value("lw/known_at_start", len(known))

    def process_item(self, item: Any) -> Any:
        if self.failed:
            raise DropItem("store failed earlier in this run")
        if isinstance(item, SeenUnchanged):
            self.touch_ids.extend(item.external_ids)
            self.touch_urls.extend(item.urls)
            self.stats.inc_value("lw/items/seen_unchanged", len(item.external_ids) + len(item.urls))
        elif isinstance(item, PostingIn):  # validated by ValidatePipeline
            self.batch.append(item)
        else:
            return item
        if (len(self.batch) + len(self.touch_ids) + len(self.touch_urls) >= self.batch_size
                or time.monotonic() - self.last_flush >= self.interval):
            self.flush()
        return item

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        try:
            if self.batch:
                r = store_batch(self.engine, self.batch, self.run_id)
                self.stats.inc_value("lw/store/stored", len(self.batch))
                self.stats.inc_value("lw/store/inserted", r.inserted)
                self.stats.inc_value("lw/store/updated", r.updated)
                self.stats.inc_value("lw/store/unchanged", r.unchanged)
                self.batch = []
            if self.touch_ids or self.touch_urls:
                spider = self.crawler.spider
                name = spider.source.name
                n = touch_seen(self.engine, name, self.touch_ids, self.touch_urls, datetime.now(UTC))
                self.stats.inc_value("lw/store/touched", n)
                self.touch_ids, self.touch_urls = [], []
        except Exception as exc:  # a lost batch must stop the crawl, not pass unnoticed
            self.failed = True
            self.stats.set_value("lw/store/error", f"{type(exc).__name__}: {exc}"[:500])
            logger.exception("storing a batch of %d postings failed", len(self.batch))
            engine = self.crawler.engine
            if engine is not None:
                deferred_from_coro(engine.close_spider_async(reason="store_error"))
            raise

    def close_spider(self) -> None:
        if not self.failed:
            self.flush()
