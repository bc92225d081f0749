"""Interval statistics: Wilson against published values, Katz coverage, shift-share identity."""

from __future__ import annotations

import math
import random

import pytest

from db.stats import rate_change, shift_share, wilson_interval


# Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score interval without
# continuity correction), 95%.
@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="n > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="k <= n"):
        wilson_interval(5, 4)


def test_katz_interval_formula_and_symmetry_on_log_scale() -> None:
    r = rate_change(75, 100)
    assert r.change == pytest.approx(-0.25)
    # log(0.75) ± 1.96 * sqrt(1/75 + 1/100), by hand: exp(-0.587073) - 1, exp(0.011708) - 1
    assert r.ci_low == pytest.approx(-0.444047, abs=1e-6)
    assert r.ci_high == pytest.approx(0.011776, abs=1e-6)
    mid = (math.log(1 + r.ci_low) + math.log(1 + r.ci_high)) / 2
    assert mid == pytest.approx(math.log(0.75))
    with pytest.raises(ValueError, match="positive counts"):
        rate_change(0, 10)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small means used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_katz_interval_covers_true_ratio_about_95_percent() -> None:
    rng = random.Random(11)
    lam0, lam1, hits, trials = 60.0, 45.0, 0, 2000
    for _ in range(trials):
        n0, n1 = _poisson(rng, lam0), _poisson(rng, lam1)
        r = rate_change(n1, n0)
        hits += r.ci_low <= lam1 / lam0 - 1 <= r.ci_high
    assert 0.93 <= hits / trials <= 0.97


def test_shift_share_parts_sum_to_total_and_split_mix_from_within() -> None:
    # Shares unchanged inside each category; only the mix moves -> the change is all "between".
    a = {"x": (100, 10), "y": (100, 50)}
    b = {"x": (50, 5), "y": (150, 75)}
    ss = shift_share(a, b)
    assert ss.within == pytest.approx(0.0)
    assert ss.total == pytest.approx(80 / 200 - 60 / 200)
    assert ss.between == pytest.approx(ss.total)
    # Same mix, shares rise -> all "within".
    ss2 = shift_share(a, {"x": (100, 20), "y": (100, 60)})
    assert ss2.between == pytest.approx(0.0)
    assert ss2.within == pytest.approx(ss2.total)


def test_shift_share_identity_holds_with_categories_entering_and_leaving() -> None:
    rng = random.Random(3)
    for _ in range(200):
        a = {c: (n, rng.randint(0, n)) for c in "abcde" if (n := rng.randint(0, 50)) and rng.random() < 0.8}
        b = {c: (n, rng.randint(0, n)) for c in "abcdef" if (n := rng.randint(0, 50)) and rng.random() < 0.8}
        if not a or not b:
            continue
        ss = shift_share(a, b)
        assert ss.within + ss.between == pytest.approx(ss.total, abs=1e-12)
        assert sum(w + m for w, m in ss.by_category.values()) == pytest.approx(ss.total, abs=1e-12)
