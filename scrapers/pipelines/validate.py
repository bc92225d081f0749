"""Validate pipeline: drops postings missing what identifies them, counts failures per field in crawl stats."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from scrapy.exceptions import DropItem

from scrapers.items import Posting, Rejected
from scrapers.normalise import today_in

REQUIRED = ("external_id", "title")


def check_posting(p: Posting, *, tz: str = "Asia/Shanghai") -> tuple[Posting, list[str], list[str]]:
    """(cleaned posting, failing required fields, failing optional fields).

    A required failure (no external id, no title, an id longer than the store allows) drops the posting;
    an optional failure (a posting date after today plus LABOURWATCH_DATE_FUTURE_DAYS or before
    LABOURWATCH_DATE_FLOOR, salary min above max, a negative salary) clears
    that field and keeps the posting.
    """
    required: list[str] = []
    optional: list[str] = []
    if not p.external_id:
        required.append("external_id")
    elif len(p.external_id) > 200:
        required.append("external_id_length")
    if not p.title:
        required.append("title")
    changes: dict[str, Any] = {}
    if p.posted_at is not None:
        from datetime import date

        from labourwatch.settings import get_settings

        lw = get_settings()
        if (p.posted_at > today_in(tz) + timedelta(days=lw.date_future_days)
                or p.posted_at < date.fromisoformat(lw.date_floor)):
            optional.append("posted_at")  # an impossible date: the posting counts by its first-seen day
            changes["posted_at"] = None
    lo, hi = p.salary_min, p.salary_max
    if (lo is not None and lo < 0) or (hi is not None and hi < 0) or (lo is not None and hi is not None and lo > hi):
        optional.append("salary")
        changes.update(salary_min=None, salary_max=None)
    if p.salary_period not in (None, "hour", "day", "week", "month", "year"):
        optional.append("salary_period")
        changes["salary_period"] = None
    return (replace(p, **changes) if changes else p), required, optional


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
        item, required, optional = check_posting(item, tz=getattr(source, "timezone", "Asia/Shanghai"))
        for name in (*required, *optional):
            self.stats.inc_value(f"lw/validate/{name}")
        if required:
            raise self._drop(f"missing_{required[0]}", f"posting at {item.url} fails {required}", item.url)
        self.valid += 1
        return item

    def close_spider(self) -> None:
        # Postings skipped as unchanged (incremental) are valid postings seen too.
        seen = self.valid + self.dropped + (self.stats.get_value("lw/items/seen_unchanged") or 0)
        rate = self.dropped / seen if seen else 0.0
        self.stats.set_value("lw/items/valid", self.valid)
        self.stats.set_value("lw/drop_rate", round(rate, 4))
        if seen >= self.min_items and rate > self.max_rate:
            self.stats.set_value("lw/drop_rate_exceeded", 1)
