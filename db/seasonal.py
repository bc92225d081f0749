"""Seasonal adjustment of monthly demand with moving-holiday regressors (Spring Festival, Easter).

Two candidate methods, both from statsmodels, measured against each other by ``evaluate_methods`` on
synthetic series whose holiday effect and trend are known (``labourwatch bench seasonal`` prints it):

- ``stl_holiday``: a log-linear regression of the series on the holiday regressor, month dummies and a
  trend gives the holiday effect; that effect is removed and STL (robust, period 12) takes out the rest
  of the seasonal pattern.
- ``uc_holiday``: an unobserved-components model (local linear trend + 12-month seasonal + the holiday
  regressor as exogenous) on the log series; the fitted seasonal and holiday parts are removed.

The x13as binary (X-13ARIMA-SEATS) is not on PyPI, so X-13 is not a candidate here.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

from labourwatch.contract import month_add, month_range

METHODS = ("stl_holiday", "uc_holiday")
DEFAULT_METHOD = "uc_holiday"  # lower error than stl_holiday in evaluate_methods (`labourwatch bench seasonal`)
MIN_MONTHS = 36  # fewer than three years of history: publish year-on-year only
# Days around the holiday whose hiring is disrupted (the run-up and the week off), as (first, last) offsets.
_WINDOW = {"spring_festival": (-10, 13), "easter": (-3, 1)}
_EASTER_MARKETS = frozenset({"GB", "IE", "US", "CA", "AU", "NZ", "DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES",
                             "PT", "DK", "SE", "NO", "FI", "PL"})
_SPRING_FESTIVAL_MARKETS = frozenset({"CN", "HK", "TW", "SG", "MO"})


def holiday_for(country: str | None) -> str | None:
    """The moving holiday that shifts hiring in ``country``: spring_festival, easter, or None."""
    if country in _SPRING_FESTIVAL_MARKETS:
        return "spring_festival"
    if country in _EASTER_MARKETS:
        return "easter"
    return None


@cache
def holiday_date(holiday: str, year: int) -> date:
    """The holiday's first day in ``year``: Chinese New Year from the ``holidays`` package, Easter Sunday
    from ``dateutil.easter``."""
    if holiday == "easter":
        from dateutil.easter import easter

        return easter(year)
    if holiday == "spring_festival":
        import holidays

        days = [d for d, name in holidays.country_holidays("CN", years=year).items()
                if "Spring Festival" in name and "observed" not in name.lower()]
        if not days:
            raise ValueError(f"no Spring Festival date known for {year}")
        return min(days)
    raise ValueError(f"unknown holiday {holiday!r}; use spring_festival or easter")


def holiday_share(holiday: str, month: str) -> float:
    """Fraction of the holiday's disrupted window that falls in ``month`` (0..1)."""
    y, m = int(month[:4]), int(month[5:7])
    lo, hi = _WINDOW[holiday]
    total = hi - lo + 1
    inside = 0
    for year in (y - 1, y, y + 1):
        d0 = holiday_date(holiday, year)
        for k in range(lo, hi + 1):
            d = d0 + timedelta(days=k)
            if d.year == y and d.month == m:
                inside += 1
    return inside / total


def holiday_regressor(holiday: str, months: Sequence[str]) -> np.ndarray:
    """The holiday share per month minus its mean for that calendar month over 2000–2049, so the fixed part
    of the holiday stays in the ordinary seasonal pattern and the regressor carries only the move."""
    out = []
    for mo in months:
        cal = int(mo[5:7])
        mean = _calendar_mean(holiday, cal)
        out.append(holiday_share(holiday, mo) - mean)
    return np.asarray(out, dtype=float)


@cache
def _calendar_mean(holiday: str, cal_month: int) -> float:
    return sum(holiday_share(holiday, f"{y:04d}-{cal_month:02d}") for y in range(2000, 2050)) / 50


def holiday_month(holiday: str, year: int) -> int:
    """The month holding most of the holiday's disrupted window in ``year``."""
    shares = {m: holiday_share(holiday, f"{year:04d}-{m:02d}") for m in range(1, 13)}
    return max(shares, key=lambda m: shares[m])


