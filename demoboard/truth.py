"""Ground truth of a generated board: every posting's true labels and the true monthly aggregates, as CSV."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from demoboard.generator import MONTHS, DemoDataset, DemoPosting
from demoboard.texts import NEW_ECONOMY, ROLE_CODES

POSTING_COLUMNS = (
    "style", "external_id", "path", "job_id", "is_duplicate", "malformed", "lang", "posted_at", "month",
    "title", "company", "city", "role_category", "experience_min_years", "experience_max_years",
    "experience_bucket", "requires_3plus_years", "ai_level", "references_ai",
)
MONTHLY_COLUMNS = (
    "month", "role_category", "postings", "references_ai", "ai_share", "ai_incidental", "ai_tools", "ai_skills",
    "experience_stated", "requires_3plus", "share_3plus_among_stated",
)
# Rows of truth_monthly.csv whose role_category is a group rather than a code.
GROUP_ALL = "all"
GROUP_NEW_ECONOMY = "new_economy"


@dataclass(slots=True)
class _Cell:
    postings: int = 0
    ai: dict[str, int] = field(default_factory=lambda: {"incidental": 0, "ai_tools": 0, "ai_skills": 0})
    stated: int = 0
    three_plus: int = 0

    def add(self, p: DemoPosting) -> None:
        self.postings += 1
        if p.ai_level != "none":
            self.ai[p.ai_level] += 1
        if p.requires_3plus_years is not None:
            self.stated += 1
            self.three_plus += p.requires_3plus_years

    def row(self, month: str, group: str) -> dict[str, object]:
        refs = sum(self.ai.values())
        return {
            "month": month, "role_category": group, "postings": self.postings, "references_ai": refs,
            "ai_share": _ratio(refs, self.postings), "ai_incidental": self.ai["incidental"],
            "ai_tools": self.ai["ai_tools"], "ai_skills": self.ai["ai_skills"],
            "experience_stated": self.stated, "requires_3plus": self.three_plus,
            "share_3plus_among_stated": _ratio(self.three_plus, self.stated),
        }


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.6f}" if den else ""


@dataclass(frozen=True, slots=True)
class TruthFiles:
    """Where :func:`write_truth` wrote the ground truth."""

    postings: Path  # truth_postings.csv
    monthly: Path  # truth_monthly.csv
    headline: Path  # truth_headline.json

    def __iter__(self):  # noqa: ANN204 - lets callers unpack ``postings, monthly, headline = write_truth(...)``
        return iter((self.postings, self.monthly, self.headline))


@dataclass(frozen=True, slots=True)
class Headline:
    """The seed findings as the generated truth states them (canonical, well-formed postings)."""

    yoy: dict[str, float]  # role_category -> change 2026-03 vs 2025-03 (−0.25 = −25%)
    yoy_counts: dict[str, tuple[int, int]]  # role_category -> (2025-03, 2026-03)
    ai_share_by_year: dict[str, float]
    ai_share_new_economy_by_year: dict[str, float]
    share_3plus_newest: float  # among postings stating experience, the newest three months
    newest_months: tuple[str, ...]
    postings: int


def posting_row(p: DemoPosting) -> dict[str, object]:
    """One row of truth_postings.csv (booleans as true/false, missing numbers as empty)."""
    def b(x: bool | None) -> str:
        return "" if x is None else ("true" if x else "false")

    return {
        "style": p.style, "external_id": p.external_id, "path": p.path, "job_id": p.job_id,
        "is_duplicate": b(p.is_duplicate), "malformed": b(p.malformed), "lang": p.lang,
        "posted_at": p.posted_at.isoformat(), "month": p.month, "title": p.title, "company": p.company,
        "city": p.city, "role_category": p.role_category,
        "experience_min_years": "" if p.experience_min_years is None else p.experience_min_years,
        "experience_max_years": "" if p.experience_max_years is None else p.experience_max_years,
        "experience_bucket": p.experience_bucket, "requires_3plus_years": b(p.requires_3plus_years),
        "ai_level": p.ai_level, "references_ai": b(p.references_ai),
    }


class MonthlyTruth:
    """Accumulates the true monthly aggregates from a stream of postings."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], _Cell] = {}

    def add(self, p: DemoPosting) -> None:
        if not p.counts:
            return
        groups = [p.role_category, GROUP_ALL] + ([GROUP_NEW_ECONOMY] if p.role_category in NEW_ECONOMY else [])
        for g in groups:
            self.cells.setdefault((p.month, g), _Cell()).add(p)

    def rows(self) -> list[dict[str, object]]:
        """Every month × (25 codes, then 'all' and 'new_economy'), zero rows included."""
        out = []
        for month in MONTHS:
            for g in (*ROLE_CODES, GROUP_ALL, GROUP_NEW_ECONOMY):
                out.append(self.cells.get((month, g), _Cell()).row(month, g))
        return out

    def headline(self) -> Headline:
        def n(month: str, g: str) -> int:
            cell = self.cells.get((month, g))
            return cell.postings if cell else 0

        yoy, yoy_counts = {}, {}
        for code in ROLE_CODES:
            a, b = n("2025-03", code), n("2026-03", code)
            yoy_counts[code] = (a, b)
            yoy[code] = (b / a - 1) if a else math.nan

        def share_by_year(group: str) -> dict[str, float]:
            out = {}
            for year in ("2024", "2025", "2026"):
                cells = [c for (m, g), c in self.cells.items() if g == group and m.startswith(year)]
                total = sum(c.postings for c in cells)
                out[year] = sum(sum(c.ai.values()) for c in cells) / total if total else math.nan
            return out

        newest = MONTHS[-3:]
        cells = [self.cells[(m, GROUP_ALL)] for m in newest if (m, GROUP_ALL) in self.cells]
        stated = sum(c.stated for c in cells)
        return Headline(
            yoy=yoy, yoy_counts=yoy_counts, ai_share_by_year=share_by_year(GROUP_ALL),
            ai_share_new_economy_by_year=share_by_year(GROUP_NEW_ECONOMY),
            share_3plus_newest=sum(c.three_plus for c in cells) / stated if stated else math.nan,
            newest_months=tuple(newest), postings=sum(c.postings for (_, g), c in self.cells.items() if g == GROUP_ALL),
        )


