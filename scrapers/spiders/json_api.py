"""Paginated JSON search API spider, driven by the source's ``api`` config (mapping, pagination, detail)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Request, Response

from scrapers.config import JsonApiConfig
from scrapers.items import RawPosting, SeenUnchanged
from scrapers.normalise import parse_datetime
from scrapers.parsers import ParseError, get_path
from scrapers.parsers.json_api import fill_template, merge_detail, parse_list, posting_from_entry
from scrapers.spiders.base import BoardSpider


class JsonApiSpider(BoardSpider):
    """Requests the first list page; when the API states a total, every other page is scheduled at once,
    else pages are followed until one comes back short. Entries whose ``updated_field`` is not newer than
    the stored copy are not fetched again."""

    name = "json_api"

    @property
    def api(self) -> JsonApiConfig:
        assert self.source.api is not None, f"source {self.source.name} has no api block"
        return self.source.api

    def page_url(self, page: int) -> str:
        api = self.api
        index = page - api.first_page
        return api.list_url.format(page=page, page_size=api.page_size, offset=index * api.page_size)

    async def start(self) -> AsyncIterator[Any]:
        first = self.api.first_page
        yield self.request(self.page_url(first), self.parse_list, "list_page", cb_kwargs={"page": first})

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        api = self.api
        if response.status != 200:
            self.lost("list_page", response.url)
            return
        try:
            listing = parse_list(self.text_of(response), response.url, api)
        except ParseError as exc:
            again = self.refetch_or_reject(response, exc.reason, exc.detail)
            if isinstance(again, Request):
                yield again
            else:
                self.lost("list_page", response.url)
            return
        if api.pagination != "none":
            if page == api.first_page and listing.total is not None:
                pages = math.ceil(listing.total / api.page_size)
                for p in range(api.first_page + 1, api.first_page + pages):
                    yield self.request(self.page_url(p), self.parse_list, "list_page", cb_kwargs={"page": p})
            elif listing.total is None and len(listing.entries) >= api.page_size:
                yield self.request(self.page_url(page + 1), self.parse_list, "list_page",
                                   cb_kwargs={"page": page + 1})
        fresh: list[str] = []
        for entry in listing.entries:
            ext = get_path(entry, api.id_field)
            ext = None if ext in (None, "") else str(ext)
            if ext is not None and api.updated_field:
                modified = parse_datetime(get_path(entry, api.updated_field), tz=self.source.timezone)
                if self.known.is_fresh(modified, external_id=ext):
                    fresh.append(ext)
                    continue
            detail_url = fill_template(api.detail.url, entry, ext) if api.detail and ext else None
            public = fill_template(api.url_template, entry, ext) if api.url_template and ext else None
            raw = posting_from_entry(entry, api, source=self.source.name, url=public or detail_url or response.url,
                                     lang=self.source.lang)
            if detail_url:
                yield self.request(detail_url, self.parse_detail, cb_kwargs={"base": raw})
            else:
                yield raw
        if fresh:
            yield SeenUnchanged(source=self.source.name, external_ids=tuple(fresh))

    def parse_detail(self, response: Response, base: RawPosting) -> Iterator[Any]:
        if response.status != 200:
            return
        try:
            yield merge_detail(base, self.text_of(response), response.url, self.api)
        except ParseError as exc:
            yield self.refetch_or_reject(response, exc.reason, exc.detail)
