"""Golden cases for text hygiene: Markdown, HTML, full-width characters, bullets, glued headings, graduation years."""

from __future__ import annotations

import pytest

from models.experience import extract_experience, parse_field
from models.text import clean_text

# (description, min, max, bucket) — one row per error class: each was read as "unstated" or a wrong figure
# before the text was cleaned.
GOLDEN = [
    # Markdown backslash escapes and emphasis
    (r"Requirements: 2\+ years of experience with Python", 2, None, "1_3"),
    (r"**3\+ years'** experience in B2B sales", 3, None, "3_5"),
    (r"You bring 3–5\+ years of relevant experience", 3, 5, "3_5"),
    (r"* **Experience:** 6\+ years in data engineering", 6, None, "5_10"),
    (r"- __Minimum 4 years__ of commercial experience", 4, None, "3_5"),
    (r"### Requirements" "\n" r"- 1\-2 years of experience in customer support", 1, 2, "1_3"),
    ("[5+ years](https://example.org/levels) of experience leading teams", 5, None, "5_10"),
    # HTML tags and entities, also double-escaped ones from feeds
    ("<ul><li>4+ years experience building APIs</li><li>Degree</li></ul>", 4, None, "3_5"),
    ("&lt;li&gt;Minimum of 2 years&amp;#39; experience&lt;/li&gt;", 2, None, "1_3"),
    ("<p>At least&nbsp;three&nbsp;years of experience</p>", 3, None, "3_5"),
    # full-width digits and punctuation
    ("任职要求：３－５年相关工作经验", 3, 5, "3_5"),
    ("岗位要求：１年以上客服工作经验", 1, None, "1_3"),
    # bullet glyphs and circled numbers as item starts
    ("任职要求：①３年以上工作经验②本科学历③熟悉CAD", 3, None, "3_5"),
    ("• 2 years experience in retail • Full driving licence", 2, None, "1_3"),
    # headings glued to the next sentence when markup was stripped
    ("RequirementsAt least 5+ years of relevant experience", 5, None, "5_10"),
    ("Experience8+ years of experience in data analytics", 8, None, "5_10"),
    ("What we look for5+ years in software development", 5, None, "5_10"),
    # graduation-year requirements mean no experience, and their year is no figure
    ("面向2020届毕业生，专业不限", 0, None, "none"),
    ("2025届校招，化学相关专业", 0, None, "none"),
    ("21、22年毕业生优先，有机合成方向", 0, None, "none"),
    ("欢迎23年应届毕业生投递", 0, None, "none"),
]


@pytest.mark.parametrize(("text", "lo", "hi", "bucket"), GOLDEN)
def test_golden_experience(text: str, lo: float, hi: float | None, bucket: str) -> None:
    exp = extract_experience(None, None, text)
    assert (exp.min_years, exp.max_years, exp.bucket) == (lo, hi, bucket), exp


@pytest.mark.parametrize("field", ["2020届", "2024届毕业生", "24届应届生"])
def test_graduation_year_field_is_none(field: str) -> None:
    exp = parse_field(field)
    assert exp is not None and exp.bucket == "none" and exp.min_years == 0


def test_clean_text_keeps_words_and_drops_markup() -> None:
    assert clean_text(r"**Senior** 2\+ years &amp; <b>SQL</b>") == "Senior 2+ years &  SQL "
    assert clean_text("ＡＢＣ１２３（全职）") == "ABC123(全职)"
    assert clean_text(None) == ""
    # camel-case product names are no headings: the sentence stays whole
    assert clean_text("5 years of SharePoint and JavaScript experience") == "5 years of SharePoint and JavaScript experience"


def test_not_requirements_still_ignored_after_cleaning() -> None:
    assert extract_experience(None, None, "**Founded 20 years ago**, we offer a 2\\-year contract").bucket == "unstated"
