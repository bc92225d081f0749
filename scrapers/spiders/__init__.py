"""Spiders by slug: jobposting, json_api, greenhouse, lever (each registered by BoardSpider)."""

from __future__ import annotations

from scrapers.spiders.base import SPIDERS, BoardSpider
from scrapers.spiders.greenhouse import GreenhouseSpider
from scrapers.spiders.jobposting import JobPostingSpider
from scrapers.spiders.json_api import JsonApiSpider
from scrapers.spiders.lever import LeverSpider

__all__ = ["SPIDERS", "BoardSpider", "GreenhouseSpider", "JobPostingSpider", "JsonApiSpider", "LeverSpider",
           "spider_class"]


def spider_class(name: str) -> type[BoardSpider]:
    """The spider registered as ``name``; the error lists the known slugs."""
    try:
        return SPIDERS[name]
    except KeyError:
        raise KeyError(f"no spider named {name!r}; known: {sorted(SPIDERS)}") from None