def moved_holiday(country: str | None, month: str) -> str | None:
    """The holiday whose move makes ``month``'s year-on-year change misleading, or None.

    A month is flagged when the holiday's main month differs between this year and the year before and
    ``month`` is one of the two (e.g. 2026-01 and 2026-02 for the Spring Festival of 29 Jan 2025 → 17 Feb 2026).
    """
    hol = holiday_for(country)
    if hol is None:
        return None
    y, m = int(month[:4]), int(month[5:7])
    a, b = holiday_month(hol, y - 1), holiday_month(hol, y)
    return hol if a != b and m in (a, b) else None


@dataclass(frozen=True, slots=True)
class AdjustedPoint:
    """One month of a seasonally adjusted series: raw count, adjusted count and the index (mean = 100)."""

    month: str
    n: int
    adjusted: float
    index: float
    holiday_effect: float  # multiplicative factor removed for the moving holiday (1.0 = none)
    holiday: str | None  # flagged when the year-on-year change crosses a moved holiday


def seasonal_adjust(months: Sequence[str], counts: Sequence[float] | np.ndarray, holiday: str | None,
                    method: str = DEFAULT_METHOD) -> tuple[np.ndarray, np.ndarray]:
    """Seasonally adjust a complete monthly series. Returns ``(adjusted, holiday_factor)`` arrays.

    ``months`` must be consecutive; counts must be positive (zeros are lifted to 0.5 before the log).
    Needs at least 24 months; raises ``ValueError`` otherwise or for an unknown ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown seasonal method {method!r}; choose one of {', '.join(METHODS)}")
    if len(months) != len(counts):
        raise ValueError("months and counts differ in length")
    if len(months) < 24:
        raise ValueError(f"seasonal adjustment needs at least 24 months, got {len(months)}")
    if months != month_range(months[0], months[-1]):
        raise ValueError("months must be consecutive")
    y = np.log(np.maximum(np.asarray(counts, dtype=float), 0.5))
    h = holiday_regressor(holiday, months) if holiday else np.zeros(len(months))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "stl_holiday":
            sa_log, hol = _stl_holiday(months, y, h)
        else:
            sa_log, hol = _uc_holiday(y, h)
    return np.exp(sa_log), np.exp(hol)


def _stl_holiday(months: Sequence[str], y: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import statsmodels.api as sm
    from statsmodels.tsa.seasonal import STL

    n = len(y)
    cal = np.array([int(m[5:7]) for m in months])
    dummies = np.column_stack([(cal == k).astype(float) for k in range(2, 13)])
    t = np.arange(n, dtype=float) / 12
    cols = [np.ones(n), t, t * t, dummies]
    if np.any(h):
        cols.append(h)
    x = np.column_stack(cols)
    fit = sm.OLS(y, x).fit()
    beta = float(fit.params[-1]) if np.any(h) else 0.0
    hol = beta * h
    stl = STL(y - hol, period=12, robust=True, seasonal=13).fit()
    return y - hol - stl.seasonal, hol


def _uc_holiday(y: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    exog = h.reshape(-1, 1) if np.any(h) else None
    mod = UnobservedComponents(y, level="local linear trend", seasonal=12, exog=exog, stochastic_seasonal=False)
    res = mod.fit(disp=False, maxiter=200)
    seasonal = np.asarray(res.seasonal.smoothed)
    beta = float(res.params[-1]) if exog is not None else 0.0
    hol = beta * h
    return y - seasonal - hol, hol


def index_of(adjusted: np.ndarray) -> np.ndarray:
    """An index with the series' mean at 100."""
    return 100.0 * adjusted / float(np.mean(adjusted))


# --- evaluation on series with a known answer ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodError:
    """Error of one method against the known trend: RMSE of log(index) in percent, over ``series`` series."""

    method: str
    rmse_pct: float
    series: int


