"""Real Scrapy crawls (subprocess runner) against recorded pages served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from db import schema
from db.session import get_engine, session_scope
from labourwatch.settings import get_settings
from scrapers.crawl import crawl, crawl_job
from tests.scrapers.conftest import FIXTURES, StaticSite

HTML = "text/html; charset=utf-8"
XML = "application/xml"
pytestmark = pytest.mark.usefixtures("migrated_db")  # crawls need a migrated database


def _routes(base: str) -> dict[str, tuple[int, str, bytes]]:
    page = lambda name: (FIXTURES / "jobposting" / name).read_bytes()  # noqa: E731
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>2026-03-12</lastmod></url>"
                   for p in ("/jobs/g.html", "/jobs/a.html", "/private/secret.html", "/jobs/broken.html"))
    return {
        "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\nSitemap: /sitemap.xml\n"),
        "/sitemap.xml": (200, XML, (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
                                    f'schemas/sitemap/0.9"><sitemap><loc>{base}/sitemaps/jobs-1.xml</loc>'
                                    f"</sitemap></sitemapindex>").encode()),
        "/sitemaps/jobs-1.xml": (200, XML, (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                                            f'schemas/sitemap/0.9">{urls}</urlset>').encode()),
        "/jobs/g.html": (200, HTML, page("graph.html")),
        "/jobs/a.html": (200, HTML, page("array.html")),
        "/jobs/broken.html": (200, HTML, page("broken.html")),
        "/private/secret.html": (200, HTML, page("graph.html")),
        "/listing": (200, HTML, (b'<a class="job-link" href="/jobs/g.html">x</a>'
                                 b'<a class="job-link" href="/jobs/a.html">y</a><a rel="next" href="/listing2">n</a>')),
        "/listing2": (200, HTML, b'<a class="job-link" href="/jobs/broken.html">z</a>'),
    }


def _sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    f = tmp_path / "sources.yaml"
    f.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(f))
    get_settings.cache_clear()


def _stored(source: str) -> dict[str, str]:
    with session_scope(get_engine()) as s:
        rows = s.execute(select(schema.Posting.external_id, schema.Posting.title).join(schema.Source)
                         .where(schema.Source.name == source)).all()
    return dict(rows)


@pytest.mark.slow
def test_sitemap_crawl_robots_incremental_and_rejects(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      static_site: Callable[..., StaticSite]) -> None:
    site = static_site({})
    site.routes.update(_routes(site.url))
    _sources_file(tmp_path, monkeypatch, f"sources:\n  - name: rec\n    spider: jobposting\n"
                  f"    sitemap_urls: ['{site.url}/sitemap.xml']\n    download_delay: 0\n")
    first = crawl(crawl_job("rec"))
    assert first.status == "succeeded", first.error
    assert _stored("rec") == {"ACME-4471": "Senior Data Engineer", "cn-88213": "高级Java开发工程师"}
    assert first.stats.inserted == 2 and first.stats.dropped == {"invalid_jsonld": 1}
    assert first.stats.parse_retries == {"invalid_jsonld": 2}
    assert site.requests.count("/jobs/broken.html") == 3  # fetched, then refetched twice before dropping
    assert "/private/secret.html" not in site.requests and first.stats.robots_forbidden == 1

    site.requests.clear()
    second = crawl(crawl_job("rec"))
    assert second.status == "succeeded", second.error
    assert second.stats.inserted == 0 and second.stats.skipped_unchanged == 2
    assert second.stats.touched == 2
    assert "/jobs/g.html" not in site.requests and "/jobs/a.html" not in site.requests
    assert len(_stored("rec")) == 2
    with session_scope(get_engine()) as s:
        runs = s.scalars(select(schema.CrawlRun).order_by(schema.CrawlRun.id)).all()
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[1].stats["requests"] == second.stats.requests


@pytest.mark.slow
def test_adhoc_listing_crawl_and_budget(tmp_path: Path, static_site: Callable[..., StaticSite]) -> None:
    site = static_site({})
    site.routes.update(_routes(site.url))
    report = crawl(crawl_job("adhoc", spider="jobposting", url=f"{site.url}/listing"))
    assert report.status == "succeeded", report.error
    assert set(_stored("adhoc")) == {"ACME-4471", "cn-88213"}
    assert site.requests.count("/listing2") == 1
    capped = crawl(crawl_job("capped", spider="jobposting", url=f"{site.url}/listing", max_requests=2,
                   extra_settings={"CONCURRENT_REQUESTS": 1}))
    assert capped.status == "partial" and "budget" in capped.error
    assert capped.stats.requests == 2 and capped.stats.budget_ignored >= 1


@pytest.mark.slow
def test_unreachable_source_fails_without_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sources_file(tmp_path, monkeypatch, "sources:\n  - name: down\n    spider: lever\n"
                  "    start_urls: ['http://127.0.0.1:9/v0/postings/x?mode=json']\n")
    report = crawl(crawl_job("down", extra_settings={"RETRY_TIMES": 1, "LW_RETRY_BACKOFF_BASE": 0.01}))
    assert report.status == "failed"
    assert "no postings collected" in report.error
    from scrapers.crawl import CrawlFailed

    with pytest.raises(CrawlFailed, match="crawl of down"):
        crawl(crawl_job("down", extra_settings={"RETRY_TIMES": 0}), raise_on_failure=True)


@pytest.mark.slow
def test_greenhouse_and_lever_spiders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      static_site: Callable[..., StaticSite]) -> None:
    gh = (FIXTURES / "greenhouse/jobs.json").read_bytes()
    lv = (FIXTURES / "lever/postings.json").read_bytes()
    site = static_site({"/v1/boards/ex/jobs?content=true": (200, "application/json", gh),
                        "/v0/postings/ex?mode=json": (200, "application/json", lv)})
    _sources_file(tmp_path, monkeypatch, f"sources:\n  - name: gh\n    spider: greenhouse\n    company: Ex\n"
                  f"    start_urls: ['{site.url}/v1/boards/ex/jobs?content=true']\n"
                  f"  - name: lv\n    spider: lever\n    start_urls: ['{site.url}/v0/postings/ex?mode=json']\n")
    r = crawl(crawl_job("gh"))
    assert r.status == "succeeded" and r.stats.inserted == 2 and r.stats.dropped == {"missing_title": 1}
    r = crawl(crawl_job("lv"))
    assert r.status == "succeeded" and r.stats.inserted == 2
    assert set(_stored("lv")) == {"5ac21346-8e0c-4494-8e7a-3eb92ff77902", "0f2b7e8a-1111-4c3b-9d55-aa13c7d0e001"}


def _many_pages(base: str, n: int) -> dict[str, tuple[int, str, bytes]]:
    template = (FIXTURES / "jobposting" / "graph.html").read_text(encoding="utf-8")
    routes = {"/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n")}
    urls = []
    for i in range(n):
        routes[f"/jobs/{i}.html"] = (200, HTML, template.replace("ACME-4471", f"J{i}").encode())
        urls.append(f"<url><loc>{base}/jobs/{i}.html</loc><lastmod>2026-03-12</lastmod></url>")
    routes["/sitemap.xml"] = (200, XML, (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                         f'sitemap/0.9">{"".join(urls)}</urlset>').encode())
    return routes


@pytest.mark.slow
def test_sigint_pauses_and_next_crawl_resumes_from_jobdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          static_site: Callable[..., StaticSite]) -> None:
    import signal
    import subprocess
    import time

    from labourwatch.settings import child_env
    from scrapers.crawl import command, crawl_dir

    site = static_site({})
    site.routes.update(_many_pages(site.url, 60))
    from db.migrate import upgrade

    upgrade(get_engine())
    _sources_file(tmp_path, monkeypatch, f"sources:\n  - name: many\n    spider: jobposting\n"
                  f"    sitemap_urls: ['{site.url}/sitemap.xml']\n")
    slow = {"DOWNLOAD_DELAY": 0.1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
            "LW_STORE_BATCH": 5}
    proc = subprocess.Popen(command(crawl_job("many", extra_settings=slow)), env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_stored("many")) < 10:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert (crawl_dir("many") / "paused").exists()
    fetched_before = {p for p in site.requests if p.startswith("/jobs/")}
    assert 10 <= len(fetched_before) < 60
    site.requests.clear()

    resumed = crawl(crawl_job("many"))
    assert resumed.status == "succeeded", resumed.error
    assert set(_stored("many")) == {f"J{i}" for i in range(60)}
    fetched_after = {p for p in site.requests if p.startswith("/jobs/")}
    assert not fetched_before & fetched_after  # continued from the saved queue, nothing fetched twice
    assert "/sitemap.xml" not in site.requests  # the saved dupefilter knows the sitemap was read
    assert not (crawl_dir("many") / "jobdir").exists()  # finished: the queue is cleared
    with session_scope(get_engine()) as s:
        statuses = [r.status for r in s.scalars(select(schema.CrawlRun).order_by(schema.CrawlRun.id))]
    assert statuses == ["partial", "succeeded"]


@pytest.mark.slow
def test_json_api_changed_posting_is_refetched_and_updated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          static_site: Callable[..., StaticSite]) -> None:
    import json

    listing = json.loads((FIXTURES / "json_api/list.json").read_text(encoding="utf-8"))
    listing["content"]["totalCount"] = 3
    detail = json.loads((FIXTURES / "json_api/detail.json").read_text(encoding="utf-8"))

    def routes(lst: dict, bump: bool) -> dict[str, tuple[int, str, bytes]]:
        out = {"/api/positions?pageNo=1&pageSize=3": (200, "application/json", json.dumps(lst).encode())}
        for e in lst["content"]["result"]:
            d = {**detail["content"], **e, "positionDetail": f"<p>{e['positionName']} 职责</p>"}
            if bump and e["positionId"] == 9002:
                d["positionDetail"] = "<p>仓库管理员 职责（已更新）</p>"
            out[f"/api/positions/{e['positionId']}"] = (200, "application/json; charset=GBK",
                                                         json.dumps({"success": True, "content": d},
                                                                    ensure_ascii=False).encode("gbk"))
        return out

    site = static_site(routes(listing, bump=False))
    _sources_file(tmp_path, monkeypatch, f"""sources:
  - name: cnapi
    spider: json_api
    lang: zh
    download_delay: 0
    api:
      list_url: "{site.url}/api/positions?pageNo={{page}}&pageSize={{page_size}}"
      page_size: 3
      ok_path: success
      items_path: content.result
      total_path: content.totalCount
      id_field: positionId
      updated_field: updateTime
      fields: {{title: positionName, company: companyFullName, location: city, salary_text: salary,
                date_posted: createTime, experience_text: workYear}}
      detail: {{url: "{site.url}/api/positions/{{id}}", ok_path: success, path: content,
               fields: {{description: positionDetail}}}}
