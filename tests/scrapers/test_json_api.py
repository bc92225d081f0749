"""Config-driven JSON API parser on a recorded Chinese-board list page and detail payload."""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.config import load_sources
from scrapers.parsers import ParseError, get_path
from scrapers.parsers.json_api import fill_template, merge_detail, parse_list, posting_from_entry
from scrapers.pipelines.normalise import normalise_posting
from tests.scrapers.conftest import fixture_text


@pytest.fixture
def api():  # noqa: ANN201
    return load_sources(demo_board="http://board.test")["demo_api"].api


def test_list_page_entries_total_and_mapping(api) -> None:  # noqa: ANN001
    page = parse_list(fixture_text("json_api/list.json"), "http://board.test/api/positions?pageNo=1", api)
    assert page.total == 7 and len(page.entries) == 3
    raw = posting_from_entry(page.entries[0], api, source="demo_api", url="u", lang="zh")
    assert (raw.external_id, raw.title, raw.company, raw.location) == (
        "9001", "数据分析师", "杭州云帆网络科技有限公司", "杭州")
    p = normalise_posting(raw, tz="Asia/Shanghai")
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (15000, 25000, "month", "CNY")
    assert p.experience_text == "3-5年" and p.education_text == "本科"
    assert p.posted_at == date(2026, 3, 12)
    negotiable = normalise_posting(posting_from_entry(page.entries[2], api, source="demo_api", url="u", lang="zh"))
    assert negotiable.salary_text == "面议" and negotiable.salary_min is None


def test_detail_merge_adds_description(api) -> None:  # noqa: ANN001
    page = parse_list(fixture_text("json_api/list.json"), "l", api)
    base = posting_from_entry(page.entries[0], api, source="demo_api", url="u", lang="zh")
    merged = merge_detail(base, fixture_text("json_api/detail.json"), "http://board.test/api/positions/9001", api)
    p = normalise_posting(merged)
    assert p.description.startswith("岗位职责：\n\n1. 负责业务数据分析与报表搭建；\n2. 使用SQL")
    assert "- 3年以上数据分析经验" in p.description
    assert merged.raw_hash != base.raw_hash
    assert fill_template(api.detail.url, page.entries[0], "9001") == "http://board.test/api/positions/9001"


@pytest.mark.parametrize(("body", "reason"), [
    ('{"success": true, "content": {"result": [', "invalid_json"),
    ('{"success": false, "msg": "rate limited"}', "api_error"),
    ('{"success": true, "content": {"result": {"a": 1}}}', "api_error"),
])
def test_bad_pages_raise_named_reasons(api, body: str, reason: str) -> None:  # noqa: ANN001
    with pytest.raises(ParseError) as err:
        parse_list(body, "http://board.test/api/positions?pageNo=3", api)
    assert err.value.reason == reason and "pageNo=3" in str(err.value)


def test_get_path() -> None:
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert get_path(data, "a.b.1.c") == 2
    assert get_path(data, "a.x.c") is None
    assert get_path(data, "a.b.5") is None
