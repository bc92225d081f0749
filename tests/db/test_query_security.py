"""Analyst SQL cannot escape: parsed (not rewritten), views only, read-only, time-limited — on both backends."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from db.bulk import bulk_insert_labelled
from db.queries import QueryError, ReadOnlyQueryError, check_read_only_sql, run_readonly
from db.trends import update_trends
from flows.cli import app
from tests.db.test_trends import GROUPS, base_data

runner = CliRunner()


@pytest.fixture
def trended(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    with engine.begin() as c:  # titles that hold comment markers, for the literal test
        c.execute(text("UPDATE postings SET title = 'plain title'"))
    return engine


def query(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["query", *args])


def test_literals_are_not_rewritten(trended: Engine) -> None:
    """Issue point 3: comment stripping used to eat '/*' and '--' inside string literals."""
    res = run_readonly(trended, "SELECT COUNT(*) FROM v_demand_monthly WHERE category LIKE '%/*%' "
                                "OR category LIKE '%*/%'")
    assert res.rows == ((0,),)
    assert run_readonly(trended, "select 'a--b' AS s").rows == (("a--b",),)
    assert run_readonly(trended, "select 'a:b %s 100%' AS s -- trailing comment\n;").rows == (("a:b %s 100%",),)
    r = query("--sql", "select 'a--b' as s, '/* x */' as t", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1] == "a--b,/* x */"


@pytest.mark.parametrize("sql", ["select 1; select 2", "PRAGMA query_only = OFF", "SELECT 1 INTO t2",
                                 "ATTACH DATABASE '/tmp/x.db' AS x", "values (1)", ""])
def test_parser_refuses_all_but_one_select(sql: str) -> None:
    with pytest.raises(ReadOnlyQueryError):
        check_read_only_sql(sql)


def test_tables_and_catalogue_are_not_readable(trended: Engine) -> None:
    for sql in ("SELECT COUNT(*) FROM postings", "SELECT * FROM sources",
                "SELECT * FROM v_demand_monthly JOIN postings ON 1 = 1"):
        with pytest.raises(ReadOnlyQueryError, match="refused by the database"):
            run_readonly(trended, sql)
    assert run_readonly(trended, "SELECT COUNT(*) FROM v_demand_monthly").rows[0][0] > 0


def test_endless_query_is_stopped_by_the_timeout(trended: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 2: an endless recursive CTE ran until killed."""
    monkeypatch.setenv("LABOURWATCH_QUERY_TIMEOUT", "1")
    from labourwatch.settings import get_settings

    get_settings.cache_clear()
    t0 = time.monotonic()
    r = query("--sql", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT MAX(n) FROM r")
    assert r.exit_code == 2 and "stopped after 1 s" in r.output, r.output
    assert time.monotonic() - t0 < 15
    with pytest.raises(QueryError, match="stopped after 0.5 s"):
        run_readonly(trended, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                              "SELECT COUNT(*) FROM r", timeout_s=0.5)


def test_sql_errors_are_one_line(trended: Engine) -> None:
    """Issue point 10: any SQL error in `query --sql` printed a traceback."""
    for sql in ("SELECT nosuchcolumn FROM v_demand_monthly", "SELECT * FROM nosuchview", "SELEC 1",
                "SELECT 1/0 + 'x' FROM v_demand_monthly WHERE month = (SELECT"):
        r = query("--sql", sql)
        assert r.exit_code == 2, (sql, r.output)
        assert "Traceback" not in r.output and r.output.startswith("labourwatch query: "), r.output
        assert len(r.output.strip().splitlines()) == 1, r.output


@pytest.mark.pg
def test_postgres_server_functions_are_refused(trended: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 1 and 2 on PostgreSQL: file read, file write, signalling and sleeping past the timeout."""
    if trended.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with trended.begin() as c:  # a large object the attacker would export, made by the owner
        oid = c.execute(text("SELECT lo_from_bytea(0, 'secret'::bytea)")).scalar_one()
        other_pid = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
    monkeypatch.setenv("LABOURWATCH_QUERY_TIMEOUT", "1")
    from labourwatch.settings import get_settings

    get_settings.cache_clear()
    attacks = {
        "SELECT pg_read_file('/etc/hostname')": "permission denied",
        "SELECT pg_ls_dir('.')": "permission denied",
        f"SELECT lo_export({oid}, '/tmp/lw_escape_test')": "permission denied",
        f"SELECT pg_terminate_backend({other_pid})": "permission denied|must be a superuser",
        f"SELECT pg_cancel_backend({other_pid})": "permission denied|must be a superuser",
        "SELECT set_config('role', 'postgres', false)": "permission denied",
        "SELECT pg_sleep(5)": "stopped after 1 s",
    }
    for sql, expected in attacks.items():
        t0 = time.monotonic()
        r = query("--sql", sql)
        assert r.exit_code == 2, (sql, r.output)
        assert re.search(expected, r.output) and "Traceback" not in r.output, (sql, r.output)
        assert time.monotonic() - t0 < 4.5, sql
    import os

    assert not os.path.exists("/tmp/lw_escape_test")
    with trended.connect() as c:
        role = c.execute(text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                              "WHERE rolname = 'labourwatch_analyst'")).one()
    assert tuple(role) == (False, False, False)


def test_grant_analyst_command(engine: Engine) -> None:
    """`labourwatch db grant-analyst` is idempotent and grants the views, never the tables."""
    for _ in range(2):
        r = runner.invoke(app, ["db", "grant-analyst"])
        assert r.exit_code == 0, r.output
    if engine.dialect.name != "postgresql":
        assert "SQLite needs no analyst role" in r.output
        return
    with engine.connect() as c:
        can = c.execute(text("SELECT has_table_privilege('labourwatch_analyst', 'v_demand_monthly', 'SELECT'), "
                             "has_table_privilege('labourwatch_analyst', 'postings', 'SELECT'), "
                             "has_table_privilege('labourwatch_analyst', 'trend_demand', 'SELECT')")).one()
    assert tuple(can) == (True, False, False)
