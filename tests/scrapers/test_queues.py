"""The JOBDIR disk queue writes what Scrapy's own queue writes, and reads it back into working requests."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from queuelib import FifoDiskQueue
from scrapy import Request
from scrapy.utils.test import get_crawler

from scrapers.config import SourceConfig
from scrapers.queues import FastPickleFifoDiskQueue
from scrapers.spiders import JobPostingSpider


def _crawler():  # noqa: ANN202
    crawler = get_crawler(JobPostingSpider)
    crawler.spider = JobPostingSpider(SourceConfig(name="s", spider="jobposting", start_urls=("http://x/",)))
    crawler.spider.crawler = crawler
    return crawler


def test_disk_queue_matches_scrapy_and_round_trips(tmp_path: Path) -> None:
    crawler = _crawler()
    spider = crawler.spider
    spider.alias = spider.parse_listing  # a bound method kept on the instance under another name
    requests = [
        spider.request("http://x/jobs/1.html", spider.parse_detail),
        spider.request("http://x/sitemap.xml", spider.parse_sitemap, "sitemap"),
        Request("http://x/jobs?page=2", callback=spider.alias, meta={"k": 1}, priority=3),
        Request("http://x/plain"),  # no callback, no errback
    ]
    q = FastPickleFifoDiskQueue.from_crawler(crawler, str(tmp_path / "q"))
    for r in requests:
        q.push(r)
    assert len(q) == len(requests)
    q.close()

    # On disk: exactly the dicts Scrapy's own serialisation gives (a paused crawl resumes with either queue).
    from scrapy.squeues import PickleFifoDiskQueue

    theirs = PickleFifoDiskQueue.from_crawler(crawler, str(tmp_path / "theirs"))
    for r in requests:
        theirs.push(r)
    theirs.close()
    raw_ours, raw_theirs = FifoDiskQueue(str(tmp_path / "q")), FifoDiskQueue(str(tmp_path / "theirs"))
    for _ in requests:
        ours_d, theirs_d = pickle.loads(raw_ours.pop()), pickle.loads(raw_theirs.pop())
        # the alias may be written under either name; both resolve to the same method
        if ours_d["callback"] != theirs_d["callback"]:
            assert getattr(spider, ours_d["callback"]).__func__ is getattr(spider, theirs_d["callback"]).__func__
            ours_d["callback"] = theirs_d["callback"]
        assert pickle.dumps(ours_d) == pickle.dumps(theirs_d)
    raw_ours.close()
    raw_theirs.close()

    reopened = FastPickleFifoDiskQueue.from_crawler(crawler, str(tmp_path / "theirs2"))
    for r in requests:
        reopened.push(r)
    for r in requests:
        back = reopened.pop()
        assert back.url == r.url and back.meta == r.meta and back.priority == r.priority
        for got, want in ((back.callback, r.callback), (back.errback, r.errback)):
            assert (got is None and want is None) or got.__func__ is want.__func__
    assert reopened.pop() is None
    reopened.close()


def test_disk_queue_refuses_callbacks_that_are_not_spider_methods(tmp_path: Path) -> None:
    # Scrapy's scheduler keeps such requests in memory instead: the queue must raise as Scrapy's does.
    crawler = _crawler()
    q = FastPickleFifoDiskQueue.from_crawler(crawler, str(tmp_path / "q"))
    with pytest.raises(ValueError, match="not an instance method"):
        q.push(Request("http://x/", callback=lambda r: None))

    class Other:
        def parse_detail(self, response: object) -> None:  # the spider's callback name, another function
            return None

    with pytest.raises(ValueError, match="not an instance method"):
        q.push(Request("http://x/", callback=Other().parse_detail))
    assert len(q) == 0
    q.close()
