"""Validate pipeline: Posting → PostingIn, or dropped when it misses what identifies it; failures counted per field."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from scrapers.items import Posting, Rejected
from scrapers.pipelines.posting import check_posting, validate_posting

__all__ = ["REJECTED_URLS_KEPT", "ValidatePipeline", "check_posting"]


REJECTED_URLS_KEPT = 5000


class ValidatePipeline:
    """Counts ``lw/validate/<field>`` failures and ``lw/dropped/<reason>``; Rejected items are dropped here.

    The drop rate (dropped / (dropped + valid + skipped as unchanged)) is written to ``lw/drop_rate``; above the
    ``LW_MAX_DROP_RATE`` setting (once ``LW_DROP_RATE_MIN_ITEMS`` items were seen) the run is failed.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_rate = crawler.settings.getfloat("LW_MAX_DROP_RATE", 0.25)
        self.min_items = crawler.settings.getint("LW_DROP_RATE_MIN_ITEMS", 20)
        self.valid = 0
        self.dropped = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidatePipeline:
        return cls(crawler)

    def _drop(self, reason: str, message: str, url: str | None = None) -> DropItem:
        self.dropped += 1
        if url:
            # The page's URL too, so reports can count distinct refused pages across runs (capped per run).
            urls = self.stats.get_value("lw/rejected_urls") or []
            if len(urls) < REJECTED_URLS_KEPT and url not in urls:
                self.stats.set_value("lw/rejected_urls", [*urls, url])
        self.stats.inc_value(f"lw/dropped/{reason}")
        return DropItem(message)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Rejected):
            raise self._drop(item.reason, f"{item.reason} at {item.url}: {item.detail}", item.url)
        if not isinstance(item, Posting):
            return item
        source = getattr(self.crawler.spider, "source", None)
        checked = validate_posting(item, tz=getattr(source, "timezone", "Asia/Shanghai"))
        for name in (*checked.required, *checked.optional):
            self.stats.inc_value(f"lw/validate/{name}")
        if checked.rejected is not None:
            raise self._drop(checked.rejected.reason, f"posting at {item.url} fails {list(checked.required)}",
                             item.url)
        self.valid += 1
        return checked.posting

    def close_spider(self) -> None:
        # Postings skipped as unchanged (incremental) are valid postings seen too.
        seen = self.valid + self.dropped + (self.stats.get_value("lw/items/seen_unchanged") or 0)
        rate = self.dropped / seen if seen else 0.0
        self.stats.set_value("lw/items/valid", self.valid)
        self.stats.set_value("lw/drop_rate", round(rate, 4))
        if seen >= self.min_items and rate > self.max_rate:
            self.stats.set_value("lw/drop_rate_exceeded", 1)
