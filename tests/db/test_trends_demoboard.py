"""The demo board's TRUE labels loaded straight into the database give back the generator's truth aggregates."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from sqlalchemy import Engine, text

pytest.importorskip("demoboard.truth")

from brief.findings import headline_findings  # noqa: E402
from db.bulk import LabelledPosting, bulk_insert_labelled  # noqa: E402
from db.dedupe import link_duplicates  # noqa: E402
from db.trends import update_trends  # noqa: E402
from demoboard.generator import DemoDataset, generate  # noqa: E402
from demoboard.texts import NEW_ECONOMY  # noqa: E402
from demoboard.truth import monthly_truth  # noqa: E402

GROUPS = {"new_economy": sorted(NEW_ECONOMY)}


@cache
def dataset(n: int) -> DemoDataset:
    return generate(n, seed=2026)


def load(engine: Engine, ds: DemoDataset, link_truth: bool) -> None:
    """Every well-formed page (reposts included) with its true labels; optionally the true duplicate links."""
    pages = [p for p in ds.postings if not p.malformed]
    ids = bulk_insert_labelled(engine, (LabelledPosting(
        source=f"demo-{p.style}", external_id=p.external_id, title=p.title, posted_at=p.posted_at,
        role_category=p.role_category, ai_level=p.ai_level, requires_3plus_years=p.requires_3plus_years,
        company=p.company, city=p.city, lang=p.lang, description=p.description) for p in pages),
        model_version="truth", labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    if link_truth:
        first: dict[str, int] = {}
        links = []
        for p, pid in zip(pages, ids, strict=True):
            if not p.is_duplicate:
                first[p.job_id] = pid
        for p, pid in zip(pages, ids, strict=True):
            if p.is_duplicate:
                links.append({"c": first[p.job_id], "p": pid})
        with engine.begin() as c:
            c.execute(text("UPDATE postings SET canonical_id = :c WHERE id = :p"), links)


def test_trend_tables_equal_the_generated_truth(engine: Engine) -> None:
    ds = dataset(6000)
    load(engine, ds, link_truth=True)
    update_trends(engine, GROUPS)
    with engine.connect() as c:
        demand = {(m, cat): n for m, cat, n in c.execute(text(
            "SELECT period, category, n FROM trend_demand WHERE period_type = 'month' AND dim = 'all'"))}
        shares = {(m, cat, metric): (n, k) for m, cat, metric, n, k in c.execute(text(
            "SELECT period, category, metric, n, k FROM trend_shares WHERE period_type = 'month' AND dim = 'all'"))}
    checked = 0
    for row in monthly_truth(ds.postings).rows():
        key = (row["month"], row["role_category"])
        if row["postings"] == 0:
            assert key not in demand
            continue
        assert demand[key] == row["postings"], key
        assert shares[(*key, "references_ai")] == (row["postings"], row["references_ai"]), key
        for level in ("ai_incidental", "ai_tools", "ai_skills"):
            assert shares[(*key, level)][1] == row[level], (key, level)
        assert shares[(*key, "requires_3plus")] == (row["experience_stated"], row["requires_3plus"]), key
        checked += 1
    assert checked > 300


@pytest.mark.slow
def test_headline_figures_with_dedupe_instead_of_true_links(engine: Engine) -> None:
    ds = dataset(20000)
    truth = monthly_truth(ds.postings).headline()
    load(engine, ds, link_truth=False)
    report = link_duplicates(engine)
    with engine.connect() as c:
        pairs = {ext: (canon, src) for ext, canon, src in c.execute(text(
            "SELECT p.external_id || '@' || s.name, p.canonical_id, s.name FROM postings p "
            "JOIN sources s ON s.id = p.source_id"))}
    is_dup = {f"{p.external_id}@demo-{p.style}": p.is_duplicate for p in ds.postings if not p.malformed}
    linked = {k for k, (canon, _) in pairs.items() if canon is not None}
    true_dups = {k for k, d in is_dup.items() if d}
    precision = len(linked & true_dups) / max(1, len(linked))
    recall = len(linked & true_dups) / max(1, len(true_dups))
    # Reposts keep their text, so dedupe should find nearly all of them and link no distinct job.
    assert recall >= 0.98, (recall, report.summary())
    assert precision >= 0.99, (precision, report.summary())
    update_trends(engine, GROUPS)
    f = {x.key: x for x in headline_findings(engine, "2026-03", "en", groups=GROUPS)}
    sd = f["demand_yoy.software_dev"]
    assert sd.value == pytest.approx(truth.yoy["software_dev"], abs=0.02)
    assert sd.ci_low < truth.yoy["software_dev"] < sd.ci_high
