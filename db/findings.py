"""Headline figures of a month for one market, chosen by the data: typed numbers, never sentences.

``headline_figures`` ranks every role category by the evidence of change in new postings (95% interval
excluding zero first, then effect size), pools a too-small monthly cell to the last three months against
the same three months a year earlier, says when there is no base period (and offers the change since the
first month instead), and adds the seed metrics (AI share of the new-economy group, its split by level,
shift-share, and the share requiring 3+ years). ``brief.findings`` turns these into sentences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from db.audit import AdjustedShare, adjusted_binary_share
from db.seasonal import moved_holiday
from db.stats import RateChange, ShiftShare, rate_change, shift_share, wilson_interval
from db.trends import _prev_year
from labourwatch.contract import AI_LEVEL_METRICS, check_month, month_add
from labourwatch.settings import get_settings

POOLED = ("all", "pooled")  # names that ask for the pooled (all-countries) figures explicitly
SEED_GROUP = "new_economy"


@dataclass(frozen=True, slots=True)
class Market:
    """Which rows the figures read: one country (``dim='country'``) or all countries pooled.

    ``pooled_reason`` is ``asked`` when the pooled figures were requested by name, ``no_country`` when the
    trend tables hold no country rows (postings without a recorded market), None for a country.
    """

    dim: str
    dim_value: str
    pooled_reason: str | None = None

    @property
    def country(self) -> str | None:
        return self.dim_value if self.dim == "country" else None


@dataclass(frozen=True, slots=True)
class MarketSize:
    """A country in the trend tables with its canonical labelled postings over all months."""

    country: str
    postings: int


def market_sizes(engine: Engine) -> list[MarketSize]:
    """Countries with monthly trend rows, largest first (``unknown`` last)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT dim_value, SUM(n) FROM trend_demand WHERE period_type = 'month' AND dim = 'country' "
            "AND category = 'all' GROUP BY dim_value")).all()
    return sorted((MarketSize(c, int(n)) for c, n in rows), key=lambda m: (m.country == "unknown", -m.postings,
                                                                            m.country))


def resolve_market(engine: Engine, country: str | None = None) -> Market:
    """The market the figures are for: ``country`` (ISO alpha-2), ``all``/``pooled`` for every country
    pooled, or None for the largest country. Raises ``ValueError`` naming the countries that have rows."""
    sizes = market_sizes(engine)
    if country is not None and country.strip().lower() in POOLED:
        return Market("all", "", "asked")
    if country is None:
        known = [m for m in sizes if m.country != "unknown"]
        if known:
            return Market("country", known[0].country)
        return Market("all", "", "no_country")
    code = country.strip().upper()
    if code == "UK":
        code = "GB"
    if code not in {m.country.upper() for m in sizes}:
        have = ", ".join(f"{m.country} ({m.postings:,})" for m in sizes) or "none"
        raise ValueError(f"no trend rows for country {country!r}; countries with rows: {have}; "
                         f"use --country all for every country pooled")
    return Market("country", code)


@dataclass(frozen=True, slots=True)
class DemandChange:
    """Change in new canonical postings of one category, with its Katz 95% interval.

    ``kind`` is ``yoy`` (against the same months a year earlier) or ``since_first`` (no base period: against
    the first month with data). ``pooling`` is ``month`` or ``last3`` (the last three months pooled, when a
    monthly cell is under the minimum size). ``small`` marks a comparison whose smaller side is still under
    the minimum cell size after pooling: the interval carries that uncertainty, the text must say so.
    ``holiday`` names a moving holiday whose move distorts the comparison (yoy only).
    """

    category: str
    kind: str
    pooling: str
    periods: tuple[str, ...]
    base_periods: tuple[str, ...]
    n: int
    n_base: int
    change: float | None
    ci_low: float | None
    ci_high: float | None
    small: bool
    holiday: str | None

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None and (self.ci_high < 0 or self.ci_low > 0)

    @property
    def effect(self) -> float:
        """|log rate ratio|: the size of the move on a symmetric scale (0 when unknown)."""
        return abs(math.log1p(self.change)) if self.change is not None and self.change > -1 else 0.0


@dataclass(frozen=True, slots=True)
class ShareFigure:
    """A share (k of n) with its Wilson interval, and the same share a year earlier when there is one."""

    category: str
    metric: str
    pooling: str  # month | last3
    periods: tuple[str, ...]
    n: int
    k: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    base_periods: tuple[str, ...]
    base_n: int
    base_share: float | None
    suppressed: bool  # n under the minimum cell size even after pooling


