"""End to end against ground truth: crawl → classify (real packaged model) → dedupe → trends ≈ the board's truth.

Every posting the board generated carries its true labels, and the truth files hold the true monthly
aggregates over canonical, well-formed postings. The pipeline's figures can differ from them for three
reasons: postings lost or stored twice (must not happen: checked exactly), duplicates linked differently
from the truth (dedupe is a heuristic), and labels the classifier got wrong. The tolerance of each figure
is the error measured on these same postings: a share over n postings moves by at most (postings of the
period whose label on that field is wrong + postings whose duplicate status is wrong) / n. Those error
rates must themselves stay under floors (references_ai and 3+ years ≥ 95%, role ≥ 85%, dedupe ≤ 5%), so
the tolerances stay meaningful: on this board they come to a few points at most.
"""


from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, text

from db.session import get_engine

pytestmark = pytest.mark.slow

N_POSTINGS = 2500
FLOORS = {"references_ai": 0.95, "requires_3plus": 0.95, "role_category": 0.85}
# Dedupe is a heuristic too: the share of postings whose canonical/duplicate status differs from the truth.
MAX_DEDUPE_ERROR = 0.05
STYLE = {"demo_html": "html", "demo_api": "api"}


def _truth(out: Path, dataset: Any) -> tuple[dict, dict, dict]:
    from demoboard.truth import write_truth

    files = write_truth(dataset, out)
    with files.postings.open(encoding="utf-8") as fh:
        postings = {(r["style"], r["external_id"]): r for r in csv.DictReader(fh)}
    with files.monthly.open(encoding="utf-8") as fh:
        monthly = {(r["month"], r["role_category"]): r for r in csv.DictReader(fh)}
    headline = json.loads(files.headline.read_text(encoding="utf-8"))
    return postings, monthly, headline


def _labels(engine: Any) -> list[dict[str, Any]]:
    q = ("SELECT s.name AS source, p.external_id, p.canonical_id, l.role_category, l.ai_level, "
         "l.requires_3plus_years FROM postings p JOIN sources s ON s.id = p.source_id "
         "JOIN posting_labels l ON l.posting_id = p.id")
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(text(q))]


def _share(engine: Any, metric: str, category: str, months: list[str]) -> tuple[float, int]:
    q = text("SELECT sum(k), sum(n) FROM trend_shares WHERE period_type='month' AND dim='all' "
             "AND category=:c AND metric=:m AND period IN :months").bindparams(bindparam("months", expanding=True))
    with engine.connect() as c:
        k, n = c.execute(q, {"c": category, "m": metric, "months": months}).one()
    return (k or 0) / n, int(n)


@pytest.fixture(scope="module")
def truth_dataset():  # type: ignore[no-untyped-def]
    from demoboard.generator import generate

    return generate(n_postings=N_POSTINGS, seed=2026)


