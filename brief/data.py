"""Everything a brief shows, read only from the trend tables and the metadata tables."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db.briefs import DemandRow, EvaluationRow, ShareRow, quality_figures, trend_rows
from db.session import Engine
from db.stats import DuplicateCounts
from labourwatch.contract import AI_LEVELS as LEVELS
from labourwatch.contract import CrawlStats, Month, ai_level_metric, vocabulary

__all__ = ["DemandRow", "EvaluationRow", "ShareRow"]  # re-exported: the records the renderer and charts read

log = logging.getLogger(__name__)

GROUPS = ("all", "new_economy")
# The trend metrics of the AI levels a posting can mention AI at (every level but none), lowest first.
AI_LEVELS = tuple(ai_level_metric(level) for level in LEVELS if level != "none")
HISTORY_MONTHS = 36


class BriefDataError(ValueError):
    """The database holds no trend rows the brief can be built from."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass(frozen=True)
class SourceRow(DuplicateCounts):
    name: str
    kind: str
    postings: int
    canonical: int
    rejects: int
    runs: int
    last_run: datetime | None
    last_status: str | None


@dataclass(frozen=True)
class FindingLine:
    """The fields of ``db.findings.Finding`` the brief uses (kept when the real class is available)."""

    key: str
    text: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    base: str | None
    method: str | None
    suppressed: bool


@dataclass(frozen=True)
class QualityData(DuplicateCounts):
    """The methods and data-quality page: sources, duplicates, rejects, suppression, versions, accuracy."""

    sources: tuple[SourceRow, ...]
    postings: int
    canonical: int
    rejects: int
    suppressed_demand: int
    cells_demand: int
    suppressed_shares: int
    cells_shares: int
    min_cell_size: int
    baseline_year: int
    model_version: str | None
    taxonomy_version: str | None
    evaluations: tuple[EvaluationRow, ...]
    previous_briefs: int


@dataclass(frozen=True)
class BriefData:
    """All figures of one month's brief; the renderer formats these and computes nothing."""

    month: str
    lang: str
    periods: tuple[str, ...]
    categories: tuple[Category, ...]  # role codes in taxonomy order (groups excluded)
    group_names: Mapping[str, str]
    demand: Mapping[str, tuple[DemandRow, ...]]  # category or group -> rows over ``periods``
    demand_month: tuple[DemandRow, ...]  # this month's rows of role categories, declines first
    shares: Mapping[tuple[str, str], tuple[ShareRow, ...]]  # (category, metric) -> rows over ``periods``
    shares_month: Mapping[tuple[str, str], ShareRow]  # (category, metric) -> this month's row
    findings: tuple[FindingLine, ...]
    quality: QualityData
    market: Any = None  # db.findings.Market: the country shown (or all pooled, and why)
    markets: tuple[Any, ...] = ()  # db.findings.MarketSize of every country with rows, largest first
    holidays: Mapping[str, str] = field(default_factory=dict)  # month -> moved holiday distorting its YoY
    seasonal: Any = None  # db.seasonal.SeasonalSeries of all postings in the market, or None
    audit: Any = None  # db.audit.AuditReport when an audit is recorded
    # db.audit.CategoryAdjustment: the month's role-category shares in the market, observed and (when the
    # market's audit is large enough) corrected for labelling error; None when it cannot be read
    category_adjustment: Any = None

    def name(self, code: str) -> str:
        if code in self.group_names:
            return self.group_names[code]
        return next((c.name for c in self.categories if c.code == code), code)

    def movers(self, k: int = 3) -> tuple[tuple[DemandRow, ...], tuple[DemandRow, ...]]:
        """This month's ``k`` largest declines and rises whose 95% interval excludes no change.

        Suppressed cells and changes the interval cannot tell from zero are never highlighted.
        """
        # The findings' moves come first: found by the data with pooling when a monthly cell is small.
        found = [(f.key.split(".", 1)[1], f.value) for f in self.findings
                 if f.key.startswith("demand_yoy.") and f.value is not None]
        if found:
            rows = {r.category: r for r in self.demand_month}
            fall = tuple(rows[c] for c, v in found if v < 0 and c in rows)[:k]
            rise = tuple(rows[c] for c, v in found if v > 0 and c in rows)[:k]
            return fall, rise
        ok = [r for r in self.demand_month if not r.suppressed and r.yoy_change is not None
              and r.yoy_ci_low is not None and r.yoy_ci_high is not None]
        falling = sorted((r for r in ok if r.yoy_ci_high < 0), key=lambda r: r.yoy_change)  # type: ignore[operator,arg-type,return-value]
        rising = sorted((r for r in ok if r.yoy_ci_low > 0), key=lambda r: -r.yoy_change)  # type: ignore[operator,arg-type,return-value]
        return tuple(falling[:k]), tuple(rising[:k])


