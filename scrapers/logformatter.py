"""Log formatter that reports dropped items in one line (reason and URL), not the whole item."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class QuietDropLogFormatter(logformatter.LogFormatter):
    """Drops are counted in crawl stats; the log keeps one INFO line each instead of a full item dump."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def scraped(self, item: Any, response: Any, spider: Any = None) -> Any:
        return {"level": logging.DEBUG, "msg": "Scraped %(kind)s from %(src)s",
                "args": {"kind": type(item).__name__, "src": getattr(response, "url", response)}}