def monthly_truth(postings: Iterable[DemoPosting]) -> MonthlyTruth:
    """The true monthly aggregates of ``postings`` (canonical, well-formed ones only)."""
    acc = MonthlyTruth()
    for p in postings:
        acc.add(p)
    return acc


def headline(dataset: DemoDataset | Iterable[DemoPosting]) -> Headline:
    """The seed findings as the generated truth states them."""
    postings = dataset.postings if isinstance(dataset, DemoDataset) else dataset
    return monthly_truth(postings).headline()


def write_truth(dataset: DemoDataset | Iterable[DemoPosting], out_dir: str | Path) -> TruthFiles:
    """Write truth_postings.csv, truth_monthly.csv and truth_headline.json under ``out_dir``.

    Takes a dataset or any iterable of postings (e.g. :func:`demoboard.generator.iter_postings`, which
    keeps memory flat for a million postings). Returns the three paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    postings = dataset.postings if isinstance(dataset, DemoDataset) else dataset
    files = TruthFiles(postings=out / "truth_postings.csv", monthly=out / "truth_monthly.csv",
                       headline=out / "truth_headline.json")
    acc = MonthlyTruth()
    with files.postings.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=POSTING_COLUMNS)
        writer.writeheader()
        for p in postings:
            writer.writerow(posting_row(p))
            acc.add(p)
    with files.monthly.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MONTHLY_COLUMNS)
        writer.writeheader()
        writer.writerows(acc.rows())
    h = acc.headline()
    payload = {
        "postings_counted": h.postings,
        "yoy_2026_03_vs_2025_03": {k: _num(v) for k, v in h.yoy.items()},
        "yoy_counts": {k: list(v) for k, v in h.yoy_counts.items()},
        "ai_share_by_year": {k: _num(v) for k, v in h.ai_share_by_year.items()},
        "ai_share_new_economy_by_year": {k: _num(v) for k, v in h.ai_share_new_economy_by_year.items()},
        "share_3plus_newest_months": _num(h.share_3plus_newest),
        "newest_months": list(h.newest_months),
        "counted": "canonical (first occurrence), well-formed postings; shares of 3+ years among those stating",
    }
    files.headline.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return files