def synthetic_series(seed: int, months: Sequence[str], holiday: str = "spring_festival",
                     holiday_drop: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """A monthly count series with a known trend, a fixed seasonal pattern and a holiday that removes
    ``holiday_drop`` of the activity in its window. Returns ``(counts, true_trend)``."""
    rng = random.Random(seed)
    level = rng.uniform(300, 3000)
    growth = rng.uniform(-0.4, 0.4)
    season = [math.exp(rng.gauss(0, 0.08)) for _ in range(12)]
    counts, trend = [], []
    for i, mo in enumerate(months):
        t = i / 12
        tr = level * math.exp(growth * t + 0.05 * math.sin(2 * math.pi * t / 2.3))
        share = holiday_share(holiday, mo)
        f = season[int(mo[5:7]) - 1] * (1 - holiday_drop * share * (_WINDOW[holiday][1] - _WINDOW[holiday][0] + 1)
                                        / 30.4)
        lam = max(1.0, tr * f)
        counts.append(float(np.random.default_rng(seed * 1000 + i).poisson(lam)))
        trend.append(tr)
    return np.asarray(counts), np.asarray(trend)


def index_error(index: np.ndarray, truth: np.ndarray) -> float:
    """RMSE of log(index) against log(true trend as an index), in percent."""
    t = index_of(np.asarray(truth, dtype=float))
    return float(100 * np.sqrt(np.mean((np.log(index) - np.log(t)) ** 2)))


def evaluate_methods(n_series: int = 12, n_months: int = 48, seed: int = 7,
                     holiday: str = "spring_festival") -> list[MethodError]:
    """Each method's and the raw index's error against the known trend on ``n_series`` synthetic series."""
    months = month_range("2021-01", month_add("2021-01", n_months - 1))
    errs: dict[str, list[float]] = {m: [] for m in (*METHODS, "raw")}
    for k in range(n_series):
        counts, trend = synthetic_series(seed + k, months, holiday)
        errs["raw"].append(index_error(index_of(np.maximum(counts, 0.5)), trend))
        for m in METHODS:
            adj, _ = seasonal_adjust(months, counts, holiday, m)
            errs[m].append(index_error(index_of(adj), trend))
    return [MethodError(m, float(np.sqrt(np.mean(np.square(v)))), n_series) for m, v in errs.items()]


# --- the trend_seasonal table ------------------------------------------------------------------------------

SEASONAL_DIMS = ("all", "country")


@dataclass(frozen=True, slots=True)
class SeasonalReport:
    """What ``update_seasonal`` wrote: series adjusted, series left at year-on-year only, rows."""

    adjusted: int
    yoy_only: int
    rows: int
    history_months: int
    method: str

    def summary(self) -> str:
        if not self.rows:
            return "seasonal: no monthly trend rows"
        if not self.adjusted:
            return (f"seasonal: {self.history_months} months of history (< {MIN_MONTHS}): no seasonal adjustment, "
                    f"year-on-year only; moved-holiday months flagged ({self.rows} rows)")
        return (f"seasonal: {self.adjusted} series adjusted ({self.method}), {self.yoy_only} year-on-year only; "
                f"{self.rows} rows")


def pooled_holiday_country(conn) -> str | None:  # type: ignore[no-untyped-def]
    """The country whose holiday calendar applies to pooled rows: the one with the most postings."""
    from sqlalchemy import text

    row = conn.execute(text(
        "SELECT dim_value FROM trend_demand WHERE period_type = 'month' AND dim = 'country' AND category = 'all' "
        "AND dim_value <> 'unknown' GROUP BY dim_value ORDER BY SUM(n) DESC, dim_value LIMIT 1")).first()
    return row[0] if row else None


def update_seasonal(engine, method: str = DEFAULT_METHOD, min_months: int = MIN_MONTHS) -> SeasonalReport:  # type: ignore[no-untyped-def]
    """Recompute ``trend_seasonal`` from the monthly ``trend_demand`` rows of dims all and country.

    Every series (dim, dim_value, category) spans the months from the first to the last month with data
    (missing months count 0). With ``min_months`` or more months it is adjusted with ``method`` and the
    country's moving holiday (pooled rows: the largest country's); otherwise its rows carry
    ``status='yoy_only'`` and no adjusted value. Every row carries the moved-holiday flag.
    """
    from datetime import UTC, datetime

    from sqlalchemy import text

    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two updates at once would each delete then insert: the second waits for the first instead.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('labourwatch.update_seasonal'))")
        rows = conn.execute(text(
            "SELECT period, dim, dim_value, category, n, model_version FROM trend_demand WHERE period_type = 'month' "
            "AND dim IN ('all', 'country')")).all()
        pooled = pooled_holiday_country(conn)
        conn.execute(text("DELETE FROM trend_seasonal"))
        if not rows:
            return SeasonalReport(0, 0, 0, 0, method)
        months = month_range(min(r[0] for r in rows), max(r[0] for r in rows))
        series: dict[tuple[str, str, str], dict[str, int]] = {}
        mv: dict[tuple[str, str, str], str] = {}
        for period, dim, dv, cat, n, version in rows:
            series.setdefault((dim, dv, cat), {})[period] = int(n)
            mv[(dim, dv, cat)] = version
        out = []
        adjusted = yoy_only = 0
        for key, by_month in sorted(series.items()):
            dim, dv, cat = key
            country = dv if dim == "country" else pooled
            hol = holiday_for(country)
            counts = [by_month.get(m, 0) for m in months]
            adj = idx = fac = None
            status = "yoy_only"
            if len(months) >= min_months and sum(counts) / len(counts) >= 5:
                a, f = seasonal_adjust(months, counts, hol, method)
                adj, idx, fac = a, index_of(a), f
                status = "adjusted"
                adjusted += 1
            else:
                yoy_only += 1
            for i, m in enumerate(months):
                if m not in by_month:
                    continue
                out.append({"p": m, "d": dim, "dv": dv, "c": cat, "n": counts[i], "st": status,
                            "a": None if adj is None else float(adj[i]),
                            "i": None if idx is None else float(idx[i]),
                            "f": None if fac is None else float(fac[i]),
                            # Only a month with a year-earlier month in the data has a YoY to distort.
                            "h": moved_holiday(country, m) if i >= 12 else None,
                            "me": method if adj is not None else None,
                            "hm": len(months), "mv": mv[key], "now": now})
        if out:
            conn.execute(text(
                "INSERT INTO trend_seasonal (period, dim, dim_value, category, n, status, adjusted, index_value, "
                "holiday_factor, holiday_shift, method, history_months, model_version, computed_at) VALUES "
                "(:p, :d, :dv, :c, :n, :st, :a, :i, :f, :h, :me, :hm, :mv, :now)"), out)
    return SeasonalReport(adjusted, yoy_only, len(out), len(months), method)


