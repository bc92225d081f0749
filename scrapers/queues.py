"""Scheduler disk queue (JOBDIR) that serialises requests as Scrapy does, with a cheap callback lookup."""

from __future__ import annotations

import inspect
from typing import Any

from scrapy.squeues import PickleFifoDiskQueue


class _CallbackNames:
    """Stands in for the spider while Scrapy's ``Request.to_dict`` looks up callback names.

    ``to_dict`` finds a callback's name with ``inspect.getmembers(spider)``, which reads every attribute of the
    spider (settings, logger, crawler, ...) for every request; that was a tenth of a crawl's CPU. This
    object lists only the functions defined on the spider's class and hands out the spider's own bound
    methods, so the names found (and so the queue's content) are exactly what Scrapy would have written.
    """

    def __init__(self, spider: Any) -> None:
        self._spider = spider
        names = {name for klass in type(spider).__mro__ for name, value in vars(klass).items()
                 if inspect.isfunction(value) or isinstance(value, classmethod)}
        names.update(name for name, value in vars(spider).items() if inspect.ismethod(value))
        self._names = sorted(names)
        self._hint: list[str] = []

    def for_request(self, request: Any) -> _CallbackNames:
        """Look the request's callback and errback up under their own names first (one getattr each)."""
        hint: list[str] = []
        for func in (request.callback, request.errback):
            if func is None:
                continue
            name = getattr(func, "__name__", None)
            method = getattr(self._spider, name, None) if isinstance(name, str) else None
            if not isinstance(name, str) or method is None or getattr(method, "__func__", None) is not getattr(func, "__func__", method):
                hint = []  # not a method of the spider under its own name: let Scrapy search them all
                break
            hint.append(name)
        self._hint = hint
        return self

    def __dir__(self) -> list[str]:
        return self._hint or self._names

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spider, name)

    def __bool__(self) -> bool:
        return True


class FastPickleFifoDiskQueue(PickleFifoDiskQueue):  # type: ignore[misc,valid-type]
    """``scrapy.squeues.PickleFifoDiskQueue`` (same on-disk format, so paused crawls resume either way)."""

    def push(self, request: Any) -> None:
        names = getattr(self, "_lw_names", None)
        if names is None or names._spider is not self.spider:
            names = self._lw_names = _CallbackNames(self.spider)
        # the serialising base class, skipping PickleFifoDiskQueue.push (which would look names up again)
        super(PickleFifoDiskQueue, self).push(  # type: ignore[misc]  # the base is untyped to mypy
request.to_dict(spider=names.for_request(request)))
