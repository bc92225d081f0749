"""Normalisers: dates, salaries, cities and HTML text in the shapes boards publish."""

from __future__ import annotations

from datetime import date

import pytest

from scrapers.normalise import Salary, html_to_text, normalise_city, parse_date, parse_salary

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-12T10:22:01+08:00", date(2026, 3, 12)),
    ("2026-03-12", date(2026, 3, 12)),
    ("2026-03-12 10:22:01", date(2026, 3, 12)),
    ("2026/3/2", date(2026, 3, 2)),
    ("2026年3月12日", date(2026, 3, 12)),
    ("20260312", date(2026, 3, 12)),
    ("03-12", date(2026, 3, 12)),
    ("12-20", date(2025, 12, 20)),  # month-day after today: last year's
    ("3月1日", date(2026, 3, 1)),
    ("今天", TODAY),
    ("刚刚", TODAY),
    ("昨天", date(2026, 3, 14)),
    ("前天", date(2026, 3, 13)),
    ("3天前", date(2026, 3, 12)),
    ("三天前", date(2026, 3, 12)),
    ("2小时前", TODAY),
    ("2 days ago", date(2026, 3, 13)),
    ("Posted 30+ days ago", date(2026, 2, 13)),
    ("yesterday", date(2026, 3, 14)),
    ("March 5, 2026", date(2026, 3, 5)),
    ("Thu, 12 Mar 2026 10:22:01 GMT", date(2026, 3, 12)),
    ("1773072000000", date(2026, 3, 9)),
    (1773072000000, date(2026, 3, 9)),
    ("not a date", None),
    ("", None),
    (None, None),
])
def test_parse_date(text: object, expected: date | None) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("15-25K·13薪", Salary(15000, 25000, "month", "CNY", 13)),
    ("1-1.5万/月", Salary(10000, 15000, "month", "CNY")),
    ("8千-1.2万", Salary(8000, 12000, "month", "CNY")),
    ("20-30万/年", Salary(200000, 300000, "year", "CNY")),
    ("200元/天", Salary(200, 200, "day", "CNY")),
    ("25K以上", Salary(25000, None, "month", "CNY")),
    ("15-25K", Salary(15000, 25000, "month", "CNY")),
    ("£50,000 - £60,000", Salary(50000, 60000, "year", "GBP")),
    ("$45/hour", Salary(45, 45, "hour", "USD")),
    ("$120k–$150k", Salary(120000, 150000, "year", "USD")),
    ("€70,000 - €85,000", Salary(70000, 85000, "year", "EUR")),
    ("USD 52000 - 61000", Salary(52000, 61000, "year", "USD")),
])
def test_parse_salary(text: str, expected: Salary) -> None:
    assert parse_salary(text) == expected


@pytest.mark.parametrize("text", ["面议", "薪资面谈", "Competitive", "", None])
def test_salary_without_amount_is_none(text: str | None) -> None:
    assert parse_salary(text) is None


@pytest.mark.parametrize(("text", "city"), [
    ("北京-朝阳区", "北京"), ("上海市", "上海"), ("广东省深圳市南山区", "深圳"), ("杭州·西湖区", "杭州"),
    ("Shenzhen, China", "深圳"), ("London, England, United Kingdom", "London"), ("Remote - US", "Remote"),
    (["Austin, TX", "Dallas, TX"], "Austin"), (None, None), ("", None),
])
def test_normalise_city(text: object, city: str | None) -> None:
    assert normalise_city(text) == city


def test_html_to_text_keeps_sections_and_lists() -> None:
    html = ("<h2>职位描述</h2><p>负责&amp;后端 <b>开发</b></p><ul><li>一</li><li>二</li></ul>"
            "<p>line<br>two</p><script>var x = 1;</script>")
    assert html_to_text(html) == "职位描述\n\n负责&后端 开发\n\n- 一\n- 二\n\nline\ntwo"


def test_html_to_text_decodes_escaped_html_and_passes_plain_text() -> None:
    assert html_to_text("&lt;p&gt;Hello &amp;amp; world&lt;/p&gt;&lt;p&gt;Second&lt;/p&gt;") == "Hello & world\n\nSecond"
    assert html_to_text("  plain   text\n\n\n\nnext  ") == "plain text\n\nnext"
    assert html_to_text("   ") is None


def test_country_of_place_and_code() -> None:
    from scrapers.countries import country_code, country_of_place

    assert [country_code(x) for x in ("DE", "deu", "Germany", "USA", "中国", "pl", "Worldwide", None)] == [
        "DE", "DE", "DE", "US", "CN", "PL", None, None]
    assert country_of_place("Berlin, Germany") == "DE"
    assert country_of_place("USA, CST (UTC-6)") == "US"
    assert country_of_place("USA, Canada") is None  # several countries: none
    assert country_of_place("Remote - UK") == "GB"
    assert country_of_place("Melbourne VIC") is None


@pytest.mark.parametrize("fragment", [
    "<p>a<div>b</div>c</p>", "lead text <b>x</b> <i>y</i><ul><li>one<li>two</ul>tail",
    "<title>t</title><meta charset=utf-8><p>x</p>", "<!-- c --><p>x</p> after", "<table><tr><td>a<td>b</table>",
    "a &amp; b<br>c &nbsp; d", "<script>var x;</script><style>p{}</style><p>kept</p>", "<h3>岗位职责</h3><p>负责</p>",
    "  <p> spaced </p>  trailing ", "<html><body><p>a whole document</p></body></html>",
])
def test_html_to_text_plain_parser_matches_lxml_html(fragment: str) -> None:
    # html_to_text parses with lxml's plain HTML parser; the text must be what lxml.html's fragment gives.
    import lxml.html

    from scrapers.normalise import _tidy, _walk

    parts: list[str] = []
    _walk(lxml.html.fragment_fromstring(fragment, create_parent="div"), parts)
    assert html_to_text(fragment) == (_tidy("".join(parts)) or None)
