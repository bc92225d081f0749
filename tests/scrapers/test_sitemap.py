"""Sitemap parser: indexes, urlsets with lastmod, gzip, and cut-short files that must not pass silently."""

from __future__ import annotations

import gzip

import pytest

from scrapers.parsers import ParseError
from scrapers.parsers.sitemap import SitemapEntry, parse_sitemap, sitemaps_from_robots
from tests.scrapers.conftest import FIXTURES


def test_index_and_urlset() -> None:
    index = parse_sitemap((FIXTURES / "sitemap/index.xml").read_bytes(), "i")
    assert index.kind == "sitemapindex"
    assert [e.loc for e in index.entries] == ["https://board.example/sitemaps/jobs-1.xml",
                                              "https://board.example/sitemaps/jobs-2.xml"]
    urlset = parse_sitemap(gzip.compress((FIXTURES / "sitemap/urlset.xml").read_bytes()), "u.xml.gz")
    assert urlset.kind == "urlset"
    assert urlset.entries[0] == SitemapEntry("https://board.example/jobs/a1.html", "2026-03-12T10:22:01+08:00")
    assert urlset.entries[2].lastmod is None


def test_truncated_sitemap_is_an_error_not_a_prefix() -> None:
    body = (FIXTURES / "sitemap/urlset.xml").read_bytes()
    with pytest.raises(ParseError) as err:
        parse_sitemap(body[: len(body) // 2], "https://board.example/sitemaps/jobs-1.xml")
    assert err.value.reason == "invalid_sitemap" and "jobs-1.xml" in str(err.value)


def test_sitemaps_from_robots() -> None:
    text = "User-agent: *\nDisallow: /private/\nSitemap: /sitemap.xml\n"
    assert sitemaps_from_robots(text, "http://h:1/robots.txt") == ["http://h:1/sitemap.xml"]
