"""Everything a brief shows, read only from the trend tables and the metadata tables."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from db import schema

log = logging.getLogger(__name__)

GROUPS = ("all", "new_economy")
AI_LEVELS = ("ai_incidental", "ai_tools", "ai_skills")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Counters of rows a run refused: imports write "rejected" (an int), crawls "dropped" ({reason: count});
# the first one present in a run counts.
REJECT_KEYS = ("rejected", "dropped", "rejects", "item_dropped_count")
HISTORY_MONTHS = 36


class BriefDataError(ValueError):
    """The database holds no trend rows the brief can be built from."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str


@dataclass(frozen=True)
class DemandRow:
    """One ``trend_demand`` row (period_type month, dim all)."""

    period: str
    category: str
    n: int
    n_prev_year: int | None
    yoy_change: float | None
    yoy_ci_low: float | None
    yoy_ci_high: float | None
    index_value: float | None
    suppressed: bool


@dataclass(frozen=True)
class ShareRow:
    """One ``trend_shares`` row (period_type month, dim all)."""

    period: str
    category: str
    metric: str
    n: int
    k: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: str
    postings: int
    canonical: int
    rejects: int
    runs: int
    last_run: datetime | None
    last_status: str | None

    @property
    def duplicates(self) -> int:
        return self.postings - self.canonical

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.postings if self.postings else None


@dataclass(frozen=True)
class EvaluationRow:
    model_version: str
    dataset: str
    field: str
    metric: str
    value: float
    n: int
    created_at: datetime


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
class QualityData:
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

    @property
    def duplicates(self) -> int:
        return self.postings - self.canonical

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.postings if self.postings else None


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
    if not MONTH_RE.match(month or ""):
        raise BriefDataError(f"Month {month!r} is not in the form YYYY-MM (for example 2026-03).")
    return month


