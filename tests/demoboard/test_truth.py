"""Ground-truth export: the CSV rows are the postings, and the monthly aggregates are recomputable from them."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from demoboard.generator import MONTHS, DemoDataset, iter_postings
from demoboard.texts import NEW_ECONOMY, ROLE_CODES
from demoboard.truth import MONTHLY_COLUMNS, POSTING_COLUMNS, headline, write_truth


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory, small_dataset: DemoDataset):  # noqa: ANN201
    out = tmp_path_factory.mktemp("truth")
    files = write_truth(small_dataset, out)
    return files, read(files.postings), read(files.monthly)


def test_one_row_per_posting_with_its_true_labels(truth, small_dataset: DemoDataset) -> None:  # noqa: ANN001
    files, rows, _ = truth
    assert files.postings.name == "truth_postings.csv" and files.monthly.name == "truth_monthly.csv"
    assert list(rows[0]) == list(POSTING_COLUMNS)
    assert len(rows) == len(small_dataset.postings)
    for row, p in zip(rows, small_dataset.postings, strict=True):
        assert (row["style"], row["external_id"], row["job_id"], row["role_category"], row["ai_level"]) == (
            p.style, p.external_id, p.job_id, p.role_category, p.ai_level)
        assert row["experience_min_years"] == ("" if p.experience_min_years is None else str(p.experience_min_years))
        assert row["requires_3plus_years"] == {None: "", True: "true", False: "false"}[p.requires_3plus_years]
        assert row["is_duplicate"] == ("true" if p.is_duplicate else "false")
        assert row["posted_at"] == p.posted_at.isoformat()


def test_monthly_aggregates_match_the_rows(truth) -> None:  # noqa: ANN001
    _, rows, monthly = truth
    assert list(monthly[0]) == list(MONTHLY_COLUMNS)
    assert len(monthly) == len(MONTHS) * (len(ROLE_CODES) + 2)
    n, ai, stated, plus = Counter(), Counter(), Counter(), Counter()
    levels: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in rows:
        if r["is_duplicate"] == "true" or r["malformed"] == "true":
            continue
        groups = [r["role_category"], "all"] + (["new_economy"] if r["role_category"] in NEW_ECONOMY else [])
        for g in groups:
            key = (r["month"], g)
            n[key] += 1
            ai[key] += r["references_ai"] == "true"
            levels[key][r["ai_level"]] += 1
            if r["requires_3plus_years"]:
                stated[key] += 1
                plus[key] += r["requires_3plus_years"] == "true"
    for m in monthly:
        key = (m["month"], m["role_category"])
        assert int(m["postings"]) == n[key], key
        assert int(m["references_ai"]) == ai[key], key
        assert int(m["ai_tools"]) == levels[key]["ai_tools"], key
        assert int(m["experience_stated"]) == stated[key] and int(m["requires_3plus"]) == plus[key], key
        if n[key]:
            assert float(m["ai_share"]) == pytest.approx(ai[key] / n[key], abs=1e-6)
        else:
            assert m["ai_share"] == ""
    # The per-code rows of a month add up to its 'all' row.
    for month in MONTHS:
        codes = sum(int(m["postings"]) for m in monthly if m["month"] == month and m["role_category"] in ROLE_CODES)
        assert codes == n[(month, "all")]


def test_headline_file_states_the_seed_findings(truth, small_dataset: DemoDataset) -> None:  # noqa: ANN001
    files, _, _ = truth
    data = json.loads(files.headline.read_text(encoding="utf-8"))
    h = headline(small_dataset)
    assert data["yoy_2026_03_vs_2025_03"]["software_dev"] == pytest.approx(h.yoy["software_dev"], abs=1e-6)
    assert data["ai_share_by_year"]["2026"] == pytest.approx(h.ai_share_by_year["2026"], abs=1e-6)
    assert data["share_3plus_newest_months"] == pytest.approx(h.share_3plus_newest, abs=1e-6)
    assert h.postings == sum(p.counts for p in small_dataset.postings)


def test_streamed_export_equals_dataset_export(tmp_path: Path, truth) -> None:  # noqa: ANN001
    files, _, _ = truth
    streamed = write_truth(iter_postings(1500, 7), tmp_path)
    assert streamed.postings.read_bytes() == files.postings.read_bytes()
    assert streamed.monthly.read_bytes() == files.monthly.read_bytes()


def test_default_board_headline(default_dataset: DemoDataset) -> None:
    h = headline(default_dataset)
    assert h.yoy["software_dev"] == pytest.approx(-0.25, abs=0.02)
    assert h.yoy["design_basic"] == pytest.approx(-0.50, abs=0.03)
    assert h.yoy["supply_chain_repetitive"] == pytest.approx(-0.45, abs=0.03)
    assert h.ai_share_by_year["2025"] == pytest.approx(0.22, abs=0.015)
    assert h.ai_share_by_year["2026"] == pytest.approx(0.34, abs=0.015)
    assert h.share_3plus_newest == pytest.approx(0.73, abs=0.02)
