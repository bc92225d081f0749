"""Seasonal adjustment measured on the demo board, whose trend without seasons is known by construction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class DemoIndexError:
    """RMSE (percent, log scale) of the raw and each adjusted index against the board's built-in trend."""

    country: str
    months: int
    raw: float
    methods: tuple[tuple[str, float], ...]


def demo_truth_trend(months: list[str]) -> np.ndarray:
    """The demo board's market size per month without seasonal factors or noise (Σ weight × level)."""
    from demoboard.generator import MONTHS, PROFILES, category_level

    return np.array([sum(p.weight * category_level(code, MONTHS.index(m)) for code, p in PROFILES.items())
                     for m in months])


def demo_index_errors(n_postings: int = 20000, seed: int = 2026,
                      counts: dict[str, dict[str, int]] | None = None) -> list[DemoIndexError]:
    """Adjust the demo board's monthly canonical postings per country (forced: the board has 30 months, under
    the 36 a published adjustment needs) and compare with the built-in trend. ``counts`` (country -> month ->
    postings, e.g. from the trend tables) replaces the generated board's own counts."""
    from db.seasonal import METHODS, holiday_for, index_error, index_of, seasonal_adjust
    from demoboard.generator import generate
    from labourwatch.contract import month_range

    if counts is None:
        ds = generate(n_postings, seed=seed)
        c = Counter((p.country, p.month) for p in ds.postings if not p.is_duplicate and not p.malformed)
        counts = {}
        for (country, month), n in c.items():
            counts.setdefault(country, {})[month] = n
    out = []
    for country, by_month in sorted(counts.items(), key=lambda kv: -sum(kv[1].values())):
        months = month_range(min(by_month), max(by_month))
        y = [by_month.get(m, 0) for m in months]
        truth = demo_truth_trend(months)
        raw = index_error(index_of(np.maximum(np.asarray(y, dtype=float), 0.5)), truth)
        res = []
        for method in METHODS:
            adj, _ = seasonal_adjust(months, y, holiday_for(country), method)
            res.append((method, index_error(index_of(adj), truth)))
        out.append(DemoIndexError(country, len(months), raw, tuple(res)))
    return out
