"""One source crawled by several processes at once: each keeps the postings whose key falls in its shard.

Every shard reads the same sitemaps, listings and API pages (they are few beside the detail pages) and keeps
only its part of what they lead to: detail requests by URL, postings read straight off a listing and
"seen, unchanged" marks by external id (or URL). The key is hashed with CRC-32, so every shard agrees without
talking to the others, the parts are disjoint and together they are the whole source. ``scrapers.crawl``
starts the shards, holds the source's lock for all of them and merges their counters into the run's one
``crawl_runs`` row (``merge_stats``).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import fields, replace
from typing import Any

from labourwatch.contract import CrawlStats

MAX_SHARDS = 64


def shard_of(key: str, shards: int) -> int:
    """The shard (0 … shards-1) that owns ``key``: the same in every process, on every machine."""
    return zlib.crc32(key.encode("utf-8")) % shards


def check_shard(shard: int, shards: int) -> None:
    """Raise ValueError naming the values unless 0 <= shard < shards <= MAX_SHARDS."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"crawl shards must be between 1 and {MAX_SHARDS}, got {shards}")
    if not 0 <= shard < shards:
        raise ValueError(f"crawl shard must be between 0 and {shards - 1} for {shards} shards, got {shard}")


class ShardMiddleware:
    """Spider middleware: drop what another shard owns (on only when ``LW_SHARDS`` > 1).

    Requests of kind ``detail`` are kept when their URL is in this shard; postings and ``SeenUnchanged`` marks
    read off a list, sitemap or API page when their external id (or URL) is. Postings read off a detail page
    are kept: the page was this shard's. Counted in ``lw/shard/skipped_requests`` and ``lw/shard/skipped_items``.
    """

    def __init__(self, shard: int, shards: int, stats: Any) -> None:
        check_shard(shard, shards)
        self.shard, self.shards, self.stats = shard, shards, stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ShardMiddleware:
        from scrapy.exceptions import NotConfigured

        shards = crawler.settings.getint("LW_SHARDS", 1)
        if shards <= 1:
            raise NotConfigured("one shard")
        return cls(crawler.settings.getint("LW_SHARD", 0), shards, crawler.stats)

    def mine(self, key: str | None) -> bool:
        return key is None or shard_of(key, self.shards) == self.shard

    def _keep(self, out: Any, from_detail: bool) -> Any | None:
        from scrapy.http import Request

        from scrapers.items import Posting, RawPosting, SeenUnchanged

        if isinstance(out, Request):
            if out.meta.get("lw_kind", "detail") != "detail" or self.mine(out.url):
                return out
            self.stats.inc_value("lw/shard/skipped_requests")
            return None
        if from_detail:
            return out
        if isinstance(out, SeenUnchanged):
            ids = tuple(i for i in out.external_ids if self.mine(i))
            urls = tuple(u for u in out.urls if self.mine(u))
            skipped = len(out.external_ids) + len(out.urls) - len(ids) - len(urls)
            if skipped:
                self.stats.inc_value("lw/shard/skipped_items", skipped)
            return replace(out, external_ids=ids, urls=urls) if ids or urls else None
        if isinstance(out, Posting | RawPosting) and not self.mine(out.external_id or out.url):
            self.stats.inc_value("lw/shard/skipped_items")
            return None
        return out

    def _filter(self, result: Iterable[Any], response: Any) -> Iterator[Any]:
        from_detail = response.meta.get("lw_kind", "detail") == "detail"
        for out in result:
            kept = self._keep(out, from_detail)
            if kept is not None:
                yield kept

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        return self._filter(result, response)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        from_detail = response.meta.get("lw_kind", "detail") == "detail"
        async for out in result:
            kept = self._keep(out, from_detail)
            if kept is not None:
                yield kept


_SUMMED = {f.name for f in fields(CrawlStats) if f.type in ("int", int)}


def merge_stats(parts: list[CrawlStats]) -> CrawlStats:
    """One run's counters from its shards'.

    The run's time is its longest shard's (as with one process: from the crawl's start, not the interpreter's),
    its page rate all pages over that time. Counts and per-reason counts are summed; CPU and peak memory are totals over the shard processes; the drop
    rate is the highest shard's (each shard judged its own against LW_MAX_DROP_RATE); the run finished only when
    every shard did, otherwise its reason is the first shard's that did not."""
    if not parts:
        return CrawlStats()
    elapsed_s = max(p.elapsed_s for p in parts)
    merged: dict[str, Any] = {}
    for f in fields(CrawlStats):
        values = [getattr(p, f.name) for p in parts]
        if f.name in _SUMMED:
            merged[f.name] = sum(values)
        elif isinstance(values[0], dict):
            total: dict[str, int] = {}
            for v in values:
                for k, n in v.items():
                    total[k] = total.get(k, 0) + n
            merged[f.name] = dict(sorted(total.items()))
        elif isinstance(values[0], list):
            merged[f.name] = [x for v in values for x in v]
    reasons = [p.finish_reason for p in parts]
    not_finished = [r for r in reasons if r != "finished"]
    cpu = sum(p.cpu_s or 0.0 for p in parts)
    pages = merged["response_count"]
    merged.update(
        finish_reason=not_finished[0] if not_finished else "finished",
        elapsed_s=round(elapsed_s, 2),
        pages_per_s=round(pages / elapsed_s, 1) if elapsed_s > 0 else None,
        retry_wait_s=round(sum(p.retry_wait_s for p in parts), 2),
        known_at_start=max(p.known_at_start for p in parts),  # every shard loads the whole source's
        drop_rate=max(p.drop_rate for p in parts),
        drop_rate_exceeded=any(p.drop_rate_exceeded for p in parts),
        store_error=next((p.store_error for p in parts if p.store_error), None),
        refused=next((p.refused for p in parts if p.refused), None),
        peak_rss_mb=round(sum(p.peak_rss_mb or 0.0 for p in parts), 1),
        cpu_s=round(cpu, 2),
        cpu_ms_per_page=round(1000 * cpu / pages, 3) if pages else None,
        pid=None,
    )
    return CrawlStats(**merged)
