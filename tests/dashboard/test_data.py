"""db.dashboard reads on SQLite and PostgreSQL: values equal the trend tables, filters follow the dims present,
postings behind a cell belong to it, verdicts reach the audit store, and the read-only engine refuses writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from db import dashboard as data
from db import schema
from db.audit import latest_audit
from db.migrate import upgrade
from db.session import get_engine
from tests.dashboard.conftest import MODEL_VERSION


def ro(engine: Engine) -> Engine:
    return data.readonly_engine(engine.url.render_as_string(hide_password=False))


def test_demand_points_equal_trend_rows_and_filters_follow_dims(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    f = data.trend_filters(r)
    assert set(f.dims) == {"city", "source", "lang", "country"}
    assert "北京" in f.dims["city"] and "demo-en" in f.dims["source"]
    assert f.dims["country"] == ("unknown",)  # the synthetic postings name no country: a filter value only
    assert f.periods["month"][0] == "2024-01" and f.periods["month"][-1] == "2026-03"
    assert f.periods["week"][0].startswith("2024-W") or f.periods["week"][0].startswith("2023-W")
    assert {"all", "new_economy", "software_dev"} <= set(f.categories)
    assert f.has_sa is False
    pts = data.demand_points(r, dim="city", dim_value="上海", start="2025-01", end="2025-06",
                             categories=["software_dev"])
    with demo_engine.connect() as c:
        want = dict(c.execute(text(
            "SELECT period, n FROM trend_demand WHERE period_type = 'month' AND dim = 'city' AND dim_value = '上海' "
            "AND category = 'software_dev' AND period BETWEEN '2025-01' AND '2025-06'")).all())
    assert [p.period for p in pts] == sorted(want) and len(want) >= 3  # a month without postings has no cell
    assert {p.period: p.n for p in pts} == want
    assert all(p.index_sa is None for p in pts)
    # a cross-section has every category with its interval around the change
    cross = data.demand_points(r, period="2026-03")
    allrow = next(p for p in cross if p.category == "all")
    assert allrow.yoy_ci_low is not None and allrow.yoy_ci_low < allrow.yoy_change < allrow.yoy_ci_high
    weeks = data.demand_points(r, period_type="week", end="2024-W10", categories=["all"])
    assert weeks and all(p.period_type == "week" and p.period <= "2024-W10" for p in weeks)
    with pytest.raises(ValueError, match="period type"):
        data.demand_points(r, period_type="day")


def test_country_rows_appear_as_a_filter_and_in_key_figures(demo_engine: Engine) -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with demo_engine.begin() as c:
        for country, n in (("CN", 180), ("GB", 40)):
            c.execute(insert(schema.TrendDemand).values(
                period_type="month", period="2026-03", dim="country", dim_value=country, category="all", n=n,
                suppressed=n < 100, model_version=MODEL_VERSION, taxonomy_version="1.0", computed_at=now))
            c.execute(insert(schema.TrendShare).values(
                period_type="month", period="2026-03", dim="country", dim_value=country, category="new_economy",
                metric="references_ai", n=n // 2, k=n // 4, share=0.5, ci_low=0.4, ci_high=0.6,
                suppressed=n < 100, model_version=MODEL_VERSION, taxonomy_version="1.0", computed_at=now))
    r = ro(demo_engine)
    assert data.trend_filters(r).dims["country"] == ("CN", "GB", "unknown")
    figs = data.key_figures(r, "2026-03")
    assert [k.country for k in figs] == ["CN", "GB"]  # known countries, largest first; unknown is no market
    gb = figs[1]
    assert gb.postings is not None and gb.postings.n == 40 and gb.postings.suppressed
    assert gb.ai_share is not None and (gb.ai_share.n, gb.ai_share.k) == (20, 10)


def test_key_figures_pooled_without_country_rows(demo_engine: Engine) -> None:
    (k,) = data.key_figures(ro(demo_engine), "2026-03")
    assert k.country == "" and k.postings is not None
    with demo_engine.connect() as c:
        n_all = c.execute(text("SELECT n FROM trend_demand WHERE period_type = 'month' AND period = '2026-03' "
                               "AND dim = 'all' AND category = 'all'")).scalar_one()
    assert k.postings.n == n_all
    assert k.ai_share is not None and k.ai_share.category == "new_economy"
    assert k.requires_3plus is not None and k.requires_3plus.n < k.postings.n  # of those stating only


def test_share_points_and_shift_share(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    city = data.share_points(r, metrics=["requires_3plus"], dim="city", dim_value=None, period="2026-03",
                             categories=["all"])
    assert len({p.dim_value for p in city}) == 8
    assert all(p.ci_low <= p.share <= p.ci_high for p in city if p.share is not None)
    with pytest.raises(ValueError, match="unknown metric"):
        data.share_points(r, metrics=["nope"])
    s = data.shift_share_split(r, "2025-03", "2026-03", ["software_dev", "ai_ml", "data"])
    assert s.within + s.between == pytest.approx(s.total)


def test_cell_postings_belong_to_the_cell(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    sample = data.cell_postings(r, period_type="month", period="2026-03", dim="city", dim_value="北京",
                                roles=["software_dev", "ai_ml"], limit=5)
    assert 0 < len(sample) <= 5
    ids = [s.posting_id for s in sample]
    assert ids == sorted(ids)
    P = schema.Posting
    with demo_engine.connect() as c:
        rows = c.execute(select(P.posted_month, P.city, P.canonical_id).where(P.id.in_(ids))).all()
    assert all(m == "2026-03" and city == "北京" and canon is None for m, city, canon in rows)
    assert {s.role_category for s in sample} <= {"software_dev", "ai_ml"}
    assert all(s.model_version == MODEL_VERSION for s in sample)
    by_source = data.cell_postings(r, period_type="month", period="2026-03", dim="source", dim_value="demo-en")
    assert by_source and {s.source for s in by_source} == {"demo-en"}
    week = data.cell_postings(r, period_type="week", period="2025-W10", limit=500)
    with demo_engine.connect() as c:
        n_week = c.execute(text("SELECT n FROM trend_demand WHERE period_type = 'week' AND period = '2025-W10' "
                                "AND dim = 'all' AND category = 'all'")).scalar_one()
    assert len(week) == n_week  # every canonical posting of the cell, when the limit allows
    with pytest.raises(ValueError, match="dimension"):
        data.cell_postings(r, period_type="month", period="2026-03", dim="planet", dim_value="x")


def test_verdicts_reach_the_audit_store_and_the_report(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    sample = data.cell_postings(r, period_type="month", period="2026-03", roles=["software_dev"], limit=3)
    a, b = sample[0], sample[1]
    data.record_verdict(demo_engine, a.posting_id, "role_category", False, auditor="ana")
    data.record_verdict(demo_engine, b.posting_id, "role_category", True)
    data.record_verdict(demo_engine, b.posting_id, "ai_level", True)
    stored = {(x.posting_id, x.field): x for x in latest_audit(demo_engine)}
    assert stored[(a.posting_id, "role_category")].correct is False
    assert stored[(a.posting_id, "role_category")].origin == "dashboard"
    assert stored[(a.posting_id, "role_category")].predicted == "software_dev"
    rep = data.audit_report(r)
    acc = {x.field: x for x in rep.accuracy}
    assert (acc["role_category"].n, acc["role_category"].k) == (2, 1)
    assert acc["role_category"].ci_low < 0.5 < acc["role_category"].ci_high
    assert (acc["ai_level"].n, acc["ai_level"].k) == (1, 1) and acc["experience_bucket"].n == 0
    assert rep.verdicts[0].title is not None
    # the newest verdict counts, and the sample shows it
    data.record_verdict(demo_engine, a.posting_id, "role_category", True)
    again = {s.posting_id: s for s in data.cell_postings(r, period_type="month", period="2026-03",
                                                           roles=["software_dev"], limit=3)}
    assert again[a.posting_id].audit["role_category"] is True
    with pytest.raises(ValueError, match="no label"):
        data.record_verdict(demo_engine, 10**9, "ai_level", True)
    with pytest.raises(ValueError, match="audit field"):
        data.record_verdict(demo_engine, a.posting_id, "salary", True)


def test_quality_report_counts_duplicates_rejects_and_versions(demo_engine: Engine) -> None:
    q = data.quality_report(ro(demo_engine))
    assert sum(s.duplicates for s in q.sources) == 10
    assert sum(s.postings for s in q.sources) == 6000
    assert all(s.rejects == 3 and s.runs == 1 for s in q.sources)
    assert len(q.runs) == 3 and q.runs[0].items == 100
    (v,) = q.versions
    assert v.model_version == MODEL_VERSION and v.periods == 27 and v.postings == 5990
    assert v.evaluations == (("gold-v1", "role_category", "accuracy", 0.87, 400),)
    assert 0 < q.suppressed_cells < q.cells
    assert [b.month for b in data.briefs(ro(demo_engine))] == ["2026-03"]


def test_readonly_engine_refuses_writes(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    with pytest.raises(DBAPIError), r.begin() as c:
        c.execute(text("DELETE FROM trend_demand"))
    with demo_engine.connect() as c:
        assert c.execute(select(func.count()).select_from(schema.TrendDemand)).scalar_one() > 0


def test_check_database_names_the_problem(db_url: str, lw_home) -> None:  # type: ignore[no-untyped-def]
    if db_url.startswith("sqlite"):
        with pytest.raises(data.DashboardDataError, match="does not exist"):
            data.readonly_engine(db_url)
        get_engine(db_url).connect().close()  # creates an empty file
    with pytest.raises(data.DashboardDataError, match="not migrated"):
        data.check_database(data.readonly_engine(db_url))
    upgrade(get_engine(db_url))
    with pytest.raises(data.DashboardDataError, match="no trend rows"):
        data.check_database(data.readonly_engine(db_url))


def _add_seasonal(engine: Engine, rows: list[dict]) -> None:
    """Replace the ``trend_seasonal`` rows of ``rows``' keys (``labourwatch trends`` wrote yoy_only rows:
    the demo data has under three years) with ``rows``."""
    from sqlalchemy import and_, delete

    T = schema.TrendSeasonal
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with engine.begin() as c:
        for r in rows:
            c.execute(delete(T).where(and_(T.period == r["period"], T.dim == r["dim"],
                                           T.dim_value == r["dim_value"], T.category == r["category"])))
        c.execute(insert(T), [{"n": 1, "adjusted": None, "holiday_factor": None, "method": "stl",
                               "history_months": 27, "model_version": MODEL_VERSION, "computed_at": now, **r}
                              for r in rows])


def test_seasonally_adjusted_index_is_shown_only_when_present(demo_engine: Engine) -> None:
    r = ro(demo_engine)
    assert data.check_database(r).seasonal is False
    _add_seasonal(demo_engine, [
        {"period": "2026-02", "dim": "all", "dim_value": "", "category": "all", "status": "adjusted",
         "index_value": 101.5, "holiday_shift": "spring_festival"},
        {"period": "2026-03", "dim": "all", "dim_value": "", "category": "all", "status": "adjusted",
         "index_value": 99.0, "holiday_shift": None},
        {"period": "2026-03", "dim": "all", "dim_value": "", "category": "software_dev", "status": "yoy_only",
         "index_value": None, "holiday_shift": None}])
    r = ro(demo_engine)  # a fresh engine sees the new table
    assert data.trend_filters(r).has_sa and data.check_database(r).seasonal
    pts = {(p.category, p.period): p for p in data.demand_points(r, start="2026-01", end="2026-03",
                                                                  categories=["all", "software_dev"])}
    assert pts[("all", "2026-02")].index_sa == 101.5 and pts[("all", "2026-02")].holiday_shift == "spring_festival"
    assert pts[("all", "2026-03")].index_sa == 99.0 and pts[("all", "2026-01")].index_sa is None
    assert pts[("software_dev", "2026-03")].index_sa is None
    weekly = data.demand_points(r, period_type="week", end="2024-W05", categories=["all"])
    assert all(p.index_sa is None for p in weekly)


def test_briefs_of_two_countries_are_told_apart(demo_engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two briefs of one month and language (migration 0006: unique per country) each keep their own file."""
    now = datetime(2026, 4, 2, tzinfo=UTC)
    with demo_engine.begin() as c:
        for country in ("CN", "GB"):
            pdf = tmp_path / f"brief-2026-03-en-{country.lower()}.pdf"
            pdf.write_bytes(b"%PDF-1.4\n% " + country.encode() + b"\n%%EOF\n")
            c.execute(insert(schema.Brief).values(month="2026-03", lang="en", country=country, path=str(pdf),
                                                  sha256="1" * 64, pages=7, model_version=MODEL_VERSION,
                                                  created_at=now))
    r = ro(demo_engine)
    listed = [(b.month, b.lang, b.country) for b in data.briefs(r)]
    assert listed == [("2026-03", "en", "CN"), ("2026-03", "en", "GB"), ("2026-03", "zh", "")]
    assert data.brief_path(r, "2026-03", "en", "GB").endswith("-gb.pdf")
    assert data.brief_path(r, "2026-03", "en", "CN").endswith("-cn.pdf")
    assert data.brief_path(r, "2026-03", "en", "FR") is None
    assert data.brief_path(r, "2026-03", "zh").endswith("brief-2026-03-zh.pdf")  # no country asked: the newest
