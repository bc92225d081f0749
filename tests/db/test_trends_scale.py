"""Trends at scale, on SQLite and PostgreSQL: the trend rows equal a count of the postings done in Python,
the triggers of 0007 mark exactly the periods a change touches (and the incremental update from those marks
equals a full recompute), and the benchmark's in-database generator makes the postings it promises."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, bindparam, create_engine, text

from db.bulk import LabelledPosting, bulk_insert_labelled
from db.repo import content_hash, iso_week
from db.synthetic import generate_labelled_sql, synthetic_postings
from db.trends import update_trends
from labourwatch.contract import PostingIn
from tests.db.test_trends import GROUPS, batch, snapshot

AI_KEYS = {"references_ai": lambda p: p.ai_level != "none", "ai_none": lambda p: p.ai_level == "none",
           "ai_incidental": lambda p: p.ai_level == "incidental", "ai_tools": lambda p: p.ai_level == "ai_tools",
           "ai_skills": lambda p: p.ai_level == "ai_skills"}


def _mixed_postings() -> list[LabelledPosting]:
    """Synthetic postings plus some without a city or language, or with empty ones (→ 'unknown')."""
    rows = list(synthetic_postings(2500, seed=9, start=date(2025, 1, 1), end=date(2026, 3, 31)))
    for i, r in enumerate(rows[:300]):
        rows[i] = LabelledPosting(**{**{f: getattr(r, f) for f in r.__dataclass_fields__},
                                     "city": (None, "")[i % 2], "lang": None if i % 3 == 0 else r.lang,
                                     "country": ("CN", "", None)[i % 3]})
    return rows


def _expected(rows: list[LabelledPosting], canonical: set[str]) -> tuple[Counter, Counter]:
    """trend_demand n and trend_shares (n, k) per key, counted in Python from the postings themselves."""
    demand: Counter = Counter()
    shares: Counter = Counter()
    for p in rows:
        if p.external_id not in canonical:
            continue
        src = p.source
        dims = [("all", ""), ("city", p.city or "unknown"), ("source", src), ("lang", p.lang or "unknown"),
                ("country", p.country or "unknown")]
        cats = ["all", p.role_category] + [g for g, codes in GROUPS.items() if p.role_category in codes]
        y, w, _ = p.posted_at.isocalendar()
        for pt, period in (("month", p.posted_at.strftime("%Y-%m")), ("week", f"{y}-W{w:02d}")):
            for dim, dv in dims:
                for cat in cats:
                    key = (pt, period, dim, dv, cat)
                    demand[key] += 1
                    for metric, hit in AI_KEYS.items():
                        shares[(*key, metric, "n")] += 1
                        shares[(*key, metric, "k")] += int(hit(p))
                    shares[(*key, "experience_unstated", "n")] += 1
                    shares[(*key, "experience_unstated", "k")] += int(p.requires_3plus_years is None)
                    shares[(*key, "requires_3plus", "n")] += int(p.requires_3plus_years is not None)
                    shares[(*key, "requires_3plus", "k")] += int(bool(p.requires_3plus_years))
    return demand, shares


def test_trend_rows_equal_a_count_of_the_postings(engine: Engine) -> None:
    rows = _mixed_postings()
    bulk_insert_labelled(engine, rows, model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    with engine.begin() as c:  # every 40th posting is a duplicate of the first: counted nowhere
        c.execute(text("UPDATE postings SET canonical_id = (SELECT MIN(id) FROM postings) WHERE id % 40 = 7"))
        dup = {r[0] for r in c.execute(text("SELECT external_id FROM postings WHERE canonical_id IS NOT NULL"))}
    assert len(dup) > 50
    update_trends(engine, GROUPS, full=True)
    demand, shares = _expected(rows, {r.external_id for r in rows} - dup)
    with engine.connect() as c:
        got_demand = {tuple(r[:5]): r[5] for r in c.execute(text(
            "SELECT period_type, period, dim, dim_value, category, n FROM trend_demand"))}
        got_shares: dict = {}
        for r in c.execute(text("SELECT period_type, period, dim, dim_value, category, metric, n, k "
                                "FROM trend_shares")):
            got_shares[(*r[:6], "n")], got_shares[(*r[:6], "k")] = r[6], r[7]
    assert got_demand == dict(demand)
    assert {k: v for k, v in got_shares.items()} == dict(shares)
    assert {k[3] for k in got_demand if k[2] == "city"} >= {"unknown", "北京"}


def _marks(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as c:
        return {tuple(r) for r in c.execute(text("SELECT period_type, period FROM trend_dirty"))}


def test_changes_mark_their_periods_and_the_update_from_marks_equals_a_full_recompute(engine: Engine) -> None:
    rows = []
    for m in ("2024-02", "2024-05", "2024-06", "2024-07", "2025-03"):
        rows += batch(m, "software_dev", 120, ai={"ai_tools": 12})
    bulk_insert_labelled(engine, rows, model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert {p for t, p in _marks(engine) if t == "month"} == {"2024-02", "2024-05", "2024-06", "2024-07", "2025-03"}
    update_trends(engine, GROUPS)
    assert _marks(engine) == set()

    def one(month: str) -> int:
        with engine.connect() as c:
            return int(c.execute(text("SELECT MIN(id) FROM postings WHERE posted_month = :m"), {"m": month}).scalar())

    with engine.begin() as c:
        # Touches no trend count: no mark.
        c.execute(text("UPDATE postings SET last_seen = :t WHERE posted_month = '2024-02'"),
                  {"t": datetime(2026, 4, 3, tzinfo=UTC)})
    assert _marks(engine) == set()
    with engine.begin() as c:
        c.execute(text("UPDATE posting_labels SET ai_level = 'ai_skills' WHERE posting_id = :i"), {"i": one("2024-05")})
        c.execute(text("UPDATE postings SET city = '深圳' WHERE id = :i"), {"i": one("2024-06")})
        gone = one("2024-07")
        c.execute(text("DELETE FROM posting_labels WHERE posting_id = :i"), {"i": gone})
        c.execute(text("DELETE FROM postings WHERE id = :i"), {"i": gone})
    bulk_insert_labelled(engine, batch("2026-03", "marketing", 30), model_version="m1",
                         labelled_at=datetime(2026, 4, 2, tzinfo=UTC))
    inc = update_trends(engine, GROUPS)
    assert set(inc.months) == {"2024-05", "2024-06", "2024-07", "2026-03"}
    assert inc.rows_changed > 0 and _marks(engine) == set()
    incremental = snapshot(engine, "trend_demand"), snapshot(engine, "trend_shares")
    assert update_trends(engine, GROUPS).months == ()
    update_trends(engine, GROUPS, full=True)
    assert (snapshot(engine, "trend_demand"), snapshot(engine, "trend_shares")) == incremental


def test_a_failed_update_keeps_the_marks(engine: Engine) -> None:
    bulk_insert_labelled(engine, batch("2025-03", "software_dev", 20), model_version="m1",
                         labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    bulk_insert_labelled(engine, batch("2025-04", "software_dev", 20), model_version="m1",
                         labelled_at=datetime(2026, 4, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="also role_category codes"):
        update_trends(engine, {"software_dev": ["software_dev"]})
    assert ("month", "2025-04") in _marks(engine)
    assert update_trends(engine, GROUPS).months == ("2025-04",)


@pytest.mark.pg
def test_sql_generator_makes_the_promised_postings(lw_home, pg_url: str) -> None:
    from db.migrate import upgrade

    eng = create_engine(pg_url)
    upgrade(eng)
    at = datetime(2026, 3, 28, tzinfo=UTC)
    generate_labelled_sql(eng, 4000, seed=3, labelled_at=at, chunk=1500)
    generate_labelled_sql(eng, 500, seed=3, start=date(2026, 3, 28), end=date(2026, 3, 28), prefix="night",
                          labelled_at=at)
    with eng.connect() as c:
        rows = c.execute(text(
            "SELECT p.external_id, s.name, p.title, p.posted_at, p.posted_month, p.posted_week, p.content_hash, "
            "p.company, p.city, p.lang, l.role_category, l.ai_level, l.requires_3plus_years, l.experience_bucket FROM postings p "
            "JOIN sources s ON s.id = p.source_id JOIN posting_labels l ON l.posting_id = p.id")).all()
        n_labels = c.execute(text("SELECT COUNT(*) FROM posting_labels")).scalar_one()
        next_id = c.execute(text("SELECT nextval(pg_get_serial_sequence('postings', 'id'))")).scalar_one()
    eng.dispose()
    assert len(rows) == n_labels == 4500 and next_id == 4501
    night = [r for r in rows if r.external_id.startswith("night-")]
    assert len(night) == 500 and {r.posted_at for r in night} == {date(2026, 3, 28)}
    for r in rows:
        assert r.posted_month == r.posted_at.strftime("%Y-%m") and r.posted_week == iso_week(r.posted_at)
        assert r.content_hash == content_hash(PostingIn(source=r.name, external_id=r.external_id, title=r.title,
                                                        company=r.company, city=r.city, lang=r.lang,
                                                        posted_at=r.posted_at))
        assert r.title.startswith(r.role_category + " ")
        assert r.lang == ("en" if r.name == "demo-en" else "zh")
        assert r.ai_level in ("none", "incidental", "ai_tools", "ai_skills")
        assert r.experience_bucket == {None: "unstated", True: "3_5", False: "1_3"}[r.requires_3plus_years]
    old = [r for r in rows if r.external_id.startswith("syn-")]
    assert {r.posted_at.year for r in old} == {2024, 2025, 2026}
    # The drift of synthetic_postings: software_dev falls, ai_ml grows; the AI share rises.
    def share(year: int, pred) -> float:  # type: ignore[no-untyped-def]
        ys = [r for r in old if r.posted_at.year == year]
        return sum(1 for r in ys if pred(r)) / len(ys)

    assert share(2025, lambda r: r.role_category == "software_dev") < share(2024, lambda r: r.role_category
                                                                            == "software_dev")
    assert share(2025, lambda r: r.ai_level != "none") > share(2024, lambda r: r.ai_level != "none")
    assert 0.15 < sum(1 for r in old if r.requires_3plus_years is None) / len(old) < 0.25


def test_duplicate_rates_follow_every_kind_of_write(engine: Engine) -> None:
    from db.queries import duplicate_rates

    def counted() -> dict[str, tuple[int, int]]:
        with engine.connect() as c:
            return {name: (int(n), int(d)) for name, n, d in c.execute(text(
                "SELECT s.name, COUNT(p.id), COUNT(p.canonical_id) FROM sources s "
                "LEFT JOIN postings p ON p.source_id = s.id GROUP BY s.name"))}

    def from_view() -> dict[str, tuple[int, int]]:
        return {r.source: (r.postings, r.duplicates) for r in duplicate_rates(engine)}

    bulk_insert_labelled(engine, batch("2025-03", "software_dev", 60, sources=("a", "b", "c")), model_version="m1")
    with engine.begin() as c:
        c.execute(text("UPDATE postings SET canonical_id = (SELECT MIN(id) FROM postings) "
                       "WHERE id IN (SELECT id FROM postings ORDER BY id DESC LIMIT 7)"))
        c.execute(text("UPDATE postings SET last_seen = first_seen"))  # changes no count
    update_trends(engine, GROUPS)  # folds PostgreSQL's counter rows together
    with engine.begin() as c:
        c.execute(text("UPDATE postings SET canonical_id = NULL WHERE id = (SELECT MAX(id) FROM postings)"))
        c.execute(text("UPDATE postings SET source_id = (SELECT id FROM sources WHERE name = 'a') "
                       "WHERE id IN (SELECT id FROM postings ORDER BY id LIMIT 5)"))
        gone = [r[0] for r in c.execute(text("SELECT id FROM postings ORDER BY id DESC LIMIT 3 OFFSET 1"))]
        c.execute(text("DELETE FROM posting_labels WHERE posting_id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": gone})
        c.execute(text("DELETE FROM postings WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": gone})
    want = counted()
    assert sum(d for _, d in want.values()) == 3 and sum(n for n, _ in want.values()) == 57
    assert from_view() == want
    with engine.connect() as c:
        rate = c.execute(text("SELECT duplicate_rate FROM v_duplicates_by_source WHERE source = 'a'")).scalar()
    assert rate == pytest.approx(want["a"][1] / want["a"][0])
