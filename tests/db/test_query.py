"""Analyst access: named queries, and ad-hoc SQL that the read-only connection refuses to write with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from db.bulk import bulk_insert_labelled
from db.queries import (
    NAMED_QUERIES,
    ReadOnlyQueryError,
    check_read_only_sql,
    duplicate_rates,
    named_query,
    readonly_connection,
    run_readonly,
)
from db.trends import period_change, update_trends
from tests.db.test_trends import GROUPS, base_data


@pytest.fixture
def trended(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    return engine


def rows_as_dicts(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


def test_named_queries_all_run_and_answer(trended: Engine) -> None:
    for name, q in NAMED_QUERIES.items():
        params = {"from": "2025-03", "to": "2026-03"} if "from" in q.params else {}
        res = named_query(trended, name, params)
        assert res.columns, name
    yoy = {r["category"]: r for r in rows_as_dicts(named_query(trended, "demand_yoy"))}
    assert yoy["software_dev"]["month"] == "2026-03"  # default: the latest month
    assert yoy["software_dev"]["yoy_change"] == pytest.approx(-0.25)
    series = rows_as_dicts(named_query(trended, "demand_series", {"category": "software_dev"}))
    assert [r["month"] for r in series][:2] == ["2024-01", "2024-02"] and len(series) == 14
    change = {r["category"]: r for r in rows_as_dicts(
        named_query(trended, "change", {"from": "2024-06", "to": "2026-03"}))}
    expected = period_change(trended, "2024-06", "2026-03", "software_dev")
    assert change["software_dev"]["change"] == pytest.approx(expected.change)
    assert change["software_dev"]["ci_low"] == pytest.approx(expected.ci_low)
    ai = rows_as_dicts(named_query(trended, "ai_share"))
    assert {r["month"] for r in ai} >= {"2025-03", "2026-03"}


def test_named_query_argument_errors(trended: Engine) -> None:
    with pytest.raises(ValueError, match="unknown query 'nope'"):
        named_query(trended, "nope")
    with pytest.raises(ValueError, match="takes"):
        named_query(trended, "duplicates", {"month": "2026-03"})
    with pytest.raises(ValueError, match="needs --param from"):
        named_query(trended, "change")


@pytest.mark.parametrize("sql", [
    "DELETE FROM postings",
    "insert into sources (name, kind, created_at) values ('x', 'board', '2026-01-01')",
    "DROP TABLE postings",
    "UPDATE postings SET title = 'x'",
    "SELECT 1; DELETE FROM postings",
    "  -- comment\n  PRAGMA query_only = OFF",
])
def test_writes_are_refused_before_running(trended: Engine, sql: str) -> None:
    with pytest.raises(ReadOnlyQueryError, match="refused|one statement"):
        run_readonly(trended, sql)


def test_write_hidden_in_a_cte_is_refused_by_the_parser_and_the_database(trended: Engine) -> None:
    with trended.connect() as c:
        before = c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one()
    for sql in ("WITH gone AS (DELETE FROM postings RETURNING id) SELECT COUNT(*) FROM gone",
                "WITH x AS (SELECT 1) DELETE FROM postings"):
        with pytest.raises(ReadOnlyQueryError, match="refused"):
            check_read_only_sql(sql)
    with readonly_connection(trended) as conn, pytest.raises(Exception, match="(?i)read.?only"):
        conn.exec_driver_sql("UPDATE postings SET title = 'x'")  # the connection itself is read-only too
    with trended.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one() == before


def test_reads_work_with_params_and_limits(trended: Engine) -> None:
    res = run_readonly(trended, "SELECT category, n FROM v_demand_monthly WHERE month = :m AND dim = 'all' "
                                "ORDER BY n DESC;", {"m": "2026-03"}, max_rows=2)
    assert res.columns == ("category", "n") and res.rows == (("all", 270), ("new_economy", 170))
    # The engine stays writable after a read-only session (nothing leaks back into the pool).
    with trended.begin() as c:
        c.execute(text("UPDATE postings SET title = title WHERE id = 1"))


def test_duplicate_rates_per_source(trended: Engine) -> None:
    with trended.begin() as c:
        first = c.execute(text("SELECT MIN(id) FROM postings")).scalar_one()
        c.execute(text("UPDATE postings SET canonical_id = :f WHERE id IN (SELECT id FROM postings WHERE "
                       "source_id = (SELECT id FROM sources WHERE name = 'board-b') AND id > :f ORDER BY id "
                       "LIMIT 10)"), {"f": first})
    rates = {r.source: r for r in duplicate_rates(trended)}
    assert rates["board-b"].duplicates == 10 and rates["board-a"].duplicates == 0
    assert rates["board-b"].rate == pytest.approx(10 / rates["board-b"].postings)
