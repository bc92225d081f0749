"""Downloader middlewares of a polite crawler: retries with backoff (Retry-After honoured), request budget."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None if unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry middleware plus waiting before each retry.

    The wait is the response's ``Retry-After`` (429/503), capped at ``LW_RETRY_MAX_DELAY``, else
    ``LW_RETRY_BACKOFF_BASE * 2**attempt`` with ±25 % jitter. Waits are counted in ``lw/retry/wait_s``.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("LW_RETRY_BACKOFF_BASE", 0.5)
        self.max_delay = settings.getfloat("LW_RETRY_MAX_DELAY", 60.0)

    def _delay(self, request: Request, response: Response | None) -> float:
        attempt = request.meta.get("retry_times", 0)
        if response is not None:
            ra = retry_after_seconds(response.headers.get(b"Retry-After"))
            if ra is not None:
                return min(ra, self.max_delay)
        backoff = self.base * (2**attempt)
        return min(self.max_delay, backoff * random.uniform(0.75, 1.25))

    async def _wait(self, delay: float) -> None:
        if delay > 0:
            stats = self.crawler.stats  # seconds, a float: inc_value is typed for counts
            stats.set_value("lw/retry/wait_s", (stats.get_value("lw/retry/wait_s") or 0) + round(delay, 3))
            await asyncio.sleep(delay)

    # Scrapy awaits coroutine middleware methods; the base class declares them plain.
    async def process_response(  # type: ignore[override]
            self, request: Request, response: Response, spider: Any = None) -> Any:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(delay)
        return retry

    async def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        delay = self._delay(request, None)
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await self._wait(delay)
        return retry


class RequestBudgetMiddleware:
    """Stops a run after ``LW_MAX_REQUESTS`` requests (0 = unlimited): later requests are ignored
    (``lw/budget/ignored``) and the spider closes with reason ``request_budget``."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.budget = crawler.settings.getint("LW_MAX_REQUESTS", 0)
        self.count = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> RequestBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not self.budget:
            return None
        if self.count >= self.budget:
            self.crawler.stats.inc_value("lw/budget/ignored")
            if not self.closing:
                self.closing = True
                logger.info("request budget of %d spent; closing the spider", self.budget)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="request_budget"))
            raise IgnoreRequest(f"request budget of {self.budget} requests spent: {request.url}")
        self.count += 1
        return None


# Signatures of pages that ask for a human (bot challenges), whatever the source.
HUMAN_CHECK_MARKERS = ("/cdn-cgi/challenge-platform/", "cf-chl-", "captcha-delivery.com", "geetest_")


class BlockedPageMiddleware:
    """Stops the crawl when a board answers with a login wall or a human check instead of content: a 200
    page holding one of the source's ``blocked_markers`` (or a known challenge signature). No solving, no
    evasion: the run fails naming the source, the URL and the marker found."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> BlockedPageMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        spider = spider or self.crawler.spider
        source = getattr(spider, "source", None)
        if response.status != 200 or request.url.endswith("/robots.txt") or source is None:
            return response
        head = response.body[:200_000].decode("utf-8", errors="ignore")
        for marker in (*source.blocked_markers, *HUMAN_CHECK_MARKERS):
            if marker and marker in head:
                spider.refuse(f"{request.url} is a login wall or human check (found {marker!r}); "
                              "no CAPTCHA solving: refresh your cookies (auth file) or crawl later")
                raise IgnoreRequest(f"blocked page: {request.url}")
        return response
