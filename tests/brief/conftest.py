"""Plausible trend, source, posting and evaluation rows for brief tests, generated deterministically."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert

from db import schema
from db.stats import rate_change, wilson_interval

LAST_MONTH = "2026-03"
MODEL_VERSION = "roles-test-1"
TAXONOMY_VERSION = "2026.1"
CODES = (
    "software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng", "product_project", "design_basic",
    "design_ux", "content_media", "operations", "marketing", "sales_bd", "customer_service",
    "supply_chain_repetitive", "supply_chain_mgmt", "manufacturing", "engineering_construction",
    "finance_accounting", "hr_admin_legal", "healthcare", "education", "services_hospitality", "management", "other",
)
NEW_ECONOMY = CODES[:11]
# Yearly growth factor per category (the seed evidence: software_dev −25%, design_basic −50%, supply chain −45%).
GROWTH = {"software_dev": 0.75, "design_basic": 0.5, "supply_chain_repetitive": 0.55, "ai_ml": 1.7, "data": 1.12,
          "customer_service": 0.8, "content_media": 0.85, "healthcare": 1.08}
# Monthly postings in 2024; "other" is small enough to be suppressed in some months.
BASE = {"software_dev": 2600, "sales_bd": 3000, "manufacturing": 2400, "services_hospitality": 2200,
        "ai_ml": 420, "other": 95, "management": 260, "design_ux": 180}
AI_BASE = {"ai_ml": 0.92, "data": 0.45, "software_dev": 0.2, "product_project": 0.22, "design_basic": 0.18,
           "content_media": 0.14, "design_ux": 0.2}
SEASON = {1: 1.05, 2: 0.7, 3: 1.18, 4: 1.05, 5: 1.0, 6: 0.95, 7: 0.95, 8: 0.97, 9: 1.05, 10: 0.9, 11: 1.0,
          12: 0.92}


def months(first: str = "2024-01", last: str = LAST_MONTH) -> list[str]:
    out, (y, m) = [], (int(first[:4]), int(first[5:]))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def fill_trend_tables(engine: Engine, last: str = LAST_MONTH, seed: int = 7, min_cell: int = 100) -> None:
    """Monthly trend_demand and trend_shares rows (dim all) from 2024-01 to ``last`` for every category."""
    rng = random.Random(seed)
    now = datetime(2026, 4, 1, tzinfo=UTC)
    periods = months(last=last)
    counts: dict[tuple[str, str], int] = {}
    cells: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for code in CODES:
        base = BASE.get(code, rng.randint(250, 1400))
        growth = GROWTH.get(code, rng.uniform(0.92, 1.06))
        ai0 = AI_BASE.get(code, rng.uniform(0.02, 0.08))
        p3 = rng.uniform(0.35, 0.8)
        for i, p in enumerate(periods):
            t = i / 12
            n = max(1, round(base * growth**t * SEASON[int(p[5:])] * rng.uniform(0.94, 1.06)))
            counts[(p, code)] = n
            share_ai = min(0.97, ai0 * (1 + 0.35 * t))
            k_ai = round(n * share_ai)
            k_skills = round(k_ai * (0.8 if code in ("ai_ml", "data") else 0.3 + 0.05 * t))
            k_tools = round((k_ai - k_skills) * 0.55)
            k_inc = k_ai - k_skills - k_tools
            unstated = round(n * rng.uniform(0.15, 0.3))
            stated = n - unstated
            k3 = round(stated * min(0.95, p3 + 0.02 * t))
            cells[(p, code)] = {
                "references_ai": (n, k_ai), "ai_none": (n, n - k_ai), "ai_incidental": (n, k_inc),
                "ai_tools": (n, k_tools), "ai_skills": (n, k_skills), "requires_3plus": (stated, k3),
                "experience_unstated": (n, unstated),
            }
    for group, members in (("all", CODES), ("new_economy", NEW_ECONOMY)):
        for p in periods:
            counts[(p, group)] = sum(counts[(p, c)] for c in members)
            cells[(p, group)] = {m: (sum(cells[(p, c)][m][0] for c in members),
                                     sum(cells[(p, c)][m][1] for c in members)) for m in cells[(p, CODES[0])]}
    common = {"period_type": "month", "dim": "all", "dim_value": "", "model_version": MODEL_VERSION,
              "taxonomy_version": TAXONOMY_VERSION, "computed_at": now}
    demand, shares = [], []
    for (p, cat), n in counts.items():
        baseline = sum(counts[(q, cat)] for q in periods if q.startswith("2024-")) / 12
        prev = counts.get((f"{int(p[:4]) - 1:04d}{p[4:]}", cat))
        rc = rate_change(n, prev) if prev else None
        demand.append({**common, "period": p, "category": cat, "n": n, "n_prev_year": prev,
                       "yoy_change": rc.change if rc else None, "yoy_ci_low": rc.ci_low if rc else None,
                       "yoy_ci_high": rc.ci_high if rc else None, "baseline_mean": baseline,
                       "index_value": 100 * n / baseline, "suppressed": n < min_cell})
        for metric, (nn, k) in cells[(p, cat)].items():
            lo, hi = wilson_interval(k, nn)
            shares.append({**common, "period": p, "category": cat, "metric": metric, "n": nn, "k": k,
                           "share": k / nn, "ci_low": lo, "ci_high": hi, "suppressed": nn < min_cell})
    with engine.begin() as c:
        c.execute(insert(schema.TrendDemand), demand)
        c.execute(insert(schema.TrendShare), shares)


def fill_metadata(engine: Engine) -> None:
    """Two sources with postings (some linked as duplicates), crawl runs with rejects, and evaluations."""
    now = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    with engine.begin() as c:
        ids = []
        for name, kind in (("demo-board", "board"), ("智联样本", "import")):
            ids.append(c.execute(insert(schema.Source).values(name=name, kind=kind, created_at=now)
                                 .returning(schema.Source.id)).scalar_one())
        # an import run's counters, then a crawl's ({reason: count} under "dropped")
        for sid, stats in zip(ids, ({"rejected": 3, "inserted": 40},
                                    {"dropped": {"missing_title": 4, "bad_date": 1}, "items_scraped": 40}),
                              strict=True):
            c.execute(insert(schema.CrawlRun).values(source_id=sid, kind="crawl", started_at=now, finished_at=now,
                                                     status="succeeded", stats=stats))
        rows = [{"source_id": sid, "external_id": f"{sid}-{i}", "title": f"岗位 {i}", "title_norm": f"岗位 {i}",
                 "posted_at": date(2026, 3, 1 + i % 28), "posted_month": "2026-03", "first_seen": now,
                 "last_seen": now, "content_hash": f"{sid}-{i}"} for sid in ids for i in range(40)]
        c.execute(insert(schema.Posting), rows)
        # the second source's first 8 postings duplicate the first source's: 8 of 80 are duplicates
        first = dict(c.execute(schema.Posting.__table__.select().with_only_columns(
            schema.Posting.external_id, schema.Posting.id)).all())
        for i in range(8):
            c.execute(schema.Posting.__table__.update().where(schema.Posting.external_id == f"{ids[1]}-{i}")
                      .values(canonical_id=first[f"{ids[0]}-{i}"]))
        evals = [("role_category", "accuracy", 0.871, 400), ("role_category", "macro_f1", 0.842, 400),
                 ("experience_bucket", "accuracy", 0.953, 300), ("ai_level", "accuracy", 0.912, 350),
                 ("references_ai", "accuracy", 0.948, 350), ("references_ai", "f1", 0.931, 350)]
        old = datetime(2026, 1, 1, tzinfo=UTC)
        c.execute(insert(schema.Evaluation), [
            {"model_version": MODEL_VERSION, "dataset": "gold-v1", "field": f, "metric": m, "value": v - 0.1,
             "n": n, "created_at": old} for f, m, v, n in evals] + [
            {"model_version": MODEL_VERSION, "dataset": "gold-v1", "field": f, "metric": m, "value": v, "n": n,
             "created_at": now} for f, m, v, n in evals])


@pytest.fixture
def trend_engine(engine: Engine) -> Engine:
    """A migrated database (SQLite and PostgreSQL) holding trend rows and metadata for 2024-01..2026-03."""
    fill_trend_tables(engine)
    fill_metadata(engine)
    return engine
