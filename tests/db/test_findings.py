"""Headline findings read back the trend tables with numbers, intervals, bases and suppression (zh and en)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from db.findings import Finding, headline_findings
from db.stats import rate_change, wilson_interval
from db.trends import update_trends
from flows.cli_trends import bulk_insert_labelled
from tests.db.test_trends import GROUPS, base_data

NAMES = {"software_dev": {"zh": "传统软件开发", "en": "Traditional software development"},
         "design_basic": {"zh": "基础设计", "en": "Basic design"},
         "supply_chain_repetitive": {"zh": "重复性供应链岗位", "en": "Repetitive supply-chain roles"}}


@pytest.fixture
def trended(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    return engine


def by_key(items: list[Finding]) -> dict[str, Finding]:
    return {f.key: f for f in items}


def test_demand_findings_carry_value_interval_n_and_base(trended: Engine) -> None:
    zh = by_key(headline_findings(trended, "2026-03", "zh", names=NAMES, groups=GROUPS))
    sd = zh["demand_yoy.software_dev"]
    rc = rate_change(150, 200)
    assert sd.value == pytest.approx(-0.25) and not sd.suppressed
    assert (sd.ci_low, sd.ci_high) == (pytest.approx(rc.ci_low), pytest.approx(rc.ci_high))
    assert sd.n == 150 and "2025-03" in sd.base and "200" in sd.base
    assert sd.text.startswith("传统软件开发岗位新发职位同比下降25%")
    assert f"{rc.ci_low * 100:.0f}%" in sd.text and "n=150" in sd.text
    assert "Katz" in sd.method and "模型 m1" in sd.method and "新发去重职位" in sd.method
    assert sd.base.startswith("2025-03（n=200")
    en = by_key(headline_findings(trended, "2026-03", "en", names=NAMES, groups=GROUPS))
    assert "Katz" in en["demand_yoy.software_dev"].method and "model m1" in en["demand_yoy.software_dev"].method
    # method and base notes are in the brief's language, every finding
    for f in zh.values():
        assert "model " not in f.method and "no data" not in f.base and "postings" not in f.method, f
    assert en["demand_yoy.software_dev"].text.startswith("Traditional software development: new postings fell 25%")
    assert en["demand_yoy.software_dev"].value == sd.value


def test_small_and_missing_cells_are_suppressed_not_headlined(trended: Engine) -> None:
    zh = by_key(headline_findings(trended, "2026-03", "zh", names=NAMES))
    db = zh["demand_yoy.design_basic"]
    assert db.suppressed and "样本不足" in db.text and db.n == 20
    sc = zh["demand_yoy.supply_chain_repetitive"]
    assert sc.suppressed and sc.n == 0 and sc.value is None
    assert "重复性供应链岗位：" in sc.text  # no doubled 岗位
    # Without names the codes stand in; without groups the shift-share finding is left out.
    plain = by_key(headline_findings(trended, "2026-03", "en"))
    assert plain["demand_yoy.ai_ml"].text.startswith("ai_ml:")
    assert "ai_share_shift.new_economy" not in plain


def test_ai_share_findings_compare_with_a_year_earlier_and_split_levels(trended: Engine) -> None:
    f = by_key(headline_findings(trended, "2026-03", "en", names=NAMES, groups=GROUPS))
    ai = f["ai_share.new_economy"]
    assert ai.value == pytest.approx(60 / 170) and ai.n == 170
    assert (ai.ci_low, ai.ci_high) == tuple(pytest.approx(x) for x in wilson_interval(60, 170))
    assert "18%" in ai.text and "35%" in ai.text and "2025-03" in ai.base  # 44/240 -> 60/170
    lv = f["ai_levels.new_economy"]
    assert lv.value == pytest.approx((30 + 15 + 10) / 170)
    ss = f["ai_share_shift.new_economy"]
    assert ss.value == pytest.approx(60 / 170 - 44 / 240)
    assert "within role categories" in ss.text and "pp" in ss.text


def test_experience_finding(trended: Engine) -> None:
    f = by_key(headline_findings(trended, "2026-03", "zh"))["experience.requires_3plus.all"]
    assert f.value == pytest.approx(130 / 200) and f.n == 200
    assert "要求3年以上经验的占65%" in f.text and "未注明" in f.text and not f.suppressed


def test_bad_arguments_and_frozen_result(trended: Engine) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        headline_findings(trended, "March 2026")
    with pytest.raises(ValueError, match="'zh' or 'en'"):
        headline_findings(trended, "2026-03", lang="fr")
    f = headline_findings(trended, "2026-03")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.value = 1.0  # type: ignore[misc]
