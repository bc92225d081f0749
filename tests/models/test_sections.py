"""Section splitting by headings in both languages."""

from __future__ import annotations

from models.sections import split_sections


def test_chinese_headings_even_when_glued() -> None:
    kinds = [s.kind for s in split_sections("我们能给你：免费午餐。岗位职责：负责开发任职要求：1、三年经验")]
    assert kinds == ["benefits", "duties", "requirements"]


def test_english_headings_and_body() -> None:
    secs = split_sections("Great job!\nAbout us\nWe build things.\nResponsibilities:\n- code\nRequirements\n3+ years")
    assert [s.kind for s in secs] == ["body", "company", "duties", "requirements"]
    assert [s.is_job for s in secs] == [True, False, True, True]


def test_unterminated_blurb_is_cut_at_a_blank_line() -> None:
    secs = split_sections("Benefits: bonus, pension and a great office.\n\nYou will build ML models.")
    assert [s.kind for s in secs] == ["benefits", "body"]


def test_empty() -> None:
    assert split_sections(None) == [] and split_sections("  ") == []