def month_add(month: str, delta: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    total = y * 12 + (m - 1) + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def category_names(lang: str) -> list[Category]:
    """Role categories in taxonomy order with names in ``lang``; bare codes if the taxonomy is unavailable."""
    try:
        from models.taxonomy import load_taxonomy  # type: ignore[import-not-found]
    except ImportError:
        log.warning("models.taxonomy is not available; the brief names categories by their codes")
        return []
    tax = load_taxonomy()
    items: Any = None
    for attr in ("categories", "roles", "role_categories", "codes"):
        items = getattr(tax, attr, None)
        if items is not None:
            break
    if items is None and isinstance(tax, Mapping):
        items = tax.get("categories") or tax.get("roles")
    if items is None:
        return []
    if isinstance(items, Mapping):
        items = [items[k] if not isinstance(items[k], str) else {"code": k, "zh": items[k]} for k in items]
    out = []
    for item in items:
        code = _pick(item, ("code", "id", "key"))
        if not code:
            continue
        if lang == "zh":
            name = _pick(item, ("name_zh", "zh", "zh_name", "label_zh"))
        else:
            name = _pick(item, ("name_en", "en", "en_name", "label_en"))
        if not name:
            names = _pick(item, ("names", "name"))
            name = names.get(lang) if isinstance(names, Mapping) else None
        out.append(Category(str(code), str(name or code)))
    return out


def _pick(item: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        value = item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)
        if value:
            return value
    return None


def findings_arguments() -> dict[str, Any]:
    """The taxonomy's category names (zh and en) and groups, as ``db.findings.headline_findings`` takes them.

    ``labourwatch findings`` must pass the same, so that the brief prints the same sentences.
    """
    try:
        from models.taxonomy import load_taxonomy  # type: ignore[import-not-found]
    except ImportError:
        return {}
    tax = load_taxonomy()
    names = {c.code: {"zh": c.zh, "en": c.en} for c in tax.categories}
    return {"names": names, "groups": {k: list(v) for k, v in tax.groups.items()}}


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
    D, S = schema.TrendDemand, schema.TrendShare
    with engine.connect() as c:
        demand_rows = c.execute(
            select(D.period, D.category, D.n, D.n_prev_year, D.yoy_change, D.yoy_ci_low, D.yoy_ci_high,
                   D.index_value, D.suppressed)
            .where(D.period_type == "month", D.dim == market.dim, D.dim_value == market.dim_value,
                   D.period >= first, D.period <= month)
            .order_by(D.period, D.category)
        ).all()
        share_rows = c.execute(
            select(S.period, S.category, S.metric, S.n, S.k, S.share, S.ci_low, S.ci_high, S.suppressed)
            .where(S.period_type == "month", S.dim == market.dim, S.dim_value == market.dim_value,
                   S.period >= first, S.period <= month)
            .order_by(S.period, S.category, S.metric)
        ).all()
    demand_all = [DemandRow(*r[:8], bool(r[8])) for r in demand_rows]
    shares_all = [ShareRow(*r[:8], bool(r[8])) for r in share_rows]
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
    P, S, R, D, T, B = (schema.Posting, schema.Source, schema.CrawlRun, schema.TrendDemand, schema.TrendShare,
                        schema.Brief)
    with engine.connect() as c:
        postings = dict(c.execute(select(P.source_id, func.count()).group_by(P.source_id)).all())
        canonical = dict(c.execute(select(P.source_id, func.count()).where(P.canonical_id.is_(None))
                                   .group_by(P.source_id)).all())
        runs: dict[int, list[tuple[datetime, str, dict]]] = defaultdict(list)
        for sid, started, status, stats in c.execute(
                select(R.source_id, R.started_at, R.status, R.stats).order_by(R.started_at)):
            runs[sid].append((started, status, stats or {}))
        sources = []
        for sid, name, kind in c.execute(select(S.id, S.name, S.kind).order_by(S.name)):
            rs = runs.get(sid, [])
            sources.append(SourceRow(
                name=name, kind=kind or "", postings=postings.get(sid, 0), canonical=canonical.get(sid, 0),
                rejects=distinct_rejects([stats for _, _, stats in rs]), runs=len(rs),
                last_run=rs[-1][0] if rs else None, last_status=rs[-1][1] if rs else None,
            ))
        month_filter_d = (D.period_type == "month", D.period == month)
        month_filter_s = (T.period_type == "month", T.period == month)
        cells_d = c.execute(select(func.count()).select_from(D).where(*month_filter_d)).scalar_one()
        supp_d = c.execute(select(func.count()).select_from(D).where(*month_filter_d, D.suppressed)).scalar_one()
        cells_s = c.execute(select(func.count()).select_from(T).where(*month_filter_s)).scalar_one()
        supp_s = c.execute(select(func.count()).select_from(T).where(*month_filter_s, T.suppressed)).scalar_one()
        versions = c.execute(
            select(D.model_version, D.taxonomy_version, func.count())
            .where(*month_filter_d).group_by(D.model_version, D.taxonomy_version)
            .order_by(func.count().desc())
        ).first()
        model_version = versions[0] if versions else None
        evals = _latest_evaluations(c, model_version)
        previous = c.execute(select(func.count()).select_from(B).where(B.month < month)).scalar_one()
    return QualityData(
        sources=tuple(sources), postings=sum(s.postings for s in sources),
        canonical=sum(s.canonical for s in sources), rejects=sum(s.rejects for s in sources),
        suppressed_demand=supp_d, cells_demand=cells_d, suppressed_shares=supp_s, cells_shares=cells_s,
        min_cell_size=min_cell_size, baseline_year=baseline_year,
        model_version=model_version, taxonomy_version=versions[1] if versions else None,
        evaluations=evals, previous_briefs=previous,
    )


def distinct_rejects(runs: Sequence[Mapping[str, Any]]) -> int:
    """Distinct refused pages over a source's runs: the union of the runs' ``rejected_urls``; for runs that did
    not record URLs, the largest single-run count (a nightly crawl meets the same broken pages again, so a
    sum would count each page once per run). Imports refuse rows, which are not re-read: those add up."""
    urls: set[str] = set()
    unlisted = 0
    imported = 0
    for stats in runs:
        listed = stats.get("rejected_urls")
        if isinstance(listed, list) and listed:
            urls.update(str(u) for u in listed)
        elif "rejected" in stats:
            imported += _rejects(stats)
        else:
            unlisted = max(unlisted, _rejects(stats))
    return max(len(urls), unlisted) + imported


def _rejects(stats: Mapping[str, Any]) -> int:
    for key in REJECT_KEYS:
        value = stats.get(key)
        if isinstance(value, Mapping):
            value = sum(v for v in value.values() if isinstance(v, int | float) and not isinstance(v, bool))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return 0


def _latest_evaluations(conn: Any, model_version: str | None) -> tuple[EvaluationRow, ...]:
    """The newest row per (field, metric, dataset) of the trend rows' model version, else of any version."""
    E = schema.Evaluation
    query = select(E.model_version, E.dataset, E.field, E.metric, E.value, E.n, E.created_at)
    rows = []
    if model_version:
        rows = conn.execute(query.where(E.model_version == model_version).order_by(E.created_at)).all()
    if not rows:
        newest = conn.execute(select(E.model_version).order_by(E.created_at.desc()).limit(1)).scalar()
        if newest is None:
            return ()
        rows = conn.execute(query.where(E.model_version == newest).order_by(E.created_at)).all()
    latest: dict[tuple[str, str, str], EvaluationRow] = {}
    for r in rows:
        latest[(r.field, r.metric, r.dataset)] = EvaluationRow(*r)
    return tuple(sorted(latest.values(), key=lambda e: (e.field, e.dataset, e.metric)))