@dataclass(frozen=True, slots=True)
class SeasonalSeries:
    """A category's monthly demand in one market: raw counts, the adjusted index when published, flags."""

    category: str
    dim: str
    dim_value: str
    status: str  # adjusted | yoy_only (fewer than 36 months)
    method: str | None
    history_months: int
    points: tuple[AdjustedPoint, ...]

    @property
    def adjusted(self) -> bool:
        return self.status == "adjusted"


def seasonal_series(engine, category: str = "all", country: str | None = None) -> SeasonalSeries | None:  # type: ignore[no-untyped-def]
    """The seasonal series of ``category`` for ``country`` (ISO code; None = pooled over all countries),
    oldest month first; None when ``trend_seasonal`` has no such series (run ``labourwatch trends``)."""
    from sqlalchemy import text

    dim, dv = ("country", country) if country else ("all", "")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT period, n, status, adjusted, index_value, holiday_factor, holiday_shift, method, history_months "
            "FROM trend_seasonal WHERE dim = :d AND dim_value = :dv AND category = :c ORDER BY period"),
            {"d": dim, "dv": dv, "c": category}).all()
    if not rows:
        return None
    pts = tuple(AdjustedPoint(r[0], int(r[1]), float(r[3]) if r[3] is not None else float("nan"),
                              float(r[4]) if r[4] is not None else float("nan"),
                              float(r[5]) if r[5] is not None else 1.0, r[6]) for r in rows)
    return SeasonalSeries(category, dim, dv, rows[0][2], rows[0][7], int(rows[0][8]), pts)


def holiday_flags(engine, country: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Months of ``country`` (None = pooled) whose year-on-year change crosses a moved holiday -> holiday."""
    from sqlalchemy import text

    dim, dv = ("country", country) if country else ("all", "")
    with engine.connect() as conn:
        return {p: h for p, h in conn.execute(text(
            "SELECT DISTINCT period, holiday_shift FROM trend_seasonal WHERE dim = :d AND dim_value = :dv "
            "AND category = 'all' AND holiday_shift IS NOT NULL ORDER BY period"), {"d": dim, "dv": dv})}
