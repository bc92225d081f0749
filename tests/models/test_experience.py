"""Golden cases for every experience phrasing and hard case in taxonomy.md section 2."""

from __future__ import annotations

import pytest

from models.experience import bucket_for, extract_experience, parse_field, parse_text

# (text, min, max, bucket, requires_3plus)
TEXT_CASES = [
    ("3-5年工作经验", 3, 5, "3_5", True),
    ("三年以上相关工作经验", 3, None, "3_5", True),
    ("3年及以上Java开发经验", 3, None, "3_5", True),
    ("五年以上相关经验", 5, None, "5_10", True),
    ("1年以下", 0, 1, "lt1", False),
    ("经验不限", 0, None, "none", False),
    ("应届毕业生", 0, None, "none", False),
    ("在校生可投递", 0, None, "none", False),
    ("十年以上管理经验", 10, None, "10_plus", True),
    ("半年以上客服经验", 0.5, None, "lt1", False),
    ("工作经验无要求", 0, None, "none", False),
    ("3+ years of experience in Python", 3, None, "3_5", True),
    ("at least five years of relevant experience", 5, None, "5_10", True),
    ("3-5 years of experience", 3, 5, "3_5", True),
    ("minimum of 2 years' experience", 2, None, "1_3", False),
    ("Entry level role, no experience required", 0, None, "none", False),
    ("less than a year of experience", 0, 1, "lt1", False),
    ("Graduate scheme 2026", 0, None, "none", False),
    ("Summer internship in our data team", 0, None, "none", False),
    # strictest of several figures for different skills
    ("2年以上大数据经验，3年以上Hadoop调优经验", 3, None, "3_5", True),
    # alternatives: the smallest
    ("5年以上经验，或硕士3年以上经验", 3, None, "3_5", True),
    ("3年以上经验或硕士应届", 0, None, "none", False),
    ("5 years experience, or 3 with a master's degree", 3, None, "3_5", True),
    # preferred still counts
    ("有2年以上互联网运营经验者优先", 2, None, "1_3", False),
    ("3+ years of experience preferred", 3, None, "3_5", True),
    # numbered list items glued to the text
    ("负责回测系统的开发任职要求：1、3年以上的服务端开发工作经验；2、本科", 3, None, "3_5", True),
    ("大专及以上学历；2.2年以上从事软件开发工作经验", 2, None, "1_3", False),
]

UNSTATED = [
    "高级Java工程师",  # seniority words alone
    "资深产品经理",
    "Senior Data Engineer, Lead of the platform team",
    "公司成立20年，五险一金，年终奖13薪，签订2年合同",  # numbers that are not requirements
    "Founded 20 years ago, we offer a 2 year contract",
    "",
]


@pytest.mark.parametrize(("text", "lo", "hi", "bucket", "three"), TEXT_CASES)
def test_free_text(text: str, lo: float, hi: float | None, bucket: str, three: bool) -> None:
    e = parse_text(text)
    assert (e.min_years, e.max_years, e.bucket, e.requires_3plus_years) == (lo, hi, bucket, three), e


@pytest.mark.parametrize("text", UNSTATED)
def test_unstated(text: str) -> None:
    e = parse_text(text)
    assert (e.min_years, e.bucket, e.requires_3plus_years) == (None, "unstated", None), e


@pytest.mark.parametrize(("field", "bucket", "lo", "hi"), [
    ("不限", "none", 0, None), ("应届毕业生", "none", 0, None), ("1年以下", "lt1", 0, 1), ("1-3年", "1_3", 1, 3),
    ("3-5年", "3_5", 3, 5), ("5-10年", "5_10", 5, 10), ("10年以上", "10_plus", 10, None),
    ("经验3-5年", "3_5", 3, 5), ("3+ years", "3_5", 3, None), ("Entry level", "none", 0, None),
])
def test_board_field(field: str, bucket: str, lo: float, hi: float | None) -> None:
    e = parse_field(field)
    assert e is not None and (e.bucket, e.min_years, e.max_years, e.source) == (bucket, lo, hi, "field")


def test_field_wins_over_text_and_text_is_the_fallback() -> None:
    desc = "任职要求：5年以上开发经验"
    assert extract_experience("1-3年", "Java开发", desc).bucket == "1_3"
    assert extract_experience(None, "Java开发", desc).bucket == "5_10"
    assert extract_experience("看情况", "Java开发", desc).bucket == "5_10"  # unreadable field → text
    assert extract_experience(None, "数据分析实习生", None).bucket == "none"  # entry wording in the title


def test_company_blurb_years_are_ignored() -> None:
    desc = "About us\nWe have over 20 years of industry experience.\nRequirements:\n2+ years in sales"
    assert parse_text(desc).min_years == 2


def test_bucket_edges() -> None:
    assert [bucket_for(x, None) for x in (None, 0, 0.5, 1, 2.9, 3, 4.5, 5, 9, 10, 15)] == [
        "unstated", "none", "lt1", "1_3", "1_3", "3_5", "3_5", "5_10", "5_10", "10_plus", "10_plus"]
