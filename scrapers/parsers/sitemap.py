"""Sitemaps and sitemap indexes (plain or gzipped) to (loc, lastmod) entries; strict, so a cut file is noticed."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from lxml import etree

from scrapers.parsers import ParseError


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """``kind`` is ``urlset`` (pages) or ``sitemapindex`` (further sitemaps)."""

    kind: str
    entries: tuple[SitemapEntry, ...]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Every entry of a sitemap or sitemap index. A body that is not complete, well-formed XML (a
    transfer cut short) raises ParseError ``invalid_sitemap`` instead of yielding a silent prefix."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise ParseError("invalid_sitemap", f"{url}: broken gzip: {exc}") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True)
    try:
        root = etree.fromstring(body.strip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError("invalid_sitemap", f"{url}: {exc}") from exc
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise ParseError("invalid_sitemap", f"{url}: root element is <{kind}>, not urlset/sitemapindex")
    entries = []
    for el in root:
        if _local(el.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = None
        for child in el:
            name = _local(child.tag)
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name == "lastmod" and child.text:
                lastmod = child.text.strip()
        if loc:
            entries.append(SitemapEntry(loc, lastmod))
    return Sitemap(kind, tuple(entries))


def sitemaps_from_robots(text: str, base_url: str) -> list[str]:
    """``Sitemap:`` lines of a robots.txt, as absolute URLs."""
    from urllib.parse import urljoin

    out = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            out.append(urljoin(base_url, value.strip()))
    return out
