"""Lever postings API spider (``?mode=json``; pages with ``skip``/``limit`` when the URL sets a limit)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from scrapy.http import Request, Response

from scrapers.parsers import ParseError
from scrapers.parsers.lever import parse_postings
from scrapers.spiders.base import BoardSpider


def next_page_url(url: str, got: int) -> str | None:
    """The next ``skip`` page when the URL pages with ``limit`` and this page was full; else None."""
    parts = urlsplit(url)
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if "limit" not in q:
        return None
    limit = int(q["limit"])
    if got < limit:
        return None
    q["skip"] = str(int(q.get("skip", "0")) + limit)
    return urlunsplit(parts._replace(query=urlencode(q)))


class LeverSpider(BoardSpider):
    """``start_urls``: ``https://api.lever.co/v0/postings/<company>?mode=json`` (add ``&limit=100`` to page)."""

    name = "lever"

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.start_urls:
            yield self.request(url, self.parse_postings, "list_page")

    def parse_postings(self, response: Response) -> Iterator[Any]:
        if response.status != 200:
            self.lost("list_page", response.url)
            return
        try:
            postings = parse_postings(self.text_of(response), response.url, self.source.name,
                                      self.source.company, self.source.lang)
        except ParseError as exc:
            again = self.refetch_or_reject(response, exc.reason, exc.detail)
            if isinstance(again, Request):
                yield again
            else:
                self.lost("list_page", response.url)
            return
        yield from postings
        if nxt := next_page_url(response.url, len(postings)):
            yield self.request(nxt, self.parse_postings, "list_page")
