"""Paginated JSON (or XML) search API spider, driven by the source's ``api`` config: URL templates,
company tokens, pagination, field mapping and detail follow-up (JSON, a page's embedded state, or HTML)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote_plus

from scrapy.http import Request, Response

from scrapers.config import JsonApiConfig, SourceConfig, SourceConfigError, fill_params
from scrapers.items import RawPosting, SeenUnchanged
from scrapers.normalise import parse_datetime
from scrapers.parsers import ParseError, get_path
from scrapers.parsers.json_api import fill_template, merge_detail, parse_list, posting_from_entry
from scrapers.spiders.base import BoardSpider


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One list-page request of a JSON API source, as the spider and ``sources check`` send it."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] | None = None


def list_request(source: SourceConfig, token: str | None, page: int) -> ListRequest:
    """URL, method and body of list page ``page`` of ``source`` (for company ``token``)."""
    api = source.api
    assert api is not None, f"source {source.name} has no api block"

    def fill(template: str, quote: bool = False) -> str:
        src = replace(source, params={k: quote_plus(v) for k, v in source.params.items()}) if quote else source
        out = fill_params(template, src, token)
        index = page - api.first_page
        for key, value in (("page", page), ("page_size", api.page_size), ("offset", index * api.page_size)):
            out = out.replace("{" + key + "}", str(value))
        return out

    if api.method != "POST":
        return ListRequest(fill(api.list_url))
    body = fill(api.body or "", quote=api.body_type == "form")
    if api.body_type == "json":
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            raise SourceConfigError(f"source {source.name}: api.body is not JSON once filled in: {exc}") from exc
    ctype = "application/json" if api.body_type == "json" else "application/x-www-form-urlencoded"
    return ListRequest(fill(api.list_url), "POST", body.encode("utf-8"), {"Content-Type": ctype})


class JsonApiSpider(BoardSpider):
    """Requests the first list page of each company token (or once, without tokens); when the API states a
    total, every other page is scheduled at once, else pages are followed until one comes back short.
    Entries whose ``updated_field`` is not newer than the stored copy are not fetched again. A list page
    the board refuses (``message_path`` set and ``ok_path`` not ok) stops the crawl as refused."""

    name = "json_api"

    @property
    def api(self) -> JsonApiConfig:
        assert self.source.api is not None, f"source {self.source.name} has no api block"
        return self.source.api

    def page_request(self, token: str | None, page: int) -> Request:
        req = list_request(self.source, token, page)
        kwargs: dict[str, Any] = {}
        if req.method == "POST":
            kwargs = {"method": "POST", "body": req.body, "headers": req.headers}
        return self.request(req.url, self.parse_list, "list_page", cb_kwargs={"page": page, "token": token},
                            dont_filter=req.method == "POST", **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        tokens: list[str | None] = [*self.source.tokens] or [None]
        for token in tokens:
            yield self.page_request(token, self.api.first_page)

    def parse_list(self, response: Response, page: int, token: str | None = None) -> Iterator[Any]:
        api = self.api
        if response.status != 200:
            self.lost("list_page", response.url)
            return
        try:
            listing = parse_list(self.text_of(response), response.url, api)
        except ParseError as exc:
            if exc.reason == "refused":
                self.refuse(exc.detail)
                return
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
                    yield self.page_request(token, p)
            elif listing.total is None and len(listing.entries) >= api.page_size:
                yield self.page_request(token, page + 1)
        extra = {**self.source.params, **({"token": token} if token is not None else {})}
        company, country = self.source.tokens.get(token, (None, None)) if token is not None else (None, None)
        fresh: list[str] = []
        for entry in listing.entries:
            ext = get_path(entry, api.id_field)
            ext = None if ext in (None, "") else str(ext)
            if ext is not None and api.updated_field:
                modified = parse_datetime(get_path(entry, api.updated_field), tz=self.source.timezone)
                if self.known.is_fresh(modified, external_id=ext):
                    fresh.append(ext)
                    continue
            try:
                detail_url = fill_template(api.detail.url, entry, ext, extra) if api.detail and ext else None
                public = fill_template(api.url_template, entry, ext, extra) if api.url_template and ext else None
            except ParseError as exc:
                yield self.refetch_or_reject(response, exc.reason, exc.detail)
                return
            raw = posting_from_entry(entry, api, source=self.source.name, url=public or detail_url or response.url,
                                     lang=self.source.lang, company=company or self.source.company,
                                     country=country)
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
            if exc.reason == "refused":
                self.refuse(exc.detail)
                return
            yield self.refetch_or_reject(response, exc.reason, exc.detail)
