"""Base spider: one configured source, robust body decoding, refetch-or-reject for pages that do not parse."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Request, Response

from scrapers.config import SourceConfig, load_auth
from scrapers.incremental import KnownPostings
from scrapers.items import Rejected

logger = logging.getLogger(__name__)

SPIDERS: dict[str, type[BoardSpider]] = {}


def decode_body(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding actually used). Valid UTF-8 wins over a wrong declaration, then the declared
    encoding, then GB18030, then charset detection; a body no decoder accepts is decoded with
    replacement characters and reported as ``replace``."""
    for enc in ("utf-8", declared, "gb18030"):
        if not enc:
            continue
        try:
            return body.decode(enc), enc
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body).best()
        if best is not None and best.encoding:
            return str(best), best.encoding
    except Exception:  # detection is a last resort; fall through to replacement
        pass
    return body.decode("utf-8", errors="replace"), "replace"


class BoardSpider(scrapy.Spider):
    """A spider for one board format, run for one configured source.

    Subclasses must set ``name`` (the spider slug used in sources.yaml) and define ``async def start``;
    both are checked when the class is defined, so a broken spider fails at import, not mid-crawl.
    """

    name: str  # set by every subclass at class level (checked in __init_subclass__)
    known: KnownPostings

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"spider {cls.__qualname__} must set `name` to its slug (got {name!r})")
        start = cls.__dict__.get("start")
        if start is None or not inspect.isasyncgenfunction(start):
            raise TypeError(f"spider {cls.__qualname__} must define `async def start(self)` yielding requests")
        if name in SPIDERS and SPIDERS[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"two spiders are named {name!r}: {SPIDERS[name].__qualname__} and {cls.__qualname__}")
        SPIDERS[name] = cls

    def __init__(self, source: SourceConfig, **kwargs: Any) -> None:
        if source.spider != self.name:
            raise ValueError(f"source {source.name!r} is configured for spider {source.spider!r}, not {self.name!r}")
        super().__init__(name=self.name, **kwargs)
        self.source = source
        self.allowed_domains = list(source.domains())
        self.known = KnownPostings(enabled=False)
        self.parse_retries = 2
        self.auth_headers = load_auth(source)
        self.refused: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BoardSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.parse_retries = crawler.settings.getint("LW_PARSE_RETRIES", 2)
        return spider

    async def start(self) -> AsyncIterator[Any]:  # pragma: no cover - every subclass defines it
        raise NotImplementedError
        yield

    # --- helpers for subclasses ----------------------------------------------------------------

    def text_of(self, response: Response) -> str:
        """The body as text whatever the server declared (counted in ``lw/encoding/<used>`` when the
        declaration was wrong)."""
        declared = getattr(response, "encoding", None)
        text, used = decode_body(response.body, declared)
        if declared and used.replace("-", "").lower() != declared.replace("-", "").lower() and (
            not response.body.isascii()
        ):
            self.crawler.stats.inc_value(f"lw/encoding/fixed_{used}")
        return text

    def refetch_or_reject(self, response: Response, reason: str, detail: str = "") -> Request | Rejected:
        """Fetch the page again (a truncated or garbled copy heals on the next try) up to ``LW_PARSE_RETRIES``
        times; after that the page is rejected and counted under ``lw/dropped/<reason>``."""
        tries = response.meta.get("lw_parse_retries", 0)
        if tries < self.parse_retries:
            self.crawler.stats.inc_value(f"lw/parse_retry/{reason}")
            meta = {**response.meta, "lw_parse_retries": tries + 1}
            for key in ("download_slot", "download_latency", "depth", "retry_times", "download_timeout"):
                meta.pop(key, None)
            return response.request.replace(dont_filter=True, meta=meta)  # type: ignore[union-attr]
        logger.warning("rejecting %s after %d refetches: %s %s", response.url, tries, reason, detail)
        return Rejected(source=self.source.name, url=response.url, reason=reason, detail=detail[:300])

    def lost(self, what: str, url: str) -> None:
        """A list or sitemap page that could not be read: whatever it listed is missing from this run."""
        self.crawler.stats.inc_value(f"lw/lost/{what}")
        logger.error("lost %s %s: the postings it lists are missing from this run", what, url)

    def request(self, url: str, callback: Any, kind: str = "detail", **kwargs: Any) -> Request:
        """A request whose failure after all retries is counted: ``lw/lost/<kind>`` (or ``lw/gone/<kind>``
        for 404/410). List and sitemap pages (kind != detail) go ahead of details."""
        meta = {**kwargs.pop("meta", {}), "lw_kind": kind}
        if self.source.render:
            meta["playwright"] = True
            if self.source.render_wait:
                from scrapy_playwright.page import PageMethod

                meta["playwright_page_methods"] = [PageMethod("wait_for_selector", self.source.render_wait)]
        priority = kwargs.pop("priority", 0 if kind == "detail" else 10)
        headers = {**self.auth_headers, **(kwargs.pop("headers", None) or {})}
        return Request(url, callback, errback=self.on_error, meta=meta, priority=priority,
                       headers=headers or None, **kwargs)

    def refuse(self, why: str) -> None:
        """The board refused us (login wall, expired token, 403, human check): stop the crawl and say so;
        the run fails with this message instead of reporting an empty crawl as success."""
        if self.refused is None:
            self.refused = f"{self.source.name} refused the crawl: {why}"
            self.crawler.stats.set_value("lw/refused", self.refused)
            logger.error("%s", self.refused)
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason="refused"))

    def on_error(self, failure: Any) -> None:
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        request = getattr(failure, "request", None)
        kind = request.meta.get("lw_kind", "detail") if request is not None else "detail"
        url = request.url if request is not None else "?"
        if failure.check(HttpError) and failure.value.response.status in (404, 410):
            self.crawler.stats.inc_value(f"lw/gone/{kind}")
            return
        if failure.check(HttpError) and failure.value.response.status in (401, 403):
            status = failure.value.response.status
            self.refuse(f"HTTP {status} for {url} (a login wall, an expired cookie/token or a block; "
                        "check your auth file with `labourwatch sources check`)")
            return
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # robots.txt, offsite or the request budget: counted by their own stats
        self.lost(kind, url)
