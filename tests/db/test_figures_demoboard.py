"""On the demo board (true labels, per country): the figures an analyst must be able to defend."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from brief.findings import headline_findings
from db.audit import adjusted_category_shares, audit_report, draw_sample, record_audit
from db.bulk import LabelledPosting, bulk_insert_labelled
from db.findings import headline_figures
from db.seasonal import holiday_flags, seasonal_series
from db.stats import wilson_interval
from db.trends import update_trends
from demoboard.generator import DemoDataset, generate
from demoboard.texts import NEW_ECONOMY
from demoboard.truth import write_truth
from flows.audit import read_audit_file, record_demo_truth, write_sample

GROUPS = {"new_economy": sorted(NEW_ECONOMY)}


@cache
def dataset() -> DemoDataset:
    return generate(20000, seed=2026)


def _noisy_ai(level: str, rng: random.Random) -> str:
    """A classifier that misses a quarter of AI mentions and sees AI in 8% of postings without any."""
    if level != "none":
        return "none" if rng.random() < 0.25 else level
    return "incidental" if rng.random() < 0.08 else "none"


def load(engine: Engine, noisy: bool) -> list:
    rng = random.Random(5)
    pages = [p for p in dataset().postings if not p.malformed and not p.is_duplicate]
    labels = [_noisy_ai(p.ai_level, rng) if noisy else p.ai_level for p in pages]
    ids = bulk_insert_labelled(engine, (LabelledPosting(
        source=f"demo_{p.style}", external_id=p.external_id, title=p.title, posted_at=p.posted_at,
        role_category=p.role_category, ai_level=lvl, requires_3plus_years=p.requires_3plus_years, company=p.company,
        city=p.city, lang=p.lang, country=p.country) for p, lvl in zip(pages, labels, strict=True)),
        model_version="m-demo", labelled_at=datetime(2026, 7, 1, tzinfo=UTC))
    update_trends(engine, GROUPS)
    return list(zip(ids, pages, labels, strict=True))


def test_per_country_headlines_name_the_seed_declines_and_flag_the_spring_festival(engine: Engine) -> None:
    load(engine, noisy=False)
    h = headline_figures(engine, "2026-06", groups=GROUPS)
    assert h.market.country == "CN"  # the largest market by default
    falls = {c.category: c for c in h.falls}
    for code in ("design_basic", "supply_chain_repetitive"):
        assert code in falls and falls[code].ci_high < 0, h.ranked[:5]
        assert falls[code].pooling == "last3"  # monthly cells are too small at the demo's size
    gb = headline_figures(engine, "2026-06", country="GB", groups=GROUPS)
    assert gb.n_month < h.n_month / 3
    en = headline_findings(engine, "2026-06", "en", groups=GROUPS)
    assert en[0].text.startswith("Market: China")
    # Spring Festival: 10 Feb 2024, 29 Jan 2025, 17 Feb 2026 -> the Jan/Feb year-on-year changes are flagged.
    assert sorted(holiday_flags(engine, "CN")) == ["2025-01", "2025-02", "2026-01", "2026-02"]
    assert set(holiday_flags(engine, "CN").values()) == {"spring_festival"}
    assert sorted(holiday_flags(engine, "GB")) == ["2025-03", "2025-04"]  # Easter 31 Mar 2024 -> 20 Apr 2025
    jan = headline_findings(engine, "2026-02", "en", groups=GROUPS)
    assert any(f.key == "holiday" and "Spring Festival" in f.text for f in jan)
    ser = seasonal_series(engine, "all", "CN")
    assert ser is not None and ser.status == "yoy_only" and ser.history_months == 30  # < 3 years: YoY only
    with engine.connect() as c:
        flagged = c.execute(text("SELECT COUNT(*) FROM v_demand_seasonal_monthly WHERE dim = 'country' "
                                 "AND dim_value = 'CN' AND holiday_shift = 'spring_festival'")).scalar_one()
    assert flagged > 4 * 20  # every category of the four months


def test_audit_corrects_the_ai_share_and_its_interval_covers_the_truth(engine: Engine, tmp_path: Path) -> None:
    rows = load(engine, noisy=True)
    h0 = headline_figures(engine, "2026-06", groups=GROUPS)
    ai = h0.ai_share
    assert ai is not None and h0.ai_share_adjusted is None
    in_cell = [(p, lvl) for _, p, lvl in rows if p.country == "CN" and p.month == "2026-06"
               and p.role_category in NEW_ECONOMY]
    true_share = sum(p.ai_level != "none" for p, _ in in_cell) / len(in_cell)
    lo, hi = wilson_interval(ai.k, ai.n)
    assert not lo <= true_share <= hi  # the labelling error biases the raw share beyond its own interval

    # An analyst's audit: a stratified sample written to a file, labelled with the truth, read back.
    sample = draw_sample(engine, 500, seed=1)
    assert len({(r.role_category, r.country) for r in sample}) > 30
    path = write_sample(sample, tmp_path / "audit.xlsx")
    truth = {pid: p for pid, p, _ in rows}
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        pid = row[header.index("posting_id")].value
        row[header.index("true_ai_level")].value = truth[pid].ai_level
        row[header.index("true_role_category")].value = truth[pid].role_category
    wb.save(path)
    items = read_audit_file(path, auditor="tester")
    assert len(items) == 2 * len(sample)
    record_audit(engine, items)

    rep = audit_report(engine)
    acc = rep.field("ai_level")
    assert acc is not None and acc.n == len(sample) and acc.accuracy < 0.95
    assert rep.field("role_category").accuracy == 1.0  # type: ignore[union-attr]
    adj = headline_figures(engine, "2026-06", groups=GROUPS).ai_share_adjusted
    assert adj is not None and adj.n_audit == len(sample)
    assert adj.ci_low <= true_share <= adj.ci_high, (adj, true_share)
    assert 0.6 < adj.sensitivity < 0.9 and 0.85 < adj.specificity < 0.98  # type: ignore[operator]
    en = {f.key: f for f in headline_findings(engine, "2026-06", "en", groups=GROUPS)}
    assert "Rogan–Gladen" in en["ai_share_adjusted.new_economy"].text

    # Category shares: true role labels, so the correction leaves them where they are.
    counts = {"software_dev": 300, "design_basic": 50, "sales_bd": 650}
    shares = {s.key: s for s in adjusted_category_shares(engine, counts, n_boot=200)}
    assert shares["software_dev"].value == pytest.approx(0.3) and shares["software_dev"].ci_low < 0.3


def test_demo_truth_is_recorded_as_an_audit(engine: Engine, tmp_path: Path) -> None:
    load(engine, noisy=False)
    files = write_truth(dataset(), tmp_path)
    n = record_demo_truth(engine, Path(files.postings), n=300)
    rep = audit_report(engine)
    assert n == 3 * rep.field("role_category").n  # type: ignore[union-attr]
    assert {f.field for f in rep.fields} == {"role_category", "ai_level", "experience_bucket"}
    assert rep.field("ai_level").accuracy == 1.0 and rep.field("ai_level").origins == ("demo_truth",)  # type: ignore[union-attr]
