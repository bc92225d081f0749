"""One path for every posting: the same job crawled from a page and imported from a CSV stores the same text
and the same content hash (both go RawPosting → normalise → validate → PostingIn)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from db import schema
from db.migrate import upgrade
from db.repo import content_hash
from db.session import get_engine, session_scope
from flows.importing import import_file
from scrapers.config import SourceConfig
from scrapers.fileimport import map_columns, row_to_posting
from scrapers.items import RawPosting, Rejected
from scrapers.parsers.jobposting import parse_page
from scrapers.pipelines.normalise import NormalisePipeline
from scrapers.pipelines.posting import PostingRules, to_posting_in
from scrapers.pipelines.validate import ValidatePipeline
from scrapers.spiders import JobPostingSpider
from tests.scrapers.conftest import StaticSite

# Untidy on purpose: spaces and a line break in the title, entities, HTML description, an employment code.
JOB = {
    "@context": "https://schema.org", "@type": "JobPosting", "identifier": {"value": "J-77"},
    "title": "  高级数据\n工程师 （Python） ", "hiringOrganization": {"name": "上海 &amp; 云启  信息技术有限公司"},
    "jobLocation": {"address": {"addressLocality": "上海市"}}, "datePosted": "2026-03-12",
    "description": "<h2>岗位职责</h2><p>负责数据平台&amp;管道的建设。</p><ul><li>设计批处理</li><li>维护 dbt 模型</li></ul>"
                   "<p>任职要求：3年以上经验。</p>",
    "employmentType": "FULL_TIME", "experienceRequirements": "3年以上", "educationRequirements": "本科",
}
PAGE = ('<!DOCTYPE html><html><head><meta charset="utf-8"><script type="application/ld+json">'
        + json.dumps(JOB, ensure_ascii=False) + "</script></head><body><h1>job</h1></body></html>")
ROW = {"id": "J-77", "title": JOB["title"], "company": JOB["hiringOrganization"]["name"], "city": "上海市",
       "posted_at": "2026-03-12", "description": JOB["description"], "experience": "3年以上", "education": "本科",
       "employment_type": "FULL_TIME"}
TEXT_FIELDS = ("external_id", "title", "company", "city", "lang", "description", "salary_text", "experience_text",
               "education_text", "employment_type", "posted_at")


def _crawled(url: str) -> object:
    """The page through the real Scrapy pipelines (normalise, validate), as a crawl hands it to the store."""
    crawler = get_crawler(JobPostingSpider)
    crawler.spider = JobPostingSpider(SourceConfig(name="crawled", spider="jobposting", start_urls=(url,)))
    crawler.spider.crawler = crawler
    crawler.stats.open_spider()
    (raw,) = parse_page(PAGE, url, "crawled")
    item = NormalisePipeline.from_crawler(crawler).process_item(raw)
    return ValidatePipeline.from_crawler(crawler).process_item(item)


def test_crawled_and_imported_posting_are_the_same() -> None:
    url = "http://board.test/jobs/j-77.html"
    crawled = _crawled(url)
    imported = row_to_posting({**ROW, "url": url}, map_columns([*ROW, "url"]), "imported")
    assert crawled.title == "高级数据 工程师 （Python）" and crawled.company == "上海 & 云启 信息技术有限公司"
    assert crawled.description.startswith("岗位职责\n\n负责数据平台&管道的建设。\n\n- 设计批处理\n- 维护 dbt 模型")
    assert crawled.employment_type == "full_time" and crawled.lang == "zh"
    assert {f: getattr(imported, f) for f in TEXT_FIELDS} == {f: getattr(crawled, f) for f in TEXT_FIELDS}
    assert content_hash(imported) == content_hash(crawled)
    # The one function the importer calls is the pipelines' steps chained.
    assert to_posting_in(parse_page(PAGE, url, "crawled")[0], PostingRules()) == crawled


def test_one_path_rejects_what_validation_rejects() -> None:
    out = to_posting_in(RawPosting(source="s", external_id="x" * 201, url="u", title="<b></b>"))
    assert isinstance(out, Rejected) and out.reason == "missing_external_id_length"
    assert out.detail == "external id is 201 characters long (at most 200); missing title"
    with pytest.raises(ValueError, match="external id is 201 characters long"):
        row_to_posting({"id": "x" * 201, "title": "Engineer"}, map_columns(["id", "title"]), "s")


@pytest.mark.slow
def test_same_job_crawled_and_imported_stores_same_text_and_hash(
        db_url: str, tmp_path: Path, static_site: Callable[..., StaticSite]) -> None:
    from scrapers.crawl import crawl, crawl_job

    site = static_site({"/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n"),
                        "/jobs": (200, "text/html", b'<a class="job-link" href="/jobs/j-77.html">j</a>'),
                        "/jobs/j-77.html": (200, "text/html; charset=utf-8", PAGE.encode())})
    upgrade(get_engine())
    report = crawl(crawl_job("crawled", spider="jobposting", url=f"{site.url}/jobs",
                             extra_settings={"DOWNLOAD_DELAY": 0}))
    assert report.status == "succeeded", report.error
    path = tmp_path / "jobs.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=[*ROW, "url"])
        w.writeheader()
        w.writerow({**ROW, "url": f"{site.url}/jobs/j-77.html"})
    assert import_file(path, source="imported").inserted == 1

    P = schema.Posting
    with session_scope(get_engine()) as s:
        rows = {src: row for src, row in s.execute(select(schema.Source.name, P).join(schema.Source))}
        stored = {src: ({f: getattr(p, f) for f in (*TEXT_FIELDS, "url")}, p.content_hash)
                  for src, p in rows.items()}
    assert stored["crawled"] == stored["imported"]
    assert stored["crawled"][0]["title"] == "高级数据 工程师 （Python）"
