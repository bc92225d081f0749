"""The trends, findings and query commands end to end on a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from db.bulk import bulk_insert_labelled
from flows.cli import app
from tests.db.test_trends import base_data

runner = CliRunner()


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    return engine


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_trends_findings_and_query_commands(loaded: Engine, tmp_path: Path) -> None:
    r = invoke("trends")
    assert r.exit_code == 0, r.output
    assert "recomputed" in r.output and "synthetic" not in r.output
    assert "nothing changed" in invoke("trends").output
    assert "recomputed 1 months" in invoke("trends", "--since", "2026-03").output

    r = invoke("findings", "--month", "2026-03", "--lang", "zh")
    assert r.exit_code == 0, r.output
    assert "传统软件开发岗位新发职位同比下降25%" in r.output
    # design_basic has 20 postings: its change is named, with the small-sample caveat, not withheld
    assert "基础设计" in r.output and "样本低于单元最小值100" in "".join(r.output.split())
    data = {f["key"]: f for f in json.loads(invoke("findings", "--month", "2026-03", "--lang", "en", "--format",
                                                   "json").output)}
    assert data["demand_yoy.software_dev"]["value"] == pytest.approx(-0.25)

    out = invoke("query", "demand_yoy", "--format", "csv").output
    rows = {row["category"]: row for row in csv.DictReader(io.StringIO(out))}
    assert float(rows["software_dev"]["yoy_change"]) == pytest.approx(-0.25)
    js = json.loads(invoke("query", "change", "-p", "from=2025-03", "-p", "to=2026-03", "--format", "json").output)
    assert {r["category"] for r in js} >= {"software_dev", "all"}
    target = tmp_path / "ai.parquet"
    assert invoke("query", "ai_share", "--format", "parquet", "--output", str(target)).exit_code == 0
    import pyarrow.parquet as pq

    table = pq.read_table(target)
    assert "share_references_ai" in table.column_names and table.num_rows >= 2
    listing = invoke("query", "--list").output
    assert "demand_yoy" in listing and "v_experience_monthly" in listing


def test_query_refuses_writes_with_a_clear_message(loaded: Engine) -> None:
    r = runner.invoke(app, ["query", "--sql", "DELETE FROM postings"])
    assert r.exit_code == 2
    assert "DELETE is not a read" in r.output
    r = runner.invoke(app, ["query", "--sql", "SELECT SUM(postings) AS n FROM v_duplicates_by_source",
                            "--format", "csv"])
    assert r.exit_code == 0 and r.output.splitlines()[1] == str(len(base_data()))
    r = runner.invoke(app, ["query", "--sql", "SELECT COUNT(*) AS n FROM postings"])
    assert r.exit_code == 2 and "refused by the database" in r.output  # tables are not for analysts
    r = runner.invoke(app, ["query", "nope"])
    assert r.exit_code == 2 and "unknown query" in r.output
    r = runner.invoke(app, ["findings", "--month", "2026-3"])
    assert r.exit_code == 2 and "YYYY-MM" in r.output


def test_dedupe_command_reports_rates(engine: Engine) -> None:
    from datetime import date

    from db.repo import PostingIn, store_postings

    text_ = "岗位职责：负责门店日常运营管理，完成销售指标，培训新员工；任职要求：两年以上零售管理经验，沟通能力强。"
    store_postings(engine, [
        PostingIn(source="a", external_id="1", title="店长", company="X", city="上海", posted_at=date(2026, 3, 1),
                  description=text_),
        PostingIn(source="b", external_id="1", title="店长", company="X", city="上海", posted_at=date(2026, 3, 3),
                  description=text_)])
    r = invoke("dedupe", "--since", "2026-03")
    assert r.exit_code == 0 and "1 linked" in r.output and "b 100.0%" in r.output
    assert runner.invoke(app, ["dedupe", "--since", "bad"]).exit_code == 2


def test_shift_share_command(loaded: Engine) -> None:
    assert invoke("trends").exit_code == 0
    r = invoke("shift-share", "--from", "2025-03", "--to", "2026-03")
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "within" in flat and "mix" in flat and "software_dev" in flat
    assert runner.invoke(app, ["shift-share", "--from", "2025-03", "--to", "2026-03", "--group", "x"]).exit_code == 2
