"""The brief's data layer reads trend and metadata tables (SQLite and PostgreSQL) and errors clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from brief.data import BriefDataError, load_brief_data, month_add
from brief.render import BriefError, load_strings, record_brief, render_brief
from db import schema
from tests.brief.conftest import LAST_MONTH, MODEL_VERSION, TAXONOMY_VERSION


def _load(engine: Engine, month: str = LAST_MONTH, lang: str = "zh"):
    return load_brief_data(engine, month, lang, group_names=load_strings(lang)["groups"], min_cell_size=100,
                           baseline_year=2024)


def test_reads_trend_rows_and_metadata(trend_engine: Engine) -> None:
    data = _load(trend_engine)
    assert data.periods[0] == "2024-01" and data.periods[-1] == LAST_MONTH and len(data.periods) == 27
    assert len(data.categories) == 25
    assert {c.code for c in data.categories} >= {"software_dev", "design_basic", "supply_chain_repetitive"}
    assert data.name("software_dev") in ("传统软件开发", "software_dev")  # taxonomy name, else the code
    assert data.name("new_economy") == "新经济岗位"
    yoy = [r.yoy_change for r in data.demand_month if not r.suppressed]
    assert yoy == sorted(yoy)
    falling, rising = data.movers(3)
    assert [r.category for r in falling] == ["design_basic", "supply_chain_repetitive", "software_dev"]
    assert rising[0].category == "ai_ml"
    assert all(r.yoy_ci_high < 0 for r in falling) and all(r.yoy_ci_low > 0 for r in rising)
    unclear = [r for r in data.demand_month if not r.suppressed and r.yoy_ci_low < 0 < r.yoy_ci_high]
    assert unclear and not {r.category for r in unclear} & {r.category for r in falling + rising}
    D = schema.TrendDemand
    with trend_engine.connect() as c:
        n_all = c.execute(select(D.n).where(D.period == LAST_MONTH, D.category == "all", D.dim == "all")).scalar()
    assert data.demand["all"][-1].n == n_all
    share = data.shares_month[("new_economy", "references_ai")]
    assert share.ci_low < share.share < share.ci_high
    q = data.quality
    assert (q.postings, q.canonical, q.rejects) == (80, 72, 8)
    assert q.duplicate_rate == pytest.approx(0.1)
    assert {s.name: s.duplicates for s in q.sources} == {"demo-board": 0, "智联样本": 8}
    assert (q.model_version, q.taxonomy_version) == (MODEL_VERSION, TAXONOMY_VERSION)
    assert {(e.field, e.metric): e.value for e in q.evaluations}[("role_category", "accuracy")] == 0.871
    assert q.cells_demand == 27
    with trend_engine.connect() as c:
        supp = c.execute(select(func.count()).select_from(schema.TrendShare).where(
            schema.TrendShare.period == LAST_MONTH, schema.TrendShare.suppressed)).scalar()
    assert q.suppressed_shares == supp > 0


def test_month_without_trend_rows_says_what_to_run(trend_engine: Engine) -> None:
    with pytest.raises(BriefDataError, match="labourwatch trends"):
        _load(trend_engine, "2019-01")


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "March", ""])
def test_bad_month_is_named(engine: Engine, month: str) -> None:
    with pytest.raises(BriefError, match="YYYY-MM"):
        render_brief(engine, month)


def test_bad_language_is_named(engine: Engine) -> None:
    with pytest.raises(BriefError, match="'fr'"):
        render_brief(engine, LAST_MONTH, "fr")


def test_month_add() -> None:
    assert month_add("2026-03", -35) == "2023-04"
    assert month_add("2025-12", 1) == "2026-01"


def test_record_brief_replaces_the_month_language_and_country(engine: Engine, tmp_path: Path) -> None:
    record_brief(engine, "2026-03", "zh", tmp_path / "a.pdf", "a" * 64, 6, "m1", country="CN")
    record_brief(engine, "2026-03", "zh", tmp_path / "b.pdf", "b" * 64, 7, "m2", country="CN")
    record_brief(engine, "2026-03", "en", tmp_path / "c.pdf", "c" * 64, 6, "m2", country="CN")
    record_brief(engine, "2026-03", "zh", tmp_path / "d.pdf", "d" * 64, 6, "m2", country="GB")
    with engine.connect() as c:
        rows = c.execute(select(schema.Brief.lang, schema.Brief.country, schema.Brief.sha256, schema.Brief.pages)
                         .order_by(schema.Brief.lang, schema.Brief.country)).all()
    assert [tuple(r) for r in rows] == [("en", "CN", "c" * 64, 6), ("zh", "CN", "b" * 64, 7),
                                        ("zh", "GB", "d" * 64, 6)]


def test_render_without_a_cjk_font_names_the_package(trend_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from brief import fonts

    monkeypatch.setattr(fonts, "_fontconfig_candidates", lambda: [])
    monkeypatch.setattr(fonts, "_matplotlib_candidates", lambda: [])
    with pytest.raises(BriefError, match="fonts-noto-cjk"):
        render_brief(trend_engine, LAST_MONTH)
    with trend_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.Brief)).scalar() == 0