def validate_month(month: str) -> str:
    try:
        Month.parse(month)
    except ValueError:
        raise BriefDataError(f"Month {month!r} is not in the form YYYY-MM (for example 2026-03).") from None
    return month


def month_add(month: str, delta: int) -> str:
    return str(Month.parse(month) + delta)


def category_names(lang: str) -> list[Category]:
    """Role categories in taxonomy order with their names in ``lang`` (zh or en)."""
    vocab = vocabulary()
    return [Category(code, vocab.name(code, "zh" if lang == "zh" else "en")) for code in vocab.role_codes]


def findings_arguments() -> dict[str, Any]:
    """The taxonomy's category names (zh and en) and groups, as ``brief.findings.headline_findings`` takes them.

    ``labourwatch findings`` must pass the same, so that the brief prints the same sentences.
    """
    vocab = vocabulary()
    names = {code: {"zh": vocab.name(code, "zh"), "en": vocab.name(code, "en")} for code in vocab.role_codes}
    return {"names": names, "groups": {k: list(v) for k, v in vocab.groups.items()}}


def load_findings(engine: Engine, month: str, lang: str, country: str | None = None) -> tuple[FindingLine, ...]:
    """The month's headline findings exactly as ``labourwatch findings`` prints them (``brief.findings``)."""
    from brief.findings import headline_findings

    out = []
    for f in headline_findings(engine, month, lang=lang, country=country, **findings_arguments()):
        out.append(FindingLine(
            key=str(f.key), text=str(f.text), value=f.value, ci_low=f.ci_low, ci_high=f.ci_high,
            n=f.n, base=None if f.base is None else str(f.base),
            method=None if f.method is None else str(f.method), suppressed=bool(f.suppressed),
        ))
    return tuple(out)


