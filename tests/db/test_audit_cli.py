"""`labourwatch audit`: a sample file for analysts (CSV with BOM), their labels back, a report; clear errors."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from db.audit import latest_audit
from db.bulk import bulk_insert_labelled
from flows.cli import app
from tests.db.test_trends import batch


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["audit", *args])


def test_sample_record_report_round_trip(engine: Engine, tmp_path: Path) -> None:
    rows = [*batch("2026-03", "software_dev", 60), *batch("2026-03", "design_basic", 5),
            *batch("2026-03", "sales_bd", 35, ai={"ai_tools": 10})]
    bulk_insert_labelled(engine, rows, model_version="m1", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    assert "no audit recorded" in " ".join(run("report").output.split())
    out = tmp_path / "sample.csv"
    res = run("sample", "--output", str(out), "--n", "20", "--seed", "3")
    assert res.exit_code == 0, res.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens the Chinese titles correctly
    with out.open(encoding="utf-8-sig", newline="") as fh:
        sample = list(csv.DictReader(fh))
    cats = [r["role_category"] for r in sample]
    assert cats.count("design_basic") >= 3  # a small stratum still gets its minimum
    assert abs(cats.count("software_dev") - 12) <= 2  # proportional: 60 of 100 postings
    for i, r in enumerate(sample):
        r["true_role_category"] = r["role_category"] if i % 4 else "data"
        r["true_ai_level"] = r["ai_level"]
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(sample[0]))
        w.writeheader()
        w.writerows(sample)
    res = run("record", str(out), "--auditor", "ana")
    assert res.exit_code == 0 and f"{2 * len(sample)} verdicts" in res.output, res.output
    assert {r.auditor for r in latest_audit(engine)} == {"ana"}
    rep = " ".join(run("report").output.split())
    wrong = (len(sample) + 3) // 4
    assert f"accuracy {(len(sample) - wrong) / len(sample):.1%}" in rep and "data" in rep

    sample[0]["true_role_category"] = "astronaut"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(sample[0]))
        w.writeheader()
        w.writerows(sample)
    res = run("record", str(out))
    flat = " ".join(res.output.split())
    assert res.exit_code == 2 and "row 2" in flat and "'astronaut' is not a known code" in flat
    assert "Traceback" not in res.output
    res = run("record", str(tmp_path / "missing.csv"))
    assert res.exit_code == 2 and "no such file" in " ".join(res.output.split())


def test_sample_without_labels_says_what_to_do(engine: Engine, tmp_path: Path) -> None:
    res = run("sample", "--output", str(tmp_path / "s.xlsx"))
    assert res.exit_code == 2 and "run `labourwatch classify` first" in " ".join(res.output.split())
