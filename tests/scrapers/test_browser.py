"""Browser rendering: a local board whose listing links and JobPosting JSON-LD are built by JavaScript, crawled
through a real headless chromium (scrapy-playwright); a human-check page stops the crawl and says so."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from db import schema
from db.session import get_engine, session_scope
from labourwatch.settings import get_settings
from scrapers.crawl import crawl, crawl_job
from tests.scrapers.conftest import StaticSite

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("migrated_db"),
              pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")]

HTML = "text/html; charset=utf-8"

LISTING = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>jobs</title></head><body><ul id="jobs"></ul>
<script>
  // the board builds its list in the browser: no links in the HTML as served
  for (const id of ["js-101", "js-102"]) {
    const a = document.createElement("a");
    a.className = "job-link"; a.href = "/job/" + id; a.textContent = id;
    const li = document.createElement("li"); li.appendChild(a); document.getElementById("jobs").appendChild(li);
  }
</script></body></html>"""


def _job(ident: str, title: str) -> bytes:
    return ("""<!DOCTYPE html><html><head><meta charset="utf-8"><title>job</title></head><body><div id="app"></div>
<script>
  const posting = {"@context": "https://schema.org", "@type": "JobPosting", "identifier": "IDENT", "title": "TITLE",
    "hiringOrganization": {"@type": "Organization", "name": "Canvas Works"}, "datePosted": "2026-03-10",
    "occupationalCategory": "Engineering/Frontend", "experienceRequirements": "3-5 years",
    "description": "<p>Build the board in " + ["Type", "Script"].join("") + ".</p>",
    "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Leeds",
                                                  "addressCountry": "GB"}}};
  const s = document.createElement("script"); s.type = "application/ld+json"; s.text = JSON.stringify(posting);
  document.head.appendChild(s);
  document.getElementById("app").textContent = posting.title;
</script></body></html>""").replace("IDENT", ident).replace("TITLE", title).encode()


def _sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    f = tmp_path / "sources.yaml"
    f.write_text(f"""sources:
  - name: jsboard
    spider: jobposting
    country: GB
    lang: en
    render: true
    render_wait: "#jobs li, #app"
    download_delay: 0
    max_requests: 20
    start_urls: ["{url}/jobs"]
""", encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(f))
    get_settings.cache_clear()


def test_javascript_board_crawled_in_headless_chromium(static_site: Callable[..., StaticSite], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = static_site({"/jobs": (200, HTML, LISTING), "/job/js-101": (200, HTML, _job("js-101", "Frontend Engineer")),
                        "/job/js-102": (200, HTML, _job("js-102", "QA Engineer"))})
    _sources(tmp_path, monkeypatch, site.url)
    first = crawl(crawl_job("jsboard"), timeout=180)
    assert first.status == "succeeded", (first.error, first.stats)
    with session_scope(get_engine()) as s:
        rows = {p.external_id: (p.title, p.company, p.city, str(p.posted_at), p.description, p.board_category,
                                p.experience_text, p.country) for p in s.scalars(select(schema.Posting))}
    assert rows == {
        "js-101": ("Frontend Engineer", "Canvas Works", "Leeds", "2026-03-10", "Build the board in TypeScript.",
                   "Engineering/Frontend", "3-5 years", "GB"),
        "js-102": ("QA Engineer", "Canvas Works", "Leeds", "2026-03-10", "Build the board in TypeScript.",
                   "Engineering/Frontend", "3-5 years", "GB"),
    }
    assert "/robots.txt" in site.requests  # robots.txt still asked (outside the browser)
    second = crawl(crawl_job("jsboard"), timeout=180)
    assert second.status == "succeeded" and second.stats.inserted == 0 and second.stats.updated == 0


def test_human_check_in_the_browser_stops_the_crawl(static_site: Callable[..., StaticSite], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    challenge = (b"<html><head><title>Just a moment...</title></head><body><div id='jobs'><li>wait</li></div>"
                 b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>")
    site = static_site({"/jobs": (200, HTML, challenge)})
    _sources(tmp_path, monkeypatch, site.url)
    report = crawl(crawl_job("jsboard"), timeout=180)
    assert report.status == "failed"
    assert "jsboard refused the crawl" in report.error and "human check" in report.error


def test_sources_check_renders_the_page(static_site: Callable[..., StaticSite], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapers.check import check_source
    from scrapers.config import load_sources

    site = static_site({"/jobs": (200, HTML, LISTING), "/job/js-101": (200, HTML, _job("js-101", "Frontend Engineer")),
                        "/job/js-102": (200, HTML, _job("js-102", "QA Engineer"))})
    _sources(tmp_path, monkeypatch, site.url)
    report = check_source(load_sources()["jsboard"])
    assert [(s.what, s.ok) for s in report.steps] == [("listing", True), ("detail", True)], report.steps
    assert report.listed == 2 and report.ok
    assert (report.fields["title"], report.fields["board_category"], report.fields["country"]) == (
        "Frontend Engineer", "Engineering/Frontend", "GB")
