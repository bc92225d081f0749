"""Interval statistics for trend cells: Wilson share intervals, Katz rate-ratio intervals, shift-share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` for ``k`` successes out of ``n`` trials.

    Raises ``ValueError`` for ``n <= 0`` or ``k`` outside ``[0, n]``.
    """
    if n <= 0:
        raise ValueError(f"wilson_interval needs n > 0, got n={n}")
    if not 0 <= k <= n:
        raise ValueError(f"wilson_interval needs 0 <= k <= n, got k={k}, n={n}")
    from scipy.stats import norm
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=2 * float(norm.sf(z)), method="wilson")
    return max(0.0, float(low)), min(1.0, float(high))


@dataclass(frozen=True, slots=True)
class RateChange:
    """A relative change ``n1 / n0 - 1`` with its 95% Katz (log rate ratio) interval."""

    n0: int
    n1: int
    change: float
    ci_low: float
    ci_high: float


def rate_change(n1: int, n0: int, z: float = Z95) -> RateChange:
    """Relative change of a Poisson count from ``n0`` (base) to ``n1``, with a Katz log interval.

    The log of the ratio has standard error ``sqrt(1/n1 + 1/n0)``; the interval is
    ``exp(log(n1/n0) ± z·se) − 1``. Both counts must be positive.
    """
    if n0 <= 0 or n1 <= 0:
        raise ValueError(f"rate_change needs positive counts, got n1={n1}, n0={n0}")
    log_r = math.log(n1 / n0)
    se = math.sqrt(1.0 / n1 + 1.0 / n0)
    return RateChange(n0, n1, n1 / n0 - 1.0, math.exp(log_r - z * se) - 1.0, math.exp(log_r + z * se) - 1.0)


@dataclass(frozen=True, slots=True)
class ShiftShare:
    """Change of an overall share between two periods split into within-category and mix parts.

    ``total == within + between`` exactly (symmetric midpoint weights, no interaction term).
    ``by_category`` maps category -> (within part, between part).
    """

    share_a: float
    share_b: float
    total: float
    within: float
    between: float
    n_a: int
    n_b: int
    by_category: Mapping[str, tuple[float, float]]


def shift_share(a: Mapping[str, tuple[int, int]], b: Mapping[str, tuple[int, int]]) -> ShiftShare:
    """Decompose the change of the pooled share k/n from period ``a`` to ``b``.

    Takes ``{category: (n, k)}`` for each period. With weights ``w = n_i / N`` and shares ``s = k_i / n_i``:
    within = Σ mean(w)·Δs, between = Σ mean(s)·Δw. A category present in one period only takes its
    share from the other period, so it contributes to the mix part alone.
    """
    n_a = sum(n for n, _ in a.values())
    n_b = sum(n for n, _ in b.values())
    if n_a <= 0 or n_b <= 0:
        raise ValueError(f"shift_share needs postings in both periods, got n_a={n_a}, n_b={n_b}")
    within = between = 0.0
    parts: dict[str, tuple[float, float]] = {}
    for cat in sorted(set(a) | set(b)):
        na, ka = a.get(cat, (0, 0))
        nb, kb = b.get(cat, (0, 0))
        wa, wb = na / n_a, nb / n_b
        if not na and not nb:
            continue
        # A category absent from one period takes its share from the other (its Δshare is then 0).
        sa = ka / na if na else kb / nb
        sb = kb / nb if nb else sa
        w_part = (wa + wb) / 2 * (sb - sa)
        b_part = (sa + sb) / 2 * (wb - wa)
        within += w_part
        between += b_part
        parts[cat] = (w_part, b_part)
    share_a = sum(k for _, k in a.values()) / n_a
    share_b = sum(k for _, k in b.values()) / n_b
    return ShiftShare(share_a, share_b, share_b - share_a, within, between, n_a, n_b, parts)


class DuplicateCounts:
    """For a record with ``postings`` and ``canonical`` counts: how many are copies, and their rate."""

    __slots__ = ()
    postings: int
    canonical: int

    @property
    def duplicates(self) -> int:
        return self.postings - self.canonical

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.postings if self.postings else None