def load_brief_data(engine: Engine, month: str, lang: str = "zh", *, group_names: Mapping[str, str],
                    min_cell_size: int, baseline_year: int, country: str | None = None) -> BriefData:
    """Read the month's trend rows for one market, their history and the metadata tables into one ``BriefData``.

    ``country`` is an ISO code, ``all`` for every country pooled, or None for the largest country.
    Raises ``BriefDataError`` when the month has no monthly trend rows (run ``labourwatch trends`` first)
    or the country has none.
    """
    from db.audit import audit_report, category_adjustment
    from db.findings import market_sizes, resolve_market
    from db.seasonal import holiday_flags, seasonal_series

    validate_month(month)
    try:
        market = resolve_market(engine, country)
    except ValueError as exc:
        raise BriefDataError(str(exc)) from exc
    first = month_add(month, -(HISTORY_MONTHS - 1))
    demand_all, shares_all = trend_rows(engine, market.dim, market.dim_value, first, month)
    if not any(r.period == month for r in demand_all):
        raise BriefDataError(
            f"No monthly trend rows for {month} in trend_demand; run `labourwatch trends` first "
            f"(or pick a month that has postings)."
        )
    periods = tuple(sorted({r.period for r in demand_all}))
    demand: dict[str, list[DemandRow]] = defaultdict(list)
    for r in demand_all:
        demand[r.category].append(r)
    shares: dict[tuple[str, str], list[ShareRow]] = defaultdict(list)
    for s in shares_all:
        shares[(s.category, s.metric)].append(s)
    shares_month = {(s.category, s.metric): s for s in shares_all if s.period == month}

    named = category_names(lang)
    codes_in_data = {r.category for r in demand_all} - set(GROUPS)
    known = [c for c in named if c.code in codes_in_data]
    extra = sorted(codes_in_data - {c.code for c in known})
    categories = tuple(known + [Category(code, code) for code in extra])
    demand_month = tuple(sorted(
        (r for r in demand_all if r.period == month and r.category in codes_in_data),
        key=lambda r: (r.suppressed, r.yoy_change is None, r.yoy_change if r.yoy_change is not None else 0.0,
                       r.category),
    ))
    findings = load_findings(engine, month, lang, country=country)
    quality = load_quality(engine, month, min_cell_size=min_cell_size, baseline_year=baseline_year)
    report = audit_report(engine)
    adjustment = None
    if report.fields:
        try:
            adjustment = category_adjustment(engine, month, country, exclude={*GROUPS, *group_names,
                                                                             *findings_arguments().get("groups", {})})
        except ValueError as exc:  # e.g. the trend rows' label version is no longer in posting_labels
            log.warning("no error-adjusted category shares in the brief: %s", exc)
    return BriefData(
        month=month, lang=lang, periods=periods, categories=categories, group_names=dict(group_names),
        demand={k: tuple(v) for k, v in demand.items()}, demand_month=demand_month,
        shares={k: tuple(v) for k, v in shares.items()}, shares_month=shares_month,
        findings=findings, quality=quality, market=market, markets=tuple(market_sizes(engine)),
        holidays={m: h for m, h in holiday_flags(engine, market.country).items() if first <= m <= month},
        seasonal=seasonal_series(engine, "all", market.country), audit=report if report.fields else None,
        category_adjustment=adjustment,
    )


def load_quality(engine: Engine, month: str, *, min_cell_size: int, baseline_year: int) -> QualityData:
    """Sources with posting, canonical and reject counts; suppressed cells; versions; latest evaluations."""
    q = quality_figures(engine, month)
    sources = tuple(
        SourceRow(name=s.name, kind=s.kind, postings=s.postings, canonical=s.canonical,
                  rejects=distinct_rejects([r.stats for r in s.runs]), runs=len(s.runs),
                  last_run=s.runs[-1].started_at if s.runs else None,
                  last_status=s.runs[-1].status if s.runs else None)
        for s in q.sources)
    return QualityData(
        sources=sources, postings=sum(s.postings for s in sources),
        canonical=sum(s.canonical for s in sources), rejects=sum(s.rejects for s in sources),
        suppressed_demand=q.suppressed_demand, cells_demand=q.cells_demand,
        suppressed_shares=q.suppressed_shares, cells_shares=q.cells_shares,
        min_cell_size=min_cell_size, baseline_year=baseline_year,
        model_version=q.model_version, taxonomy_version=q.taxonomy_version,
        evaluations=q.evaluations, previous_briefs=q.previous_briefs,
    )


def distinct_rejects(runs: Sequence[CrawlStats]) -> int:
    """Distinct refused pages over a source's runs: the union of the runs' ``rejected_urls``; for runs that did
    not record URLs, the largest single-run count (a nightly crawl meets the same broken pages again, so a
    sum would count each page once per run). Imports refuse rows, which are not re-read: those add up."""
    urls: set[str] = set()
    unlisted = 0
    imported = 0
    for stats in runs:
        if stats.rejected_urls:
            urls.update(str(u) for u in stats.rejected_urls)
        elif stats.rejected:
            imported += stats.rejected
        else:
            unlisted = max(unlisted, stats.dropped_total)
    return max(len(urls), unlisted) + imported
