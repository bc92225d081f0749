"""Pipelines, middlewares and the base spider in isolation (no reactor, no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from scrapers.config import SourceConfig
from scrapers.incremental import KnownPostings
from scrapers.items import Posting, RawPosting, Rejected
from scrapers.middlewares import retry_after_seconds
from scrapers.pipelines.dedupe import DedupePipeline
from scrapers.pipelines.normalise import NormalisePipeline
from scrapers.pipelines.validate import ValidatePipeline, check_posting
from scrapers.spiders import JobPostingSpider
from scrapers.spiders.base import BoardSpider, decode_body


def _posting(**kw: object) -> Posting:
    base = {"source": "s", "external_id": "1", "url": "http://x/1", "title": "Engineer"}
    return Posting(**{**base, **kw})  # type: ignore[arg-type]


def _crawler(**settings: object):  # noqa: ANN202
    crawler = get_crawler(JobPostingSpider, settings_dict=settings)
    crawler.spider = JobPostingSpider(SourceConfig(name="s", spider="jobposting", start_urls=("http://x/",)))
    crawler.spider.crawler = crawler
    crawler.stats.open_spider()
    return crawler


TODAY = date(2026, 3, 20)  # a frozen clock: check_posting reads "today" through posting.today_in


def test_check_posting_required_and_optional_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    import scrapers.pipelines.posting as posting

    monkeypatch.setattr(posting, "today_in", lambda tz="Asia/Shanghai": TODAY)
    p, required, optional = check_posting(_posting(title=None, external_id=""))
    assert required == ["external_id", "title"]
    future = TODAY + timedelta(days=30)
    p, required, optional = check_posting(_posting(posted_at=future, salary_min=30000, salary_max=20000))
    assert required == [] and optional == ["posted_at", "salary"]
    assert p.posted_at is None and p.salary_min is None and p.salary_max is None


def test_validate_counts_per_field_and_drop_rate() -> None:
    crawler = _crawler(LW_MAX_DROP_RATE=0.3, LW_DROP_RATE_MIN_ITEMS=4)
    v = ValidatePipeline.from_crawler(crawler)
    for i in range(3):
        v.process_item(_posting(external_id=str(i)))
    with pytest.raises(DropItem):
        v.process_item(_posting(title=None))
    with pytest.raises(DropItem):
        v.process_item(Rejected(source="s", url="http://x/9", reason="invalid_jsonld"))
    v.close_spider()
    stats = crawler.stats.get_stats()
    assert stats["lw/validate/title"] == 1
    assert stats["lw/dropped/missing_title"] == 1 and stats["lw/dropped/invalid_jsonld"] == 1
    assert stats["lw/drop_rate"] == 0.4 and stats["lw/drop_rate_exceeded"] == 1
    # The refused pages' URLs, once each, so reports can count distinct pages across runs.
    assert stats["lw/rejected_urls"] == ["http://x/1", "http://x/9"]


def test_drop_rate_counts_postings_skipped_as_unchanged() -> None:
    crawler = _crawler(LW_MAX_DROP_RATE=0.25, LW_DROP_RATE_MIN_ITEMS=4)
    v = ValidatePipeline.from_crawler(crawler)
    crawler.stats.inc_value("lw/items/seen_unchanged", 99)  # a recrawl: everything else is unchanged
    with pytest.raises(DropItem):
        v.process_item(Rejected(source="s", url="http://x/9", reason="invalid_jsonld"))
    v.close_spider()
    assert crawler.stats.get_value("lw/drop_rate") == 0.01
    assert crawler.stats.get_value("lw/drop_rate_exceeded") is None


def test_normalise_then_dedupe_drops_repeats_in_a_run() -> None:
    crawler = _crawler()
    n = NormalisePipeline.from_crawler(crawler)
    d = DedupePipeline.from_crawler(crawler)
    d.open_spider()
    raw = RawPosting(source="s", external_id=" 7 ", url="u", title="<b>Java</b>  开发", salary_text="8千-1.2万")
    p = n.process_item(raw)
    assert (p.external_id, p.title, p.salary_min, p.salary_max, p.lang) == ("7", "Java 开发", 8000, 12000, "zh")
    assert d.process_item(p) is p
    with pytest.raises(DropItem, match="duplicate of s:7"):
        d.process_item(p)
    assert crawler.stats.get_value("lw/duplicates_in_run") == 1


def test_known_postings_freshness() -> None:
    seen = datetime(2026, 3, 20, tzinfo=UTC)
    known = KnownPostings(by_id={"a": seen.replace(tzinfo=None)}, by_url={"http://x/a": seen})
    assert known.is_fresh(datetime(2026, 3, 12, tzinfo=UTC), external_id="a")
    assert known.is_fresh(datetime(2026, 3, 12, tzinfo=UTC), url="http://x/a")
    assert not known.is_fresh(datetime(2026, 3, 21, tzinfo=UTC), external_id="a")  # changed since
    assert not known.is_fresh(None, external_id="a")  # no lastmod: fetch
    assert not known.is_fresh(datetime(2026, 1, 1, tzinfo=UTC), external_id="b")  # not stored
    assert not KnownPostings(by_id={"a": seen}, enabled=False).is_fresh(datetime(2026, 1, 1, tzinfo=UTC),
                                                                        external_id="a")


def test_known_postings_round_page_times_up() -> None:
    seen = datetime(2026, 3, 20, 10, 0, 0, 500_000, tzinfo=UTC)
    known = KnownPostings(by_id={"a": seen})
    assert known.is_fresh(datetime(2026, 3, 20, 10, 0, 0, tzinfo=UTC), external_id="a")
    # changed later within the same second as it was seen: fetch it rather than risk a stale copy
    assert not known.is_fresh(datetime(2026, 3, 20, 10, 0, 0, 700_000, tzinfo=UTC), external_id="a")


def test_known_postings_from_rows_is_compact() -> None:
    import tracemalloc

    base = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    n = 200_000

    def rows():  # type: ignore[no-untyped-def]
        for i in range(n):
            yield f"ext-{i}", (f"https://board.example/jobs/{i}" if i % 2 else None), \
                datetime.fromtimestamp(base + i, tz=UTC)

    tracemalloc.start()
    known = KnownPostings.from_rows(rows())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(known) == n
    # ~16 bytes a posting and index; dictionaries of strings to datetimes take ~39 MB for these rows
    assert peak < 20 * 2**20, peak
    for i in (0, 1, 12_345, n - 1):
        at = datetime.fromtimestamp(base + i, tz=UTC)
        assert known.is_fresh(at, external_id=f"ext-{i}")
        assert not known.is_fresh(datetime.fromtimestamp(base + i + 1, tz=UTC), external_id=f"ext-{i}")
        assert known.is_fresh(at, url=f"https://board.example/jobs/{i}") == bool(i % 2)
    assert not known.is_fresh(datetime.fromtimestamp(base, tz=UTC), external_id="ext-unknown")


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 3, 12, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"3") == 3.0
    assert retry_after_seconds("Thu, 12 Mar 2026 10:00:05 GMT", now=now) == 5.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_decode_body_survives_wrong_declarations() -> None:
    text = "数据分析师 15-25K"
    assert decode_body(text.encode("gbk"), "utf-8") == (text, "gb18030")
    assert decode_body(text.encode("utf-8"), "gbk") == (text, "utf-8")
    assert decode_body(text.encode("gbk"), "gbk")[0] == text


def test_base_spider_checks_subclasses_at_definition() -> None:
    with pytest.raises(TypeError, match="must set `name`"):
        type("NoName", (BoardSpider,), {"start": JobPostingSpider.start})
    with pytest.raises(TypeError, match="async def start"):
        type("NoStart", (BoardSpider,), {"name": "nostart"})
    with pytest.raises(ValueError, match="configured for spider 'lever'"):
        JobPostingSpider(SourceConfig(name="s", spider="lever", start_urls=("http://x/",)))


def test_judge_statuses() -> None:
    from dataclasses import replace

    from labourwatch.contract import CrawlStats
    from scrapers.crawl_process import judge

    ok = CrawlStats(finish_reason="finished", items_scraped=5, skipped_unchanged=0, lost={}, response_count=6,
                    dropped={}, drop_rate=0.0, requests=6)
    assert judge(ok, 0.25) == ("succeeded", None)
    assert judge(replace(ok, lost={"detail": 2}), 0.25)[0] == "partial"
    assert judge(replace(ok, finish_reason="request_budget"), 0.25)[0] == "partial"
    status, error = judge(replace(ok, drop_rate_exceeded=True, drop_rate=0.5, dropped={"invalid_json": 5}), 0.25)
    assert status == "failed" and "drop rate 50.0%" in error and "invalid_json=5" in error
    assert judge(replace(ok, items_scraped=0, lost={"list_page": 1}), 0.25)[0] == "failed"
    assert judge(replace(ok, store_error="OperationalError: locked"), 0.25)[0] == "failed"