def test_headline_figures_match_ground_truth(prefect_api: None, truth_dataset: Any, shared_cache: str,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from demoboard.server import DemoBoard
    from flows.nightly import nightly
    from labourwatch.settings import get_settings

    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", shared_cache)  # the real packaged model, built once
    true_posts, monthly, headline = _truth(tmp_path / "truth", truth_dataset)
    with DemoBoard(truth_dataset) as board:
        monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", board.url)
        get_settings.cache_clear()
        report = nightly(crawl_retries=1)
    assert report.ok, report.markdown()
    engine = get_engine()

    # 1. Nothing lost, nothing stored twice, malformed pages rejected.
    rows = _labels(engine)
    keys = [(STYLE[r["source"]], r["external_id"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert set(keys) == {k for k, t in true_posts.items() if t["malformed"] == "false"}

    # 2. The classifier's error on these postings, overall and per period (the tolerance of the figures).
    from models.taxonomy import load_taxonomy

    new_economy = set(load_taxonomy().groups["new_economy"])

    def flag(v: str) -> bool | None:
        return None if v == "" else v == "true"

    wrong: dict[str, int] = defaultdict(int)
    by_period: dict[tuple[str, str], int] = defaultdict(int)  # (field, year or month) -> wrong canonical labels
    for r, key in zip(rows, keys, strict=True):
        t = true_posts[key]
        bad = {"role_category": r["role_category"] != t["role_category"],
               "new_economy": (r["role_category"] in new_economy) != (t["role_category"] in new_economy),
               "references_ai": (r["ai_level"] != "none") != flag(t["references_ai"]),
               "requires_3plus": r["requires_3plus_years"] != flag(t["requires_3plus_years"])}
        for f, b in bad.items():
            wrong[f] += b
            if r["canonical_id"] is None and b:
                by_period[(f, t["month"][:4])] += 1
                by_period[(f, t["month"])] += 1
        # A posting counted by us but not by the truth, or the reverse (a missed or a reversed link).
        if (r["canonical_id"] is None) == flag(t["is_duplicate"]):
            wrong["dedupe"] += 1
            by_period[("dedupe", t["month"][:4])] += 1
            by_period[("dedupe", t["month"])] += 1
    err = {f: wrong[f] / len(rows) for f in (*FLOORS, "dedupe")}
    for field, floor in FLOORS.items():
        assert 1 - err[field] >= floor, f"{field} accuracy {1 - err[field]:.3f} below {floor} on the demo board"
    assert err["dedupe"] <= MAX_DEDUPE_ERROR, f"dedupe disagrees with the truth on {err['dedupe']:.1%} of postings"

    # 3. Canonical postings per month: the trend tables count exactly our canonical postings, and those
    #    differ from the truth's only by the postings dedupe got wrong.
    with engine.connect() as c:
        counted = dict(c.execute(text("SELECT period, n FROM trend_demand WHERE period_type='month' AND dim='all' "
                                      "AND category='all'")).all())
        ours = dict(c.execute(text("SELECT posted_month, count(*) FROM postings WHERE canonical_id IS NULL "
                                   "GROUP BY posted_month")).all())
    true_counts = {m: int(r["postings"]) for (m, g), r in monthly.items() if g == "all" and int(r["postings"])}
    assert counted == ours
    assert counted.keys() == true_counts.keys()
    for m, n in true_counts.items():
        assert abs(counted[m] - n) <= by_period[("dedupe", m)], (m, counted[m], n)

    # 4. AI shares per year (all postings, and new-economy ones) within the references_ai error.
    months_of = defaultdict(list)
    for m in true_counts:
        months_of[m[:4]].append(m)
    for year, months in months_of.items():
        share, n = _share(engine, "references_ai", "all", months)
        truth = headline["ai_share_by_year"][year]
        bound = (by_period[("references_ai", year)] + by_period[("dedupe", year)]) / n
        assert abs(share - truth) <= bound + 0.005, (year, share, truth, bound)
        # The new-economy share also moves when a role error puts a posting in or out of the group.
        share_ne, n_ne = _share(engine, "references_ai", "new_economy", months)
        truth_ne = headline["ai_share_new_economy_by_year"][year]
        bound = sum(by_period[(f, year)] for f in ("references_ai", "new_economy", "dedupe")) / n_ne
        assert abs(share_ne - truth_ne) <= bound + 0.005, (year, share_ne, truth_ne, bound)
    # The rise the board was built with is recovered: 2026 clearly above 2025.
    assert _share(engine, "references_ai", "all", months_of["2026"])[0] > \
        _share(engine, "references_ai", "all", months_of["2025"])[0] + 0.05

    # 5. Share requiring 3+ years in the newest three months, within the experience error.
    newest = headline["newest_months"]
    share3, n3 = _share(engine, "requires_3plus", "all", newest)
    bound3 = sum(by_period[(f, m)] for m in newest for f in ("requires_3plus", "dedupe")) / n3
    assert abs(share3 - headline["share_3plus_newest_months"]) <= bound3 + 0.005, (share3, bound3)
