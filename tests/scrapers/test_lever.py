"""Lever parser on a recorded /v0/postings?mode=json response, and its skip/limit paging."""

from __future__ import annotations

from datetime import date

from scrapers.parsers.lever import parse_postings
from scrapers.pipelines.normalise import normalise_posting
from scrapers.spiders.lever import next_page_url
from tests.scrapers.conftest import fixture_text


def test_postings_lists_salary_range_and_remote() -> None:
    raws = parse_postings(fixture_text("lever/postings.json"), "https://api.lever.co/v0/postings/example?mode=json",
                          "lever_ex", company="Example", lang="en")
    assert len(raws) == 2
    p = normalise_posting(raws[0])
    assert (p.external_id, p.title, p.city) == ("5ac21346-8e0c-4494-8e7a-3eb92ff77902", "Logistics Coordinator",
                                                "Austin")
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (52000, 61000, "year", "USD")
    assert p.posted_at == date(2026, 3, 9)
    assert p.employment_type == "full_time"
    assert (p.board_category, p.country) == ("Operations/Supply Chain", "US")
    assert "What you'll do\n\n- Schedule carriers\n- Track shipments" in p.description
    assert p.description.endswith("We are an equal opportunity employer.")
    remote = normalise_posting(raws[1])
    assert remote.city == "Remote" and remote.salary_min is None and remote.employment_type == "contract"


def test_next_page_only_when_limit_page_is_full() -> None:
    url = "https://api.lever.co/v0/postings/example?mode=json&limit=2"
    assert next_page_url(url, 2) == "https://api.lever.co/v0/postings/example?mode=json&limit=2&skip=2"
    assert next_page_url(url, 1) is None
    assert next_page_url("https://api.lever.co/v0/postings/example?mode=json", 100) is None
