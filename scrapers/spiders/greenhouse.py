"""Greenhouse job-board API spider (one request lists every job with its content)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Request, Response

from scrapers.parsers import ParseError
from scrapers.parsers.greenhouse import parse_jobs
from scrapers.spiders.base import BoardSpider


class GreenhouseSpider(BoardSpider):
    """``start_urls``: ``https://boards-api.greenhouse.io/v1/boards/<board>/jobs?content=true``."""

    name = "greenhouse"

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.start_urls:
            yield self.request(url, self.parse_jobs, "list_page")

    def parse_jobs(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            self.lost("list_page", response.url)
            return
        try:
            yield from parse_jobs(self.text_of(response), response.url, self.source.name, self.source.company,
                                  self.source.lang)
        except ParseError as exc:
            again = self.refetch_or_reject(response, exc.reason, exc.detail)
            if isinstance(again, Request):
                yield again
            else:
                self.lost("list_page", response.url)
