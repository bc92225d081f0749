"""JobPosting parser on recorded pages: @graph, arrays, escaped HTML, microdata, broken JSON-LD."""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.parsers import ParseError
from scrapers.parsers.jobposting import listing_links, parse_page
from scrapers.pipelines.normalise import normalise_posting
from tests.scrapers.conftest import fixture_text


def parse_one(name: str, url: str):  # noqa: ANN201
    (raw,) = parse_page(fixture_text(f"jobposting/{name}"), url, "test")
    return raw, normalise_posting(raw)


def test_graph_with_monetary_amount_and_location_list() -> None:
    raw, p = parse_one("graph.html", "https://careers.acme.example/jobs/senior-data-engineer/")
    assert raw.external_id == "ACME-4471"
    assert (p.title, p.company, p.city) == ("Senior Data Engineer", "Acme Analytics Ltd", "London")
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (50000, 60000, "year", "GBP")
    assert p.posted_at == date(2026, 3, 12)
    assert p.experience_text == "3+ years of experience"
    assert p.education_text == "bachelor degree"
    assert p.lang == "en" and p.employment_type == "full_time"
    assert p.description == ("About the role\n\nYou will build and run our data platform & pipelines.\n\n"
                             "What you will do\n\n- Design batch and streaming pipelines\n- Own our dbt models\n\n"
                             "Hybrid: two days a week in the office.")
    assert raw.raw_hash and len(raw.raw_hash) == 64


def test_top_level_array_chinese_posting_with_escaped_html() -> None:
    raw, p = parse_one("array.html", "https://jobs.example.cn/job/88213.html")
    assert raw.external_id == "cn-88213"
    assert (p.title, p.company, p.city) == ("高级Java开发工程师", "深圳星河科技有限公司", "深圳")
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (25000, 25000, "month", "CNY")
    assert p.experience_text == "3-5年" and p.education_text == "本科"
    assert p.lang == "zh"
    assert p.description == "岗位职责：\n\n1. 负责交易系统后端开发；\n2. 参与架构设计。\n\n任职要求：3-5年Java开发经验"


def test_indeed_like_remote_hourly_multiple_employment_types() -> None:
    raw, p = parse_one("indeed_like.html", "https://www.indeed.example/viewjob?jk=9f8e7d6c5b4a")
    assert raw.external_id == "viewjob"  # no identifier: the URL's last segment
    assert p.city == "Remote"
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (24.5, 24.5, "hour", "USD")
    assert p.employment_type == "full_time,contractor"
    assert p.posted_at == date(2026, 3, 10)
    assert "- Experience with AI tools such as ChatGPT" in p.description
    assert p.description.startswith("Responsibilities\nAnswer customer tickets")


def test_microdata_with_nested_items() -> None:
    raw, p = parse_one("microdata.html", "https://northline.example/careers/wh-118")
    assert raw.external_id == "WH-2026-118"
    assert (p.title, p.company, p.city) == ("Warehouse Operative (Nights)", "Northline Logistics", "Leeds")
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (12.5, 14.0, "hour", "GBP")
    assert p.posted_at == date(2026, 2, 27)
    assert p.description == "Picking and packing orders on night shifts.\n\n- No experience required\n- Forklift licence a plus"


def test_commented_jsonld_with_trailing_comma_and_months_of_experience() -> None:
    raw, p = parse_one("linkedin_like.html", "https://www.linkedin.example/jobs/view/3871129901")
    assert raw.external_id == "3871129901"
    assert (p.title, p.company, p.city) == ("Product Designer", "Lumen Labs", "上海")
    assert p.posted_at == date(2026, 3, 5)
    assert p.experience_text == "18+ months of experience"
    assert p.description == "Lumen is hiring a Product Designer.\n\nYou will own UX for our mobile app."


def test_broken_jsonld_raises_with_reason_and_url() -> None:
    with pytest.raises(ParseError) as err:
        parse_page(fixture_text("jobposting/broken.html"), "https://x.example/jobs/1.html", "test")
    assert err.value.reason == "invalid_jsonld"
    assert "https://x.example/jobs/1.html" in str(err.value)


def test_page_without_posting() -> None:
    with pytest.raises(ParseError) as err:
        parse_page("<html><body><h1>About us</h1></body></html>", "https://x.example/about", "test")
    assert err.value.reason == "no_jobposting"


def test_listing_links_absolute_deduplicated_with_next() -> None:
    links, nxt = listing_links(fixture_text("jobposting/listing.html"), "https://board.example/jobs?page=1",
                               "a.job-link::attr(href)", "a[rel=next]::attr(href)")
    assert links == ["https://board.example/jobs/a1.html", "https://board.example/jobs/a2.html",
                     "https://board.example/jobs/a3.html"]
    assert nxt == ["https://board.example/jobs?page=2"]


_LD = '{"@type": "JobPosting", "title": "%s", "identifier": "%s"}'


@pytest.mark.parametrize(("page", "titles"), [
    # a block inside a comment, <textarea>, <title> or <style> is text, not a script: a parser ignores it
    (f'<!-- <script type="application/ld+json">{_LD % ("hidden", "0")}</script> -->'
     f'<script type="application/ld+json">{_LD % ("shown", "1")}</script>', ["shown"]),
    (f'<textarea><script type="application/ld+json">{_LD % ("hidden", "0")}</script></textarea>'
     f"<SCRIPT TYPE=application/LD+JSON>{_LD % ('upper', '1')}</SCRIPT>", ["upper"]),
    (f"<title>x <script type='application/ld+json'>{_LD % ('hidden', '0')}</script></title>"
     f"<script data-type=\"application/ld+json\">{_LD % ('not-ld', '2')}</script>"
     f"<script type='application/ld+json'>{_LD % ('single', '1')}</script>", ["single"]),
    # a JSON-LD block wrapped in a comment inside the script is the script's text
    (f'<script type="application/ld+json"><!-- {_LD % ("wrapped", "1")} --></script>', ["wrapped"]),
    # two postings on one page, in page order
    (f'<script type="application/ld+json">{_LD % ("a", "1")}</script><p>x</p>'
     f'<script type="application/ld+json">{_LD % ("b", "2")}</script>', ["a", "b"]),
])
def test_fast_jsonld_scan_sees_what_an_html_parser_sees(page: str, titles: list[str]) -> None:
    from parsel import Selector

    from scrapers.parsers.jobposting import _LDJSON_XPATH, jsonld_blocks_fast

    body = f"<html><head></head><body>{page}</body></html>"
    assert jsonld_blocks_fast(body) == Selector(text=body).xpath(_LDJSON_XPATH).getall()
    assert [p.title for p in parse_page(body, "https://x/jobs/9.html", "s")] == titles


def test_fast_jsonld_scan_leaves_unclosed_markup_to_the_parser() -> None:
    from scrapers.parsers.jobposting import jsonld_blocks_fast

    unclosed = f'<script type="application/ld+json">{_LD % ("t", "1")}</script><!-- never closed'
    assert jsonld_blocks_fast(unclosed) is None
    assert [p.title for p in parse_page(unclosed, "https://x/jobs/9.html", "s")] == ["t"]
    assert jsonld_blocks_fast("<p>no structured data</p>") == []
