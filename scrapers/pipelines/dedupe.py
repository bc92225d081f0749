"""Dedupe pipeline: one posting per (source, external id) per run; repeats are dropped and counted."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from labourwatch.contract import PostingIn
from scrapers.items import Posting


class DedupePipeline:
    """Remembers the ids stored in this run (in ``spider.state`` so a paused JOBDIR crawl keeps them).

    Changed content of an already stored posting is not a duplicate: the store compares content hashes
    and counts it as ``updated``.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        state = getattr(self.crawler.spider, "state", None)
        if isinstance(state, dict):
            self.seen = state.setdefault("lw_seen_ids", set())

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PostingIn | Posting):
            return item
        key = (item.source, str(item.external_id))
        if key in self.seen:
            self.crawler.stats.inc_value("lw/duplicates_in_run")
            raise DropItem(f"duplicate of {key[0]}:{key[1]} in this run ({item.url})")
        self.seen.add(key)
        return item