""")
    first = crawl(crawl_job("cnapi"))
    assert first.status == "succeeded", first.error
    assert first.stats.inserted == 3
    with session_scope(get_engine()) as s:
        desc = s.scalar(select(schema.Posting.description).where(schema.Posting.external_id == "9002"))
    assert desc == "仓库管理员 职责"  # GBK body decoded

    bumped = json.loads(json.dumps(listing))
    bumped["content"]["result"][1]["updateTime"] = "2099-01-01 00:00:00"
    site.routes.clear()
    site.routes.update(routes(bumped, bump=True))
    site.requests.clear()
    second = crawl(crawl_job("cnapi"))
    assert second.status == "succeeded", second.error
    assert (second.stats.inserted, second.stats.updated, second.stats.skipped_unchanged) == (0, 1, 2)
    assert [p for p in site.requests if p.startswith("/api/positions/")] == ["/api/positions/9002"]
    with session_scope(get_engine()) as s:
        desc = s.scalar(select(schema.Posting.description).where(schema.Posting.external_id == "9002"))
    assert desc == "仓库管理员 职责（已更新）"


@pytest.mark.slow
def test_drop_rate_over_threshold_fails_the_run(static_site: Callable[..., StaticSite]) -> None:
    site = static_site({})
    site.routes.update(_routes(site.url))
    report = crawl(crawl_job("mostly_broken", spider="jobposting", url=f"{site.url}/listing2",
                   extra_settings={"LW_DROP_RATE_MIN_ITEMS": 1, "LW_PARSE_RETRIES": 0}))
    assert report.status == "failed"
    assert report.error.startswith("drop rate 100.0% is over LW_MAX_DROP_RATE=25%")
    assert report.stats.drop_rate_exceeded is True and report.stats.dropped == {"invalid_jsonld": 1}
