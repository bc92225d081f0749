"""`labourwatch shift-share` names what is wrong with its arguments and prints table, CSV or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from db.bulk import bulk_insert_labelled
from db.trends import update_trends
from flows.cli import app
from tests.db.test_trends import GROUPS, base_data


@pytest.fixture
def trended(engine: Engine) -> Engine:
    bulk_insert_labelled(engine, base_data(), model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    return engine


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["shift-share", *args])


def test_bad_arguments_get_their_own_message(trended: Engine) -> None:
    cases = {
        ("--from", "2026-13", "--to", "2026-03"): "both be months (YYYY-MM) or both ISO weeks",
        ("--from", "2025-03", "--to", "2026-W10"): "both be months",
        ("--from", "2026-03", "--to", "2026-03"): "the same period",
        ("--from", "2025-03", "--to", "2026-03", "--metric", "colour"): "unknown metric 'colour'",
        ("--from", "2025-03", "--to", "2026-03", "--dim", "planet"): "unknown dim 'planet'",
        ("--from", "2025-03", "--to", "2026-03", "--dim", "city"): "needs a value",
        ("--from", "2025-03", "--to", "2026-03", "--dim", "city", "--dim-value", "火星"): "known values: 上海, 北京",
        ("--from", "2021-03", "--to", "2026-03"): "months with data run from 2024-01 to 2026-03",
        ("--from", "2025-03", "--to", "2026-03", "--group", "nope"): "unknown group 'nope'",
        ("--from", "2025-03", "--to", "2026-03", "--format", "xml"): "--format must be table, csv or json",
    }
    for args, message in cases.items():
        res = run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert message in " ".join(res.output.split()), (args, res.output)
        assert "Traceback" not in res.output and "labourwatch trends` first" not in res.output


def test_empty_tables_point_to_trends(engine: Engine) -> None:
    res = run("--from", "2025-03", "--to", "2026-03")
    assert res.exit_code == 2 and "run `labourwatch trends` first" in " ".join(res.output.split())


def test_json_and_csv_output(trended: Engine) -> None:
    res = run("--from", "2025-03", "--to", "2026-03", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["total"] == pytest.approx(out["within"] + out["mix"])
    assert out["share_to"] == pytest.approx(60 / 170) and out["n_from"] == 240
    csv_out = run("--from", "2025-03", "--to", "2026-03", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "category,within,mix" and csv_out[-1].startswith("total,")