@dataclass(frozen=True, slots=True)
class Headlines:
    """Everything the month's headlines rest on, for one market.

    ``ranked`` holds every category with a computable change, strongest evidence first; ``falls`` and
    ``rises`` the strongest ``k`` whose interval excludes zero. ``has_base`` is False when the market has
    no postings a year before the month (the changes are then ``since_first``, or none when the month is
    the first one). ``holiday`` flags the month when its year-on-year change crosses a moved holiday.
    """

    month: str
    market: Market
    model_version: str | None
    taxonomy_version: str | None
    min_cell: int
    has_base: bool
    base_month: str
    first_month: str | None
    n_month: int
    holiday: str | None
    ranked: tuple[DemandChange, ...]
    falls: tuple[DemandChange, ...]
    rises: tuple[DemandChange, ...]
    ai_share: ShareFigure | None
    ai_levels: Mapping[str, ShareFigure]  # ai_tools, ai_skills, ai_incidental, duty (tools + skills)
    shift: ShiftShare | None
    requires_3plus: ShareFigure | None
    experience_unstated: ShareFigure | None
    seed_group: str
    ai_share_adjusted: AdjustedShare | None = None  # Rogan–Gladen with the audit's error, when audited


def headline_figures(engine: Engine, month: str, country: str | None = None,
                     groups: Mapping[str, Sequence[str]] | None = None, k: int = 3) -> Headlines:
    """The month's headline figures for ``country`` (default the largest; ``all`` pools every country).

    Takes the month (YYYY-MM), the country, the taxonomy groups (the new-economy members, for the
    shift-share split) and how many moves to headline each way. Reads the trend tables only.
    """
    check_month(month)
    market = resolve_market(engine, country)
    min_cell = get_settings().min_cell_size
    floor = max(1, min_cell // 5)  # below this even a pooled count is not worth an interval
    prev = _prev_year(month)
    with engine.connect() as conn:
        counts: dict[tuple[str, str], int] = {}
        for period, cat, n in conn.execute(text(
                "SELECT period, category, n FROM trend_demand WHERE period_type = 'month' AND dim = :d "
                "AND dim_value = :dv"), {"d": market.dim, "dv": market.dim_value}):
            counts[(period, cat)] = int(n)
        versions = conn.execute(text(
            "SELECT model_version, taxonomy_version FROM trend_demand WHERE period_type = 'month' AND period = :m "
            "AND dim = :d AND dim_value = :dv AND category = 'all'"),
            {"m": month, "d": market.dim, "dv": market.dim_value}).first()
        months_with_data = sorted({p for p, c in counts if c == "all"})
        first = months_with_data[0] if months_with_data else None
        has_base = counts.get((prev, "all"), 0) > 0
        group_names = set(groups or {}) | {"all", SEED_GROUP}
        cats = sorted({c for _, c in counts} - group_names)
        changes = []
        for cat in cats:
            ch = _demand_change(counts, cat, month, prev, first, has_base, min_cell, floor, market.country)
            if ch is not None:
                changes.append(ch)
        ranked = tuple(sorted(changes, key=lambda c: (not c.excludes_zero, -c.effect, c.category)))
        falls = tuple(c for c in ranked if c.excludes_zero and (c.change or 0) < 0)[:k]
        rises = tuple(c for c in ranked if c.excludes_zero and (c.change or 0) > 0)[:k]

        ai = _share(conn, market, SEED_GROUP, "references_ai", month, min_cell)
        levels = {m: f for m in AI_LEVEL_METRICS if m != "ai_none"
                  if (f := _share(conn, market, SEED_GROUP, m, month, min_cell, pooling=ai.pooling if ai else None))}
        if ai is not None and "ai_tools" in levels and "ai_skills" in levels:
            kd = levels["ai_tools"].k + levels["ai_skills"].k
            lo, hi = wilson_interval(kd, ai.n) if ai.n else (None, None)
            levels["duty"] = ShareFigure(SEED_GROUP, "ai_duty", ai.pooling, ai.periods, ai.n, kd,
                                         kd / ai.n if ai.n else None, lo, hi, (), 0, None, ai.suppressed)
        shift = _shift(conn, market, (groups or {}).get(SEED_GROUP), month, prev) if has_base else None
        exp3 = _share(conn, market, "all", "requires_3plus", month, min_cell)
        unstated = _share(conn, market, "all", "experience_unstated", month, min_cell)
    adjusted = None
    if ai is not None and ai.n > 0:
        adjusted = adjusted_binary_share(engine, f"ai_share.{SEED_GROUP}", ai.k, ai.n, "ai_level",
                                         lambda code: code != "none",
                                         model_version=versions[0] if versions else None)
    return Headlines(
        month=month, market=market, model_version=versions[0] if versions else None,
        taxonomy_version=versions[1] if versions else None, min_cell=min_cell, has_base=has_base, base_month=prev,
        first_month=first, n_month=counts.get((month, "all"), 0),
        holiday=moved_holiday(market.country or _largest(engine), month) if has_base else None,
        ranked=ranked, falls=falls, rises=rises, ai_share=ai, ai_levels=levels, shift=shift,
        requires_3plus=exp3, experience_unstated=unstated, seed_group=SEED_GROUP, ai_share_adjusted=adjusted)


def _largest(engine: Engine) -> str | None:
    sizes = [m for m in market_sizes(engine) if m.country != "unknown"]
    return sizes[0].country if sizes else None


def _demand_change(counts: Mapping[tuple[str, str], int], cat: str, month: str, prev: str, first: str | None,
                   has_base: bool, min_cell: int, floor: int, country: str | None) -> DemandChange | None:
    if has_base:
        options = [((month,), (prev,), "month"),
                   (tuple(month_add(month, -i) for i in (2, 1, 0)), tuple(month_add(prev, -i) for i in (2, 1, 0)),
                    "last3")]
        kind = "yoy"
    elif first is not None and first < month:
        options = [((month,), (first,), "month")]
        kind = "since_first"
    else:
        return None
    chosen = None
    for periods, base, pooling in options:
        n1 = sum(counts.get((p, cat), 0) for p in periods)
        n0 = sum(counts.get((p, cat), 0) for p in base)
        chosen = (periods, base, pooling, n1, n0)
        if min(n1, n0) >= min_cell:
            break
    assert chosen is not None
    periods, base, pooling, n1, n0 = chosen
    if n1 == 0 and n0 == 0:
        return None
    rc: RateChange | None = rate_change(n1, n0) if min(n1, n0) >= floor else None
    change = (n1 / n0 - 1.0) if n0 > 0 else None
    hol = None
    if kind == "yoy":
        hol = next((h for p in periods if (h := moved_holiday(country, p))), None) if country else None
    return DemandChange(cat, kind, pooling, periods, base, n1, n0, change, rc.ci_low if rc else None,
                        rc.ci_high if rc else None, min(n1, n0) < min_cell, hol)


def _share(conn: Connection, market: Market, category: str, metric: str, month: str, min_cell: int,
           pooling: str | None = None) -> ShareFigure | None:
    """The month's share, pooled over the last three months when the month is under the minimum cell."""
    prev = _prev_year(month)
    rows = {p: (int(n), int(k)) for p, n, k in conn.execute(text(
        "SELECT period, n, k FROM trend_shares WHERE period_type = 'month' AND dim = :d AND dim_value = :dv "
        "AND category = :c AND metric = :m AND period IN (:a, :b, :c2, :p0, :p1, :p2)"),
        {"d": market.dim, "dv": market.dim_value, "c": category, "m": metric, "a": month,
         "b": month_add(month, -1), "c2": month_add(month, -2), "p0": prev, "p1": month_add(prev, -1),
         "p2": month_add(prev, -2)})}
    if month not in rows:
        return None
    if pooling is None:
        pooling = "month" if rows[month][0] >= min_cell else "last3"
    periods = (month,) if pooling == "month" else tuple(month_add(month, -i) for i in (2, 1, 0))
    base = (prev,) if pooling == "month" else tuple(month_add(prev, -i) for i in (2, 1, 0))
    n = sum(rows.get(p, (0, 0))[0] for p in periods)
    k = sum(rows.get(p, (0, 0))[1] for p in periods)
    bn = sum(rows.get(p, (0, 0))[0] for p in base)
    bk = sum(rows.get(p, (0, 0))[1] for p in base)
    lo, hi = wilson_interval(k, n) if n > 0 else (None, None)
    return ShareFigure(category, metric, pooling, periods, n, k, k / n if n else None, lo, hi, base, bn,
                       bk / bn if bn else None, n < min_cell)


def _shift(conn: Connection, market: Market, members: Sequence[str] | None, month: str,
           prev: str) -> ShiftShare | None:
    if not members:
        return None
    a: dict[str, tuple[int, int]] = {}
    b: dict[str, tuple[int, int]] = {}
    for period, target in ((prev, a), (month, b)):
        for cat, cn, ck in conn.execute(text(
                "SELECT category, n, k FROM trend_shares WHERE period_type = 'month' AND period = :p AND dim = :d "
                "AND dim_value = :dv AND metric = 'references_ai'"),
                {"p": period, "d": market.dim, "dv": market.dim_value}):
            if cat in members:
                target[cat] = (int(cn), int(ck))
    if not a or not b:
        return None
    return shift_share(a, b)
