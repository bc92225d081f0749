"""schema.org JobPosting spider: pages found through sitemaps (indexes, lastmod) or listing pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Request, Response

from scrapers.items import SeenUnchanged
from scrapers.normalise import parse_datetime
from scrapers.parsers import ParseError
from scrapers.parsers.jobposting import listing_links, parse_page
from scrapers.parsers.sitemap import parse_sitemap, sitemaps_from_robots
from scrapers.spiders.base import BoardSpider


class JobPostingSpider(BoardSpider):
    """Sitemaps: follows indexes, skips pages whose ``lastmod`` is not newer than the stored copy.
    Listings: follows ``link_selector`` to details and ``next_selector`` to the next page."""

    name = "jobposting"

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.sitemap_urls:
            yield self.request(url, self.parse_sitemap, "sitemap")
        for url in self.source.start_urls:
            yield self.request(url, self.parse_listing, "listing")

    def _matches(self, url: str, patterns: tuple[str, ...]) -> bool:
        return not patterns or any(re.search(p, url) for p in patterns)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            self.lost("sitemap", response.url)
            return
        if response.url.endswith("/robots.txt"):
            for url in sitemaps_from_robots(self.text_of(response), response.url):
                yield self.request(url, self.parse_sitemap, "sitemap")
            return
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except ParseError as exc:
            again = self.refetch_or_reject(response, exc.reason, exc.detail)
            if isinstance(again, Request):
                yield again
            else:
                self.lost("sitemap", response.url)
            return
        if sitemap.kind == "sitemapindex":
            for e in sitemap.entries:
                if self._matches(e.loc, self.source.sitemap_follow):
                    yield self.request(e.loc, self.parse_sitemap, "sitemap")
            return
        fresh: list[str] = []
        for e in sitemap.entries:
            if not self._matches(e.loc, self.source.sitemap_rules):
                continue
            modified = parse_datetime(e.lastmod, tz=self.source.timezone) if e.lastmod else None
            if self.known.is_fresh(modified, url=e.loc):
                fresh.append(e.loc)
                continue
            yield self.request(e.loc, self.parse_detail)
        self.crawler.stats.inc_value("lw/sitemap/urls", len(sitemap.entries))
        if fresh:
            yield SeenUnchanged(source=self.source.name, urls=tuple(fresh))

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            self.lost("listing", response.url)
            return
        text = self.text_of(response)
        links, nxt = listing_links(text, response.url, self.source.link_selector, self.source.next_selector)
        for url in links:
            yield self.request(url, self.parse_detail)
        for url in nxt:
            yield self.request(url, self.parse_listing, "listing")

    def parse_detail(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            return
        try:
            yield from parse_page(self.text_of(response), response.url, self.source.name, self.source.lang)
        except ParseError as exc:
            yield self.refetch_or_reject(response, exc.reason, exc.detail)
