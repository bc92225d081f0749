"""Store pipeline: batches of postings upserted through ``db.repo``; the only scrapers module touching db."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import Engine, select, update

from db import schema
from db.repo import PostingIn, get_or_create_source, upsert_postings
from db.session import get_engine, session_scope
from scrapers.incremental import KnownPostings
from scrapers.items import Posting, SeenUnchanged

logger = logging.getLogger(__name__)


def to_posting_in(p: Posting) -> PostingIn:
    """The store's input type for a validated posting."""
    return PostingIn(
        source=p.source, external_id=str(p.external_id), title=p.title or "", url=p.url, company=p.company,
        city=p.city, lang=p.lang, description=p.description, salary_text=p.salary_text,
        salary_min=p.salary_min, salary_max=p.salary_max, salary_period=p.salary_period,
        salary_currency=p.salary_currency, experience_text=p.experience_text, education_text=p.education_text,
        employment_type=p.employment_type, posted_at=p.posted_at, raw_hash=p.raw_hash,
        country=p.country, board_category=p.board_category,
    )


def load_known(engine: Engine, source: str) -> KnownPostings:
    """``last_seen`` of every stored posting of ``source`` by external id and URL (empty for a new source),
    streamed from the database into the compact index."""
    P = schema.Posting
    with session_scope(engine) as s:
        sid = s.scalar(select(schema.Source.id).where(schema.Source.name == source))
        if sid is None:
            return KnownPostings()
        rows = s.execute(select(P.external_id, P.url, P.last_seen).where(P.source_id == sid)
                         .execution_options(yield_per=10_000))
        return KnownPostings.from_rows((ext, url, seen) for ext, url, seen in rows)


def touch_last_seen(engine: Engine, source: str, external_ids: Sequence[str], urls: Sequence[str],
                    now: datetime) -> int:
    """Move ``last_seen`` of postings listed again but not refetched; returns how many rows matched."""
    P = schema.Posting
    n = 0
    with session_scope(engine) as s:
        sid = s.scalar(select(schema.Source.id).where(schema.Source.name == source))
        if sid is None:
            return 0
        for i in range(0, len(external_ids), 500):
            chunk = list(external_ids[i : i + 500])
            n += s.execute(update(P).where(P.source_id == sid, P.external_id.in_(chunk))
                           .values(last_seen=now)).rowcount or 0
        for i in range(0, len(urls), 500):
            chunk = list(urls[i : i + 500])
            n += s.execute(update(P).where(P.source_id == sid, P.url.in_(chunk)).values(last_seen=now)).rowcount or 0
    return n


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
        with session_scope(self.engine) as s:
            get_or_create_source(s, name, spider=spider.name, lang=getattr(src, "lang", None),
                                 url=next(iter((src.sitemap_urls or src.start_urls) if src else ()), None))
        known = load_known(self.engine, name) if self.incremental else KnownPostings(enabled=False)
        spider.known = known
        self.stats.set_value("lw/known_at_start", len(known))

    def process_item(self, item: Any) -> Any:
        if self.failed:
            raise DropItem("store failed earlier in this run")
        if isinstance(item, SeenUnchanged):
            self.touch_ids.extend(item.external_ids)
            self.touch_urls.extend(item.urls)
            self.stats.inc_value("lw/items/seen_unchanged", len(item.external_ids) + len(item.urls))
        elif isinstance(item, Posting):
            self.batch.append(to_posting_in(item))
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
                with session_scope(self.engine) as s:
                    r = upsert_postings(s, self.batch, self.run_id)
                self.stats.inc_value("lw/store/stored", len(self.batch))
                self.stats.inc_value("lw/store/inserted", r.inserted)
                self.stats.inc_value("lw/store/updated", r.updated)
                self.stats.inc_value("lw/store/unchanged", r.unchanged)
                self.batch = []
            if self.touch_ids or self.touch_urls:
                spider = self.crawler.spider
                name = spider.source.name
                n = touch_last_seen(self.engine, name, self.touch_ids, self.touch_urls, datetime.now(UTC))
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
