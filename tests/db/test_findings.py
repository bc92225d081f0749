"""Headline figures are found by the data: ranked by evidence, pooled when small, per country, with honest bases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from brief.findings import Finding, headline_findings
from db.bulk import LabelledPosting, bulk_insert_labelled
from db.findings import headline_figures, resolve_market
from db.stats import rate_change, wilson_interval
from db.trends import update_trends
from tests.db.test_trends import GROUPS, base_data, batch

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


def test_moves_are_ranked_by_evidence_and_small_cells_still_named(trended: Engine) -> None:
    h = headline_figures(trended, "2026-03", groups=GROUPS)
    assert h.market.pooled_reason == "no_country"  # no posting has a country: pooled, and the reason is kept
    ranked = {c.category: c for c in h.ranked}
    # marketing 300 -> 100 (-67%), software_dev 200 -> 150 (-25%), design_basic 40 -> 20 (-50%, small cell)
    assert [c.category for c in h.falls] == ["marketing", "design_basic", "software_dev"]
    sd = ranked["software_dev"]
    rc = rate_change(150, 200)
    assert (sd.change, sd.ci_low, sd.ci_high) == (pytest.approx(-0.25), pytest.approx(rc.ci_low),
                                                  pytest.approx(rc.ci_high))
    assert sd.pooling == "month" and not sd.small and sd.kind == "yoy"
    db = ranked["design_basic"]
    assert db.pooling == "last3" and db.small and db.excludes_zero and db.n == 20 and db.n_base == 40
    assert not h.rises


def test_sentences_carry_interval_base_pooling_and_caveats(trended: Engine) -> None:
    zh = by_key(headline_findings(trended, "2026-03", "zh", names=NAMES, groups=GROUPS))
    sd = zh["demand_yoy.software_dev"]
    assert sd.text.startswith("传统软件开发岗位新发职位同比下降25%") and "n=150" in sd.text
    assert "Katz" in sd.method and "模型 m1" in sd.method and sd.base.startswith("2025-03（n=200")
    en = by_key(headline_findings(trended, "2026-03", "en", names=NAMES, groups=GROUPS))
    db = en["demand_yoy.design_basic"]
    assert db.text.startswith("Basic design: new postings fell 50% year on year")
    assert "last three months pooled" in db.text and "below the minimum cell of 100" in db.text
    assert "no country is recorded" in en["market"].text
    assert not any(f.suppressed for k, f in en.items() if k.startswith("demand_yoy."))


def test_ai_share_and_experience_figures(trended: Engine) -> None:
    f = by_key(headline_findings(trended, "2026-03", "en", names=NAMES, groups=GROUPS))
    ai = f["ai_share.new_economy"]
    assert ai.value == pytest.approx(60 / 170) and ai.n == 170
    assert (ai.ci_low, ai.ci_high) == tuple(pytest.approx(x) for x in wilson_interval(60, 170))
    assert "18%" in ai.text and "35%" in ai.text and "2025-03" in ai.base  # 44/240 -> 60/170
    assert f["ai_levels.new_economy"].value == pytest.approx((30 + 15 + 10) / 170)
    assert f["ai_share_shift.new_economy"].value == pytest.approx(60 / 170 - 44 / 240)
    assert "ai_share_adjusted.new_economy" not in f  # no audit recorded
    exp = by_key(headline_findings(trended, "2026-03", "zh"))["experience.requires_3plus.all"]
    assert exp.value == pytest.approx(130 / 200) and "要求3年以上经验的占65%" in exp.text


def test_no_base_period_says_so_and_offers_change_since_first_month(engine: Engine) -> None:
    rows = [*batch("2022-06", "software_dev", 400), *batch("2022-07", "software_dev", 300),
            *batch("2022-07", "sales_bd", 200)]
    bulk_insert_labelled(engine, rows, model_version="m1")
    update_trends(engine, GROUPS)
    en = by_key(headline_findings(engine, "2022-07", "en", groups=GROUPS))
    assert "No base period" in en["no_base"].text and "2021-07" in en["no_base"].text
    assert "since the first month, 2022-06" in en["no_base"].text
    assert not any("too few" in f.text for k, f in en.items() if k.startswith(("demand", "no_base")))
    sd = en["demand_yoy.software_dev"]
    assert sd.value == pytest.approx(-0.25) and "since 2022-06" in sd.text
    first = by_key(headline_findings(engine, "2022-06", "en", groups=GROUPS))
    assert "is the first month" in first["no_base"].text
    assert not any(k.startswith("demand_yoy.") for k in first)


def test_figures_are_per_country_and_pooled_only_by_name(engine: Engine) -> None:
    def rows(country: str, month: str, role: str, n: int, offset: int) -> list[LabelledPosting]:
        y, m = int(month[:4]), int(month[5:])
        return [LabelledPosting(source="b", external_id=f"{country}{offset + i}", title=f"{role} {i}",
                                posted_at=date(y, m, 1 + i % 28), role_category=role, country=country)
                for i in range(n)]

    data = (rows("CN", "2025-03", "software_dev", 400, 0) + rows("CN", "2026-03", "software_dev", 200, 1000)
            + rows("GB", "2025-03", "software_dev", 120, 2000) + rows("GB", "2026-03", "software_dev", 180, 3000))
    bulk_insert_labelled(engine, data, model_version="m1")
    update_trends(engine, GROUPS)
    cn = headline_figures(engine, "2026-03")
    assert cn.market.country == "CN" and cn.falls[0].change == pytest.approx(-0.5)
    gb = headline_figures(engine, "2026-03", country="uk")
    assert gb.market.country == "GB" and gb.rises[0].change == pytest.approx(0.5)
    pooled = headline_figures(engine, "2026-03", country="all")
    assert pooled.market.pooled_reason == "asked" and pooled.ranked[0].change == pytest.approx(380 / 520 - 1)
    with pytest.raises(ValueError, match="countries with rows: CN .*GB"):
        resolve_market(engine, "FR")
    assert "blends different labour markets" in by_key(headline_findings(engine, "2026-03", "en",
                                                                         country="all"))["market"].text


def test_bad_arguments_and_frozen_result(trended: Engine) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        headline_findings(trended, "March 2026")
    with pytest.raises(ValueError, match="'zh' or 'en'"):
        headline_findings(trended, "2026-03", lang="fr")
    f = headline_findings(trended, "2026-03")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.text = "x"  # type: ignore[misc]
