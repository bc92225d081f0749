"""`labourwatch audit report --month --country`: a month's role-category shares, observed and corrected with
the market's audit confusion matrix (``db.audit.adjusted_category_shares``), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from db.audit import MIN_CATEGORY_AUDIT, AuditIn, adjusted_category_shares, category_adjustment, record_audit
from db.bulk import bulk_insert_labelled
from flows.cli import app
from tests.db.test_trends import batch

MV = "m-audit-1"
MONTH = "2026-03"
# Postings the classifier put in each category, per market, in MONTH (and a year earlier, for history).
CN = {"software_dev": 300, "design_basic": 120, "marketing": 180}
GB = {"software_dev": 90, "sales_bd": 60}


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["audit", "report", *args])


def squash(s: str) -> str:
    return " ".join(s.split())


def _load(engine: Engine) -> dict[tuple[str, str], list[int]]:
    """Insert the labelled postings, compute the trend tables; posting ids per (country, predicted role)."""
    from db.trends import update_trends
    from models.taxonomy import load_taxonomy

    rows, keys = [], []
    for month in ("2025-03", MONTH):
        for country, cells in (("CN", CN), ("GB", GB)):
            for role, n in cells.items():
                for p in batch(month, role, n, lang="zh" if country == "CN" else "en"):
                    rows.append(replace(p, country=country))
                    keys.append((country, role, month))
    ids = bulk_insert_labelled(engine, rows, model_version=MV, labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    update_trends(engine, {k: list(v) for k, v in load_taxonomy().groups.items()})
    out: dict[tuple[str, str], list[int]] = {}
    for pid, (country, role, month) in zip(ids, keys, strict=True):
        if month == MONTH:
            out.setdefault((country, role), []).append(pid)
    return out


def _audit(engine: Engine, ids: dict[tuple[str, str], list[int]], gb_labels: int = 10) -> None:
    """CN: 40 audited design_basic predictions, half of them really software_dev; 30 software_dev and 20
    marketing predictions all right. GB: a handful of verdicts, too few to correct."""
    items = []
    for i, pid in enumerate(ids[("CN", "design_basic")][:40]):
        items.append(AuditIn(pid, "role_category", true_value="software_dev" if i % 2 else "design_basic",
                             predicted="design_basic", model_version=MV))
    for role, k in (("software_dev", 30), ("marketing", 20)):
        items += [AuditIn(pid, "role_category", true_value=role, predicted=role, model_version=MV)
                  for pid in ids[("CN", role)][:k]]
    items += [AuditIn(pid, "role_category", true_value="software_dev", predicted="software_dev", model_version=MV)
              for pid in ids[("GB", "software_dev")][:gb_labels]]
    items.append(AuditIn(ids[("GB", "sales_bd")][0], "ai_level", true_value="none", predicted="none",
                         model_version=MV))
    record_audit(engine, items)


@pytest.fixture
def audited(engine: Engine) -> Engine:
    _audit(engine, _load(engine))
    return engine


def _counts(engine: Engine, country: str) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT category, n FROM trend_demand WHERE period_type = 'month' AND period = :m "
                              "AND dim = 'country' AND dim_value = :cc"), {"m": MONTH, "cc": country}).all()
    from models.taxonomy import load_taxonomy

    groups = set(load_taxonomy().groups) | {"all"}
    return {c: int(n) for c, n in rows if c not in groups and n}


def test_printed_shares_equal_adjusted_category_shares(audited: Engine) -> None:
    res = run("--month", MONTH, "--country", "CN", "--format", "json")
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    counts = _counts(audited, "CN")
    assert counts == CN  # the observed counts are the market's trend rows, not the pooled ones
    expected = {a.key: a for a in adjusted_category_shares(audited, counts, model_version=MV, country="CN")}
    assert printed["month"] == MONTH and printed["country"] == "CN" and printed["model_version"] == MV
    assert printed["postings"] == sum(CN.values()) and printed["audit_n"] == 90  # GB's verdicts are not used
    rows = {r["category"]: r for r in printed["categories"]}
    assert set(rows) == set(expected)
    for code, a in expected.items():
        r = rows[code]
        assert (r["observed_share"], r["adjusted_share"], r["ci_low"], r["ci_high"]) == (
            a.observed, a.value, a.ci_low, a.ci_high), code
        assert r["postings"] == CN.get(code, 0)
    assert {c: r["audited"] for c, r in rows.items()} == {"software_dev": 30, "design_basic": 40, "marketing": 20}
    assert [r["category"] for r in printed["categories"]] == sorted(CN, key=lambda c: -CN[c])  # largest first

    # The table and the CSV print the same figures.
    table = squash(run("--month", MONTH, "--country", "CN").output)
    assert "90 audited postings" in table and f"{sum(CN.values()):,} postings" in table
    a = expected["design_basic"]
    assert (f"design_basic 120 {a.observed * 100:.1f}% {a.value * 100:.1f}% "
            f"({a.ci_low * 100:.1f}%–{a.ci_high * 100:.1f}%) 40") in table
    res = run("--month", MONTH, "--country", "CN", "--format", "csv")
    assert res.exit_code == 0, res.output
    got = {r["category"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    for code, a in expected.items():
        assert float(got[code]["adjusted_share"]) == pytest.approx(a.value, abs=1e-6)
        assert float(got[code]["ci_low"]) == pytest.approx(a.ci_low, abs=1e-6)


def test_known_confusion_moves_the_shares_the_right_way(audited: Engine) -> None:
    adj = category_adjustment(audited, MONTH, "CN", exclude={"all", "new_economy"})
    assert adj.adjusted and adj.n_audit == 90
    by = {r.code: r for r in adj.rows}
    total = sum(CN.values())
    # Half the audited design_basic predictions are really software_dev: design_basic shrinks to half and
    # software_dev gains what it loses; marketing, audited without error, stays.
    db, sd, mk = by["design_basic"], by["software_dev"], by["marketing"]
    assert db.observed == pytest.approx(120 / total) and db.adjusted == pytest.approx(60 / total)
    assert sd.adjusted == pytest.approx((300 + 60) / total)
    assert mk.adjusted == pytest.approx(mk.observed)
    assert db.ci_high < db.observed < sd.observed < sd.ci_low  # the intervals exclude the labelled shares
    assert db.ci_low <= db.adjusted <= db.ci_high and sd.ci_low <= sd.adjusted <= sd.ci_high
    assert sum(r.adjusted for r in adj.rows) == pytest.approx(1.0)


def test_too_few_labels_are_named(audited: Engine) -> None:
    res = run("--month", MONTH, "--country", "GB")
    out = squash(res.output)
    assert res.exit_code == 2, res.output
    assert "not adjusted" in out and "10 role_category labels" in out and f"at least {MIN_CATEGORY_AUDIT}" in out
    assert "GB postings" in out and "audit sample --country GB" in out and "Traceback" not in res.output
    res = run("--country", "GB", "--format", "json")  # the latest month by default, same refusal
    assert res.exit_code == 2 and "10 role_category labels" in squash(res.output)


def test_a_market_with_its_own_audit_is_corrected(engine: Engine) -> None:
    ids = _load(engine)
    _audit(engine, ids, gb_labels=MIN_CATEGORY_AUDIT)
    res = run("--country", "GB", "--format", "json")
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    assert printed["audit_n"] == MIN_CATEGORY_AUDIT and printed["country"] == "GB"
    # Every GB verdict agreed with the classifier: the shares stay as labelled.
    for r in printed["categories"]:
        assert r["adjusted_share"] == pytest.approx(r["observed_share"]), r


def test_month_and_format_errors_are_plain(audited: Engine) -> None:
    for args, words in ((("--month", "2026-13"), "YYYY-MM"), (("--month", "2019-01", "--country", "CN"),
                                                                "no trend rows for 2019-01 in CN"),
                        (("--country", "ZZ"), "ZZ"), (("--month", MONTH, "--format", "xml"), "table, csv or json"),
                        (("--format", "csv"), "csv needs --month or --country"),
                        (("--month", MONTH, "--model-version", MV), "drop --model-version")):
        res = run(*args)
        assert res.exit_code == 2 and words in squash(res.output), (args, res.output)
        assert "Traceback" not in res.output
    res = run("--country", "CN", "--format", "json")  # no month: the market's latest
    assert res.exit_code == 0 and json.loads(res.stdout)["month"] == MONTH
    res = run("--month", MONTH, "--format", "json")  # no country: the largest market
    assert res.exit_code == 0 and json.loads(res.stdout)["country"] == "CN"
