"""Trend tables from postings with known counts, on SQLite and PostgreSQL: values, intervals, suppression,
index, groups, dimensions, idempotency and incremental == full."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from db.bulk import LabelledPosting, bulk_insert_labelled
from db.stats import rate_change, wilson_interval
from db.synthetic import synthetic_postings
from db.trends import METRICS, period_change, shift_share_change, update_trends

# The documented default groups of taxonomy.yaml (db cannot import models, so tests keep a copy).
NEW_ECONOMY = ["software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng", "product_project",
               "design_basic", "design_ux", "content_media", "operations"]
GROUPS = {"new_economy": NEW_ECONOMY}
_seq = iter(range(10**9))


def batch(month: str, role: str, n: int, *, ai: dict[str, int] | None = None, req: tuple[int, int] = (0, 0),
          cities: tuple[str, ...] = ("北京", "上海"), sources: tuple[str, ...] = ("board-a", "board-b"),
          lang: str = "zh") -> Iterator[LabelledPosting]:
    """``n`` postings of ``role`` in ``month``: ``ai`` counts per level (rest none), ``req`` = (3+ years,
    stated below 3) with the rest unstated; cities and sources alternate."""
    levels = [lvl for lvl, k in (ai or {}).items() for _ in range(k)]
    levels += ["none"] * (n - len(levels))
    reqs: list[bool | None] = [True] * req[0] + [False] * req[1]
    reqs += [None] * (n - len(reqs))
    y, m = int(month[:4]), int(month[5:])
    for i in range(n):
        j = next(_seq)
        yield LabelledPosting(source=sources[i % len(sources)], external_id=f"t{j}", title=f"{role} {i}",
                              posted_at=date(y, m, 1 + i % 28), role_category=role, ai_level=levels[i],
                              requires_3plus_years=reqs[i], company=f"c{i % 7}", city=cities[i % len(cities)],
                              lang=lang)


def base_data() -> list[LabelledPosting]:
    rows: list[LabelledPosting] = []
    for m in range(1, 13):  # baseline year: 100 software_dev postings a month
        rows += batch(f"2024-{m:02d}", "software_dev", 100)
    rows += batch("2025-03", "software_dev", 200, ai={"ai_tools": 20, "ai_skills": 10, "incidental": 10},
                  req=(120, 40))
    rows += batch("2025-03", "design_basic", 40, ai={"ai_tools": 4})
    rows += batch("2025-03", "marketing", 300, req=(100, 100))
    rows += batch("2026-03", "software_dev", 150, ai={"ai_tools": 30, "ai_skills": 15, "incidental": 5},
                  req=(90, 30))
    rows += batch("2026-03", "design_basic", 20, ai={"ai_tools": 10})
    rows += batch("2026-03", "marketing", 100, req=(40, 40))
    return rows


def cell(engine: Engine, table: str, period: str, category: str, dim: str = "all", dim_value: str = "",
         metric: str | None = None) -> dict:
    sql = (f"SELECT * FROM {table} WHERE period_type = :pt AND period = :p AND category = :c AND dim = :d "
           "AND dim_value = :v" + (" AND metric = :m" if metric else ""))
    with engine.connect() as c:
        row = c.execute(text(sql), {"pt": "week" if "W" in period else "month", "p": period, "c": category,
                                    "d": dim, "v": dim_value, "m": metric}).mappings().first()
    assert row is not None, f"no {table} row {period} {category} {dim}={dim_value} {metric or ''}"
    return dict(row)


def snapshot(engine: Engine, table: str, keep_volatile: bool = False) -> list[tuple]:
    with engine.connect() as c:
        rows = c.execute(text(f"SELECT * FROM {table}")).mappings().all()
    out = []
    for r in rows:
        d = {k: v for k, v in r.items() if keep_volatile or k not in ("id", "computed_at")}
        out.append(tuple((k, bool(v) if k == "suppressed" else v) for k, v in sorted(d.items())))
    keys = ("period_type", "period", "dim", "dim_value", "category", "metric")
    return sorted(out, key=lambda t: tuple(str(dict(t).get(k)) for k in keys))


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", taxonomy_version="1.0",
                         labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    return engine


def test_demand_counts_yoy_interval_and_suppression(loaded: Engine) -> None:
    report = update_trends(loaded, GROUPS)
    assert report.model_version == "m1" and report.taxonomy_version == "1.0"
    assert "2026-03" in report.months and report.rows_changed > 0
    sd = cell(loaded, "trend_demand", "2026-03", "software_dev")
    expected = rate_change(150, 200)
    assert (sd["n"], sd["n_prev_year"]) == (150, 200)
    assert sd["yoy_change"] == pytest.approx(-0.25)
    assert sd["yoy_ci_low"] == pytest.approx(expected.ci_low, rel=1e-9)
    assert sd["yoy_ci_high"] == pytest.approx(expected.ci_high, rel=1e-9)
    assert not sd["suppressed"]
    assert sd["model_version"] == "m1" and sd["taxonomy_version"] == "1.0"
    db = cell(loaded, "trend_demand", "2026-03", "design_basic")
    assert db["n"] == 20 and db["suppressed"]
    # Groups: new_economy = software_dev + design_basic; all = everything.
    assert cell(loaded, "trend_demand", "2026-03", "new_economy")["n"] == 170
    assert cell(loaded, "trend_demand", "2026-03", "all")["n"] == 270
    # No postings a year before -> no comparison base.
    first = cell(loaded, "trend_demand", "2024-01", "software_dev")
    assert first["n_prev_year"] is None and first["yoy_change"] is None


def test_index_against_baseline_year_average(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    sd = cell(loaded, "trend_demand", "2026-03", "software_dev")
    assert sd["baseline_mean"] == pytest.approx(100.0)
    assert sd["index_value"] == pytest.approx(150.0)
    # marketing has no baseline-year postings: no index rather than a made-up one.
    assert cell(loaded, "trend_demand", "2026-03", "marketing")["index_value"] is None


def test_shares_and_wilson_intervals_computed_in_sql(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    ai = cell(loaded, "trend_shares", "2026-03", "software_dev", metric="references_ai")
    assert (ai["n"], ai["k"]) == (150, 50)
    lo, hi = wilson_interval(50, 150)
    assert ai["share"] == pytest.approx(50 / 150)
    assert ai["ci_low"] == pytest.approx(lo, rel=1e-9) and ai["ci_high"] == pytest.approx(hi, rel=1e-9)
    assert cell(loaded, "trend_shares", "2026-03", "software_dev", metric="ai_tools")["k"] == 30
    assert cell(loaded, "trend_shares", "2026-03", "software_dev", metric="ai_skills")["k"] == 15
    assert cell(loaded, "trend_shares", "2026-03", "software_dev", metric="ai_incidental")["k"] == 5
    assert cell(loaded, "trend_shares", "2026-03", "software_dev", metric="ai_none")["k"] == 100
    # 3+ years among postings that state experience; the unstated share beside it.
    r3 = cell(loaded, "trend_shares", "2026-03", "all", metric="requires_3plus")
    assert (r3["n"], r3["k"]) == (90 + 30 + 40 + 40, 90 + 40)
    un = cell(loaded, "trend_shares", "2026-03", "all", metric="experience_unstated")
    assert (un["n"], un["k"]) == (270, 270 - 200)
    # Group share: new_economy references AI = (50 + 10) / 170.
    ne = cell(loaded, "trend_shares", "2026-03", "new_economy", metric="references_ai")
    assert (ne["n"], ne["k"]) == (170, 60)
    small = cell(loaded, "trend_shares", "2026-03", "design_basic", metric="references_ai")
    assert small["suppressed"] and small["share"] == pytest.approx(0.5)
    with loaded.connect() as c:
        metrics = {r[0] for r in c.execute(text("SELECT DISTINCT metric FROM trend_shares"))}
    assert metrics == set(METRICS)


def test_dimension_splits_add_up_to_all(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    with loaded.connect() as c:
        for dim in ("city", "source", "lang"):
            rows = c.execute(text(
                "SELECT dim_value, n FROM trend_demand WHERE period_type = 'month' AND period = '2026-03' "
                "AND category = 'software_dev' AND dim = :d"), {"d": dim}).all()
            assert sum(n for _, n in rows) == 150, dim
        cities = dict(c.execute(text(
            "SELECT dim_value, n FROM trend_demand WHERE period_type = 'month' AND period = '2026-03' "
            "AND category = 'software_dev' AND dim = 'city'")).all())
        weeks = c.execute(text(
            "SELECT SUM(n) FROM trend_demand WHERE period_type = 'week' AND dim = 'all' "
            "AND category = 'software_dev' AND period LIKE '2024-W%'")).scalar_one()
    assert cities == {"北京": 75, "上海": 75}
    assert weeks == 1200 - sum(1 for p in base_data() if p.posted_at.isocalendar()[0] != 2024
                               and p.posted_at.year == 2024)


def test_repeat_run_changes_nothing(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    before = snapshot(loaded, "trend_demand", keep_volatile=True), snapshot(loaded, "trend_shares", True)
    again = update_trends(loaded, GROUPS)
    assert again.rows_changed == 0 and again.months == () and again.weeks == ()
    assert (snapshot(loaded, "trend_demand", True), snapshot(loaded, "trend_shares", True)) == before
    # A forced full recompute rewrites nothing either: same counts, same values.
    full = update_trends(loaded, GROUPS, full=True)
    assert full.rows_changed == 0
    assert (snapshot(loaded, "trend_demand", True), snapshot(loaded, "trend_shares", True)) == before


def test_incremental_update_equals_full_recompute(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    # One night: new postings in 2026-03, and one 2025-03 posting found to be a duplicate.
    bulk_insert_labelled(loaded, batch("2026-03", "software_dev", 30, ai={"ai_skills": 3}),
                         model_version="m1", labelled_at=datetime(2026, 4, 2, tzinfo=UTC))
    with loaded.begin() as c:
        dup = c.execute(text("SELECT MAX(p.id) FROM postings p JOIN posting_labels l ON l.posting_id = p.id "
                             "WHERE p.posted_month = '2025-03' AND l.role_category = 'software_dev'")).scalar()
        c.execute(text("UPDATE postings SET canonical_id = (SELECT MIN(id) FROM postings) WHERE id = :i"),
                  {"i": dup})
    inc = update_trends(loaded, GROUPS)
    assert set(inc.months) == {"2025-03", "2026-03"}
    assert all(w.startswith(("2025-W", "2026-W")) for w in inc.weeks)
    sd = cell(loaded, "trend_demand", "2026-03", "software_dev")
    assert (sd["n"], sd["n_prev_year"]) == (180, 199)  # yoy base refreshed from the changed 2025-03
    incremental = snapshot(loaded, "trend_demand"), snapshot(loaded, "trend_shares")
    update_trends(loaded, GROUPS, full=True)
    assert (snapshot(loaded, "trend_demand"), snapshot(loaded, "trend_shares")) == incremental


def test_since_forces_recompute_from_month(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    r = update_trends(loaded, GROUPS, since="2026-03")
    assert r.months == ("2026-03",) and r.rows_changed == 0
    with pytest.raises(ValueError, match="YYYY-MM"):
        update_trends(loaded, GROUPS, since="2026-3")


def test_newest_label_version_wins_and_is_recorded(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    with loaded.begin() as c:  # model m2 relabels every posting as marketing, later
        c.execute(text(
            "INSERT INTO posting_labels (posting_id, model_version, taxonomy_version, role_category, "
            "role_confidence, experience_bucket, ai_level, ai_terms, labelled_at) SELECT posting_id, 'm2', '1.1', "
            "'marketing', 0.5, experience_bucket, ai_level, ai_terms, :t FROM posting_labels"),
            {"t": datetime(2026, 5, 1, tzinfo=UTC)})
    r = update_trends(loaded, GROUPS)
    assert (r.model_version, r.taxonomy_version) == ("m2", "1.1")
    with loaded.connect() as c:
        versions = set(c.execute(text("SELECT DISTINCT model_version, taxonomy_version FROM trend_demand")))
        cats = {x[0] for x in c.execute(text("SELECT DISTINCT category FROM trend_demand"))}
    assert versions == {("m2", "1.1")}
    assert "software_dev" not in cats
    # An explicit older version can be recomputed on request.
    assert update_trends(loaded, GROUPS, model_version="m1").model_version == "m1"
    assert cell(loaded, "trend_demand", "2026-03", "software_dev")["model_version"] == "m1"
    with pytest.raises(ValueError, match="no labels for model_version 'nope'"):
        update_trends(loaded, GROUPS, model_version="nope")


def test_group_name_clashing_with_a_role_code_is_refused(loaded: Engine) -> None:
    with pytest.raises(ValueError, match="also role_category codes"):
        update_trends(loaded, {"marketing": ["software_dev"]})


def test_empty_database_is_a_no_op(engine: Engine) -> None:
    r = update_trends(engine, GROUPS)
    assert r.model_version is None and "no labelled postings" in r.summary()


def test_change_between_any_two_months_and_shift_share(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    ch = period_change(loaded, "2024-06", "2026-03", category="software_dev")
    assert (ch.n_from, ch.n_to) == (100, 150)
    assert ch.change == pytest.approx(0.5)
    assert ch.ci_low == pytest.approx(rate_change(150, 100).ci_low)
    assert not ch.suppressed
    with pytest.raises(ValueError, match="both be YYYY-MM"):
        period_change(loaded, "2024-06", "2026-W10")
    ss = shift_share_change(loaded, "2025-03", "2026-03", NEW_ECONOMY)
    ne_a = cell(loaded, "trend_shares", "2025-03", "new_economy", metric="references_ai")
    ne_b = cell(loaded, "trend_shares", "2026-03", "new_economy", metric="references_ai")
    assert ss.total == pytest.approx(ne_b["share"] - ne_a["share"])
    assert ss.within + ss.between == pytest.approx(ss.total, abs=1e-12)
    assert (ss.n_a, ss.n_b) == (240, 170)


def test_views_expose_the_trend_tables(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    with loaded.connect() as c:
        d = c.execute(text("SELECT n, yoy_change FROM v_demand_monthly WHERE month = '2026-03' AND dim = 'all' "
                           "AND category = 'software_dev'")).one()
        a = c.execute(text("SELECT n, n_references_ai, share_ai_tools, share_ai_skills, share_incidental "
                           "FROM v_ai_share_monthly WHERE month = '2026-03' AND dim = 'all' "
                           "AND category = 'software_dev'")).one()
        e = c.execute(text("SELECT n, n_stated, n_requires_3plus, n_unstated FROM v_experience_monthly "
                           "WHERE month = '2026-03' AND dim = 'all' AND category = 'all'")).one()
        w = c.execute(text("SELECT COUNT(*) FROM v_demand_weekly WHERE dim = 'all' AND category = 'all'")).scalar()
        aw = c.execute(text("SELECT COUNT(*) FROM v_ai_share_weekly WHERE dim = 'all' AND category = 'all'")).scalar()
    assert tuple(d) == (150, pytest.approx(-0.25))
    assert tuple(a) == (150, 50, pytest.approx(0.2), pytest.approx(0.1), pytest.approx(5 / 150))
    assert tuple(e) == (270, 200, 130, 70)
    assert w == aw and w > 50


def test_view_column_comments_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("column comments are a PostgreSQL feature; SQLite documents them in docs/trends.md")
    with engine.connect() as c:
        comment = c.execute(text("SELECT col_description('v_demand_monthly'::regclass, a.attnum) FROM "
                                 "pg_attribute a WHERE a.attrelid = 'v_demand_monthly'::regclass "
                                 "AND a.attname = 'yoy_change'")).scalar()
    assert "n_prev_year" in comment


@pytest.mark.pg
def test_sqlite_and_postgresql_give_identical_tables(lw_home, pg_url: str) -> None:
    from db.migrate import upgrade

    lw_home.mkdir(parents=True, exist_ok=True)
    engines = [create_engine(f"sqlite:///{(lw_home / 'same.db').as_posix()}"), create_engine(pg_url)]
    snaps = []
    for eng in engines:
        upgrade(eng)
        bulk_insert_labelled(eng, synthetic_postings(1500, seed=5, start=date(2025, 1, 1)), labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
        update_trends(eng, GROUPS)
        snaps.append((snapshot(eng, "trend_demand"), snapshot(eng, "trend_shares")))
        eng.dispose()
    for table_a, table_b in zip(snaps[0], snaps[1], strict=True):
        assert len(table_a) == len(table_b) > 1000
        for ra, rb in zip(table_a, table_b, strict=True):
            assert [k for k, _ in ra] == [k for k, _ in rb]
            for (k, va), (_, vb) in zip(ra, rb, strict=True):
                if isinstance(va, float) or isinstance(vb, float):
                    assert va == pytest.approx(vb, rel=1e-12, abs=1e-15), k
                else:
                    assert va == vb, k


def test_weekly_yoy_compares_the_same_iso_week(loaded: Engine) -> None:
    update_trends(loaded, GROUPS)
    weeks: dict[str, int] = {}
    for p in base_data():
        if p.role_category == "software_dev":
            y, w, _ = p.posted_at.isocalendar()
            weeks[f"{y}-W{w:02d}"] = weeks.get(f"{y}-W{w:02d}", 0) + 1
    row = cell(loaded, "trend_demand", "2026-W11", "software_dev")
    assert (row["n"], row["n_prev_year"]) == (weeks["2026-W11"], weeks["2025-W11"])
    assert row["yoy_change"] == pytest.approx(weeks["2026-W11"] / weeks["2025-W11"] - 1)
    # Weekly index: the mean over the ISO weeks of 2024 that have postings.
    base = [n for w, n in weeks.items() if w.startswith("2024-")]
    assert row["baseline_mean"] == pytest.approx(sum(base) / len(base))


def test_changing_the_minimum_cell_size_recomputes_suppression(loaded: Engine,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from labourwatch.settings import get_settings

    update_trends(loaded, GROUPS)
    assert cell(loaded, "trend_demand", "2026-03", "design_basic")["suppressed"]
    monkeypatch.setenv("LABOURWATCH_MIN_CELL_SIZE", "10")
    get_settings.cache_clear()
    r = update_trends(loaded, GROUPS)
    assert "2024-01" in r.months  # a configuration change makes every period stale
    assert not cell(loaded, "trend_demand", "2026-03", "design_basic")["suppressed"]
    assert not cell(loaded, "trend_shares", "2026-03", "design_basic", metric="references_ai")["suppressed"]
