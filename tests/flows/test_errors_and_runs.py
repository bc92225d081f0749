"""Bad input gets one clear line and a non-zero exit, never a traceback; killed runs end as 'interrupted'."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from db import schema
from db.repo import start_run
from db.session import session_scope
from flows.cli import app

runner = CliRunner()


def one_line_error(res, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output, res.output
    first = res.output.strip().splitlines()[0]
    for n in needles:
        assert n in res.output.replace("\n", ""), (n, res.output)
    assert first.startswith("labourwatch"), res.output


def test_findings_on_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 10: `findings` on an unmigrated database printed a traceback."""
    from labourwatch.settings import get_settings

    monkeypatch.setenv("LABOURWATCH_DB_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    res = runner.invoke(app, ["findings", "--month", "2026-03"])
    one_line_error(res, "labourwatch db upgrade")
    assert res.exit_code == 1
    res = runner.invoke(app, ["--debug", "findings", "--month", "2026-03"])
    assert res.exception is not None and "no such table" in str(res.exception)  # --debug lets it through


def test_findings_refuses_unknown_format() -> None:
    """Issue point 11: `findings --format yaml` was accepted."""
    one_line_error(runner.invoke(app, ["findings", "--month", "2026-03", "--format", "yaml"]), "'yaml'")


def test_crawl_unknown_spider() -> None:
    """Issue point 10: `crawl --spider nosuch` printed a traceback."""
    res = runner.invoke(app, ["crawl", "--spider", "nosuch", "--url", "http://127.0.0.1:9/", "--source", "x"])
    one_line_error(res, "'nosuch'", "jobposting")
    assert res.exit_code == 2


@pytest.mark.parametrize("args,needle", [
    (["query", "demand_yoy", "-p", "month=2026-13"], "month=2026-13"),
    (["query", "change", "-p", "from=2026-1", "-p", "to=2026-03"], "from=2026-1"),
    (["query", "demand_series", "-p", "category=nosuch"], "category=nosuch"),
    (["query", "demand_yoy", "-p", "month"], "KEY=VALUE"),
    (["query", "demand_yoy", "--format", "yaml"], "'yaml'"),
    (["query", "--sql", "select 1", "--format", "xlsx"], "--output"),
])
def test_query_parameters_are_validated(engine: Engine, args: list[str], needle: str) -> None:
    res = runner.invoke(app, args)
    one_line_error(res, needle)
    assert res.exit_code == 2


def test_query_exports_xlsx_and_csv_with_bom(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "q.xlsx"
    res = runner.invoke(app, ["query", "--sql", "SELECT '上海' AS city, 2 AS n", "--format", "xlsx", "-o", str(out)])
    assert res.exit_code == 0, res.output
    ws = load_workbook(out).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["city", "n"], ["上海", 2]]
    csv_out = tmp_path / "q.csv"
    res = runner.invoke(app, ["query", "--sql", "SELECT '上海' AS city", "--format", "csv", "-o", str(csv_out)])
    assert res.exit_code == 0 and csv_out.read_bytes().startswith(b"\xef\xbb\xbfcity\r\n")


def test_query_table_shows_category_names_within_80_columns(engine: Engine) -> None:
    res = runner.invoke(app, ["query", "--sql", "SELECT 'supply_chain_repetitive' AS category, 'x' AS dim, "
                                                "12345 AS n, 0.123456 AS yoy_change, 'a long value that must wrap "
                                                "instead of being cut off at all' AS note"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    body = res.output.replace("\n", " ")
    assert "supply_chain_repetitive" in body and "Repetitive" in body and "…" not in res.output
    assert "cut off" in body or "off at" in body


def test_stale_run_is_marked_interrupted_and_status_shows_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 9: a killed import left its crawl_runs row 'running' for ever."""
    from db.runs import mark_interrupted

    with session_scope(engine) as s:
        old = start_run(s, "board", kind="import").id
        fresh = start_run(s, "board2", kind="import").id
    with engine.begin() as c:
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == old).values(
            heartbeat_at=datetime.now(UTC) - timedelta(hours=1), started_at=datetime.now(UTC) - timedelta(hours=2)))
        c.execute(update(schema.CrawlRun).where(schema.CrawlRun.id == fresh).values(heartbeat_at=datetime.now(UTC)))
    assert mark_interrupted(engine) == [old]
    with engine.connect() as c:
        st = dict(c.execute(select(schema.CrawlRun.id, schema.CrawlRun.status)).all())
    assert st == {old: "interrupted", fresh: "running"}
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 0 and "interrupted" in res.output


def test_sigkilled_import_is_interrupted_when_the_next_run_starts(engine: Engine, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A real import process killed with SIGKILL mid-file; the next import marks its run 'interrupted'."""
    path = tmp_path / "big.csv"
    with path.open("w") as fh:
        fh.write("id,title,company,city\n")
        for i in range(200_000):
            fh.write(f"{i},Engineer {i},Acme,Shanghai\n")
    env = dict(os.environ, LABOURWATCH_RUN_STALE_AFTER="2")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "import", str(path), "--source", "big"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as c:
                n = c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one()
            if n > 0:
                break
            assert proc.poll() is None, "the import ended before it could be killed"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    with engine.connect() as c:
        (status,) = c.execute(text("SELECT status FROM crawl_runs")).one()
    assert status == "running"  # nobody closed it
    time.sleep(2.5)
    monkeypatch.setenv("LABOURWATCH_RUN_STALE_AFTER", "2")
    from labourwatch.settings import get_settings

    get_settings.cache_clear()
    small = tmp_path / "small.csv"
    small.write_text("id,title\n1,Analyst\n")
    res = runner.invoke(app, ["import", str(small), "--source", "small"])
    assert res.exit_code == 0, res.output
    with engine.connect() as c:
        rows = c.execute(text("SELECT status, error FROM crawl_runs ORDER BY id")).all()
    assert [r[0] for r in rows] == ["interrupted", "succeeded"]
    assert "no heartbeat" in rows[0][1]
    assert json.dumps(rows[0][0])
