"""The brief counts refused pages once each, however many crawl runs met them."""

from __future__ import annotations

from brief.data import distinct_rejects as _distinct_rejects
from labourwatch.contract import CrawlStats


def distinct_rejects(runs: list[dict]) -> int:
    return _distinct_rejects([CrawlStats.from_dict(r) for r in runs])


def test_rejects_are_counted_per_distinct_page() -> None:
    night = {"dropped": {"no_jobposting": 2}, "rejected_urls": ["http://b/1.html", "http://b/2.html"]}
    again = {"dropped": {"no_jobposting": 3}, "rejected_urls": ["http://b/1.html", "http://b/2.html",
                                                                 "http://b/3.html"]}
    assert distinct_rejects([night, again, night]) == 3
    # Runs from before URLs were recorded: the largest run, not the sum over runs.
    assert distinct_rejects([{"dropped": {"invalid_json": 100}}, {"dropped": {"invalid_json": 100}}]) == 100
    # Imports refuse rows of files that are not read again: those add up.
    assert distinct_rejects([{"rejected": 4}, {"rejected": 5}, night]) == 11
    assert distinct_rejects([]) == 0
