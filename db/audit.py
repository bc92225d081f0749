"""The audit store: analysts' verdicts on labels, read by measured accuracy, adjusted figures and retraining."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from db import schema
from db.session import session_scope

AUDIT_FIELDS = ("role_category", "ai_level", "experience_bucket")
AUDIT_ORIGINS = ("file", "dashboard", "demo_truth")


@dataclass(frozen=True, slots=True)
class AuditIn:
    """One verdict to store: the right code (``true_value``) and/or whether ``predicted`` was right."""

    posting_id: int
    field: str
    true_value: str | None = None
    predicted: str | None = None
    correct: bool | None = None
    model_version: str | None = None
    origin: str = "file"
    auditor: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.field not in AUDIT_FIELDS:
            raise ValueError(f"audit field {self.field!r} is not one of {', '.join(AUDIT_FIELDS)}")
        if self.origin not in AUDIT_ORIGINS:
            raise ValueError(f"audit origin {self.origin!r} is not one of {', '.join(AUDIT_ORIGINS)}")
        if self.true_value is None and self.correct is None:
            raise ValueError(f"audit of posting {self.posting_id} ({self.field}) has neither a true value nor a verdict")


@dataclass(frozen=True, slots=True)
class AuditRow:
    """The newest verdict on one posting's field."""

    posting_id: int
    field: str
    predicted: str | None
    true_value: str | None
    correct: bool | None
    model_version: str | None
    origin: str
    auditor: str | None
    created_at: datetime


def record_audit(engine: Engine, items: Iterable[AuditIn]) -> int:
    """Store verdicts in one transaction; ``correct`` is derived when both codes are known. Returns the count."""
    now = datetime.now(UTC)
    rows = []
    for a in items:
        correct = a.correct
        if correct is None and a.true_value is not None and a.predicted is not None:
            correct = a.true_value == a.predicted
        rows.append(
            schema.AuditLabel(
                posting_id=a.posting_id,
                field=a.field,
                model_version=a.model_version,
                predicted=a.predicted,
                true_value=a.true_value,
                correct=correct,
                origin=a.origin,
                auditor=a.auditor,
                note=a.note,
                created_at=now,
            )
        )
    if not rows:
        return 0
    with session_scope(engine) as s:
        s.add_all(rows)
    return len(rows)


def latest_audit(engine: Engine, field: str | None = None) -> list[AuditRow]:
    """The newest verdict per (posting, field), optionally for one field, oldest posting first."""
    a = schema.AuditLabel
    newest = (
        select(a.posting_id, a.field, func.max(a.id).label("id")).group_by(a.posting_id, a.field).subquery()
    )
    stmt = select(a).join(newest, a.id == newest.c.id).order_by(a.posting_id, a.field)
    if field is not None:
        stmt = stmt.where(a.field == field)
    with session_scope(engine) as s:
        return [
            AuditRow(
                posting_id=r.posting_id,
                field=r.field,
                predicted=r.predicted,
                true_value=r.true_value,
                correct=r.correct,
                model_version=r.model_version,
                origin=r.origin,
                auditor=r.auditor,
                created_at=r.created_at,
            )
            for r in s.scalars(stmt)
        ]


# --- drawing a sample ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One posting drawn for an audit, with what the classifier said; the analyst fills in the truth."""

    posting_id: int
    country: str
    source: str
    title: str
    company: str | None
    city: str | None
    url: str | None
    description: str
    model_version: str
    role_category: str
    ai_level: str
    experience_bucket: str


def _label_version(conn, model_version: str | None) -> str:  # type: ignore[no-untyped-def]
    from db.trends import resolve_model_version

    mv = resolve_model_version(conn, model_version)
    if mv is None:
        raise ValueError("no labelled postings to audit: run `labourwatch classify` first")
    return mv


def _strata(conn, mv: str) -> dict[tuple[str, str], list[int]]:  # type: ignore[no-untyped-def]
    """Canonical labelled posting ids per (predicted role category, country)."""
    from sqlalchemy import text

    out: dict[tuple[str, str], list[int]] = {}
    for pid, role, country in conn.execute(text(
            "SELECT p.id, l.role_category, COALESCE(NULLIF(p.country, ''), 'unknown') FROM postings p "
            "JOIN posting_labels l ON l.posting_id = p.id AND l.model_version = :mv "
            "WHERE p.canonical_id IS NULL ORDER BY p.id"), {"mv": mv}):
        out.setdefault((role, country), []).append(int(pid))
    return out


def draw_sample(engine: Engine, n: int, model_version: str | None = None, seed: int = 0,
                min_per_stratum: int = 3, country: str | None = None) -> list[SampleRow]:
    """A stratified random sample of about ``n`` canonical labelled postings for an audit.

    Strata are (predicted role category, country); each gets a share of ``n`` proportional to its size but
    at least ``min_per_stratum`` (or all its postings when smaller), so rare categories are measured too.
    ``country`` restricts the sample to one market. Deterministic for a given ``seed``.
    """
    import random

    from sqlalchemy import bindparam, text

    if n <= 0:
        raise ValueError(f"sample size must be positive, got {n}")
    with engine.connect() as conn:
        mv = _label_version(conn, model_version)
        strata = _strata(conn, mv)
        if country:
            strata = {k: v for k, v in strata.items() if k[1] == country.upper()}
            if not strata:
                raise ValueError(f"no labelled postings in country {country!r}")
        total = sum(len(v) for v in strata.values())
        rng = random.Random(seed)
        chosen: list[int] = []
        for key in sorted(strata):
            ids = strata[key]
            k = min(len(ids), max(min_per_stratum, round(n * len(ids) / total)))
            chosen.extend(rng.sample(ids, k))
        rows = conn.execute(text(
            "SELECT p.id, COALESCE(NULLIF(p.country, ''), 'unknown'), s.name, p.title, p.company, p.city, p.url, "
            "p.description, l.role_category, l.ai_level, l.experience_bucket FROM postings p "
            "JOIN sources s ON s.id = p.source_id JOIN posting_labels l ON l.posting_id = p.id "
            "AND l.model_version = :mv WHERE p.id IN :ids ORDER BY p.id").bindparams(
                bindparam("ids", expanding=True)), {"mv": mv, "ids": chosen or [-1]}).all()
    return [SampleRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], (r[7] or "")[:600], mv, r[8], r[9], r[10])
            for r in rows]


def posting_keys(engine: Engine, posting_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Each of ``posting_ids``' natural key, (source name, external id); ids not stored are left out."""
    from sqlalchemy import bindparam, text

    ids = list(posting_ids)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.id, s.name, p.external_id FROM postings p JOIN sources s ON s.id = p.source_id "
            "WHERE p.id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": ids or [-1]})
        return {int(pid): (str(src), str(eid)) for pid, src, eid in rows}


# --- measured accuracy -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassScore:
    """Precision and recall of one code with 95% Wilson intervals (``n_pred``/``n_true`` audited postings)."""

    code: str
    n_pred: int
    n_true: int
    precision: float | None
    precision_ci: tuple[float, float] | None
    recall: float | None
    recall_ci: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class FieldAccuracy:
    """Measured accuracy of one label field in the audit: n verdicts, accuracy and its Wilson interval."""

    field: str
    model_version: str | None
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    first_at: datetime
    last_at: datetime
    origins: tuple[str, ...]
    classes: tuple[ClassScore, ...]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Per-field accuracy and per-code precision/recall of the newest verdicts."""

    fields: tuple[FieldAccuracy, ...]

    def field(self, name: str) -> FieldAccuracy | None:
        return next((f for f in self.fields if f.field == name), None)


def audit_report(engine: Engine, model_version: str | None = None) -> AuditReport:
    """Accuracy per field and precision/recall per code (scikit-learn metrics, Wilson intervals).

    Reads the newest verdict per posting and field; ``model_version`` keeps the verdicts on that classifier
    version only (default: every verdict). Precision and recall need the true code; verdict-only rows
    (right / wrong) count towards accuracy alone.
    """
    from sklearn.metrics import confusion_matrix

    from db.stats import wilson_interval

    rows = [r for r in latest_audit(engine) if model_version is None or r.model_version == model_version]
    out = []
    for field in AUDIT_FIELDS:
        fr = [r for r in rows if r.field == field and r.correct is not None]
        if not fr:
            continue
        k = sum(1 for r in fr if r.correct)
        lo, hi = wilson_interval(k, len(fr))
        full = [r for r in fr if r.true_value is not None and r.predicted is not None]
        classes: list[ClassScore] = []
        if full:
            codes: list[str] = sorted({str(r.true_value) for r in full} | {str(r.predicted) for r in full})
            cm = confusion_matrix([r.true_value for r in full], [r.predicted for r in full], labels=codes)
            for i, code in enumerate(codes):
                tp, n_pred, n_true = int(cm[i, i]), int(cm[:, i].sum()), int(cm[i, :].sum())
                classes.append(ClassScore(
                    code, n_pred, n_true, tp / n_pred if n_pred else None,
                    wilson_interval(tp, n_pred) if n_pred else None, tp / n_true if n_true else None,
                    wilson_interval(tp, n_true) if n_true else None))
        versions = {r.model_version for r in fr}
        out.append(FieldAccuracy(field, versions.pop() if len(versions) == 1 else None, len(fr), k / len(fr), lo, hi,
                                 min(r.created_at for r in fr), max(r.created_at for r in fr),
                                 tuple(sorted({r.origin for r in fr})), tuple(classes)))
    return AuditReport(tuple(out))


# --- misclassification-adjusted figures ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdjustedShare:
    """A share corrected for measured labelling error, with a bootstrap 95% interval.

    ``observed`` is the share as labelled (k of n); ``value`` the corrected share; the interval carries both
    the audit's sampling error (``n_audit`` verdicts resampled) and the cell's binomial error.
    """

    key: str
    observed: float
    n: int
    value: float
    ci_low: float
    ci_high: float
    n_audit: int
    method: str
    sensitivity: float | None = None
    specificity: float | None = None


def rogan_gladen(p_obs: float, se: float, sp: float) -> float:
    """The true prevalence behind an observed share given sensitivity and specificity, clipped to [0, 1]."""
    j = se + sp - 1.0
    if j <= 0:
        raise ValueError(f"Rogan–Gladen needs sensitivity + specificity > 1, got {se:.3f} + {sp:.3f}")
    return min(1.0, max(0.0, (p_obs + sp - 1.0) / j))


def _weighted_rows(engine: Engine, field: str, model_version: str | None,  # type: ignore[no-untyped-def]
                   country: str | None = None):
    """Audit rows with truth for ``field`` and a design weight: stratum size / audited in stratum, where a
    stratum is (predicted role category, country) of the audited classifier version. ``country`` keeps the
    verdicts on that market's postings only."""
    from sqlalchemy import bindparam, text

    rows = [r for r in latest_audit(engine, field) if r.true_value is not None and r.predicted is not None
            and (model_version is None or r.model_version in (None, model_version))]
    if not rows:
        return [], None
    with engine.connect() as conn:
        mv = _label_version(conn, model_version or next((r.model_version for r in rows if r.model_version), None))
        # Stratum sizes are counted in SQL: the design weights need how many canonical postings each stratum
        # holds, not their ids (a million-posting database would otherwise be read into memory per figure).
        sizes = {(role, cc): int(n) for role, cc, n in conn.execute(text(
            "SELECT l.role_category, COALESCE(NULLIF(p.country, ''), 'unknown'), COUNT(*) FROM postings p "
            "JOIN posting_labels l ON l.posting_id = p.id AND l.model_version = :mv WHERE p.canonical_id IS NULL "
            "GROUP BY l.role_category, COALESCE(NULLIF(p.country, ''), 'unknown')"), {"mv": mv})}
        # The audited postings' own labels decide their strata (duplicates included).
        stratum_of: dict[int, tuple[str, str]] = {}
        for pid, role, cc in conn.execute(text(
                "SELECT p.id, l.role_category, COALESCE(NULLIF(p.country, ''), 'unknown') FROM postings p "
                "JOIN posting_labels l ON l.posting_id = p.id AND l.model_version = :mv WHERE p.id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)), {"mv": mv, "ids": sorted({r.posting_id for r in rows})}):
            stratum_of[int(pid)] = (role, cc)
    if country is not None:
        rows = [r for r in rows if stratum_of.get(r.posting_id, ("?", "?"))[1] == country]
        if not rows:
            return [], mv
    audited: dict[tuple[str, str], int] = {}
    for r in rows:
        key = stratum_of.get(r.posting_id, ("?", "?"))
        audited[key] = audited.get(key, 0) + 1
    weighted = []
    for r in rows:
        key = stratum_of.get(r.posting_id, ("?", "?"))
        size = sizes.get(key, 0) or audited[key]
        weighted.append((r, size / audited[key]))
    return weighted, mv


def adjusted_binary_share(engine: Engine, key: str, k: int, n: int, field: str, positive, *,  # type: ignore[no-untyped-def]
                          model_version: str | None = None, n_boot: int = 2000, seed: int = 0) -> AdjustedShare | None:
    """Rogan–Gladen correction of an observed share ``k/n`` of postings whose ``field`` is positive.

    ``positive(code) -> bool`` says which codes count (e.g. ai_level != none). Sensitivity and specificity
    come from the audit's verdicts with truth, weighted by the sampling design. The 95% interval is the
    percentile range of 2,000 parametric bootstrap draws: sensitivity and specificity from Jeffreys Beta
    posteriors on the audited counts, the observed share redrawn binomially. None when the audit has no such verdicts or cannot separate the classes.
    """
    import numpy as np

    weighted, _ = _weighted_rows(engine, field, model_version)
    if not weighted or n <= 0:
        return None
    t = np.array([positive(r.true_value) for r, _ in weighted], dtype=bool)
    p = np.array([positive(r.predicted) for r, _ in weighted], dtype=bool)
    w = np.array([wt for _, wt in weighted], dtype=float)

    def se_sp(idx: np.ndarray) -> tuple[float, float] | None:
        tt, pp, ww = t[idx], p[idx], w[idx]
        pos, neg = ww[tt].sum(), ww[~tt].sum()
        if pos <= 0 or neg <= 0:
            return None
        return float(ww[tt & pp].sum() / pos), float(ww[~tt & ~pp].sum() / neg)

    base = se_sp(np.arange(len(t)))
    if base is None or base[0] + base[1] <= 1:
        return None
    p_obs = k / n
    value = rogan_gladen(p_obs, *base)
    # Sensitivity and specificity are drawn from Jeffreys Beta posteriors on the audited counts (at the
    # design-weighted rates), so an audit that happened to see no error still carries its uncertainty — a
    # plain resample of an error-free audit would not. The observed share is redrawn binomially.
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    rng = np.random.default_rng(seed)
    se_d = rng.beta(base[0] * n_pos + 0.5, (1 - base[0]) * n_pos + 0.5, n_boot)
    sp_d = rng.beta(base[1] * n_neg + 0.5, (1 - base[1]) * n_neg + 0.5, n_boot)
    obs_d = rng.binomial(n, p_obs, n_boot) / n
    ok = se_d + sp_d > 1
    draws = np.clip((obs_d[ok] + sp_d[ok] - 1) / (se_d[ok] + sp_d[ok] - 1), 0.0, 1.0)
    lo, hi = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if len(draws) else (value, value)
    return AdjustedShare(key, p_obs, n, value, lo, hi, len(t), "rogan_gladen", base[0], base[1])


def adjusted_category_shares(engine: Engine, counts: dict[str, int], *, model_version: str | None = None,
                             n_boot: int = 1000, seed: int = 0, country: str | None = None) -> list[AdjustedShare]:
    """Category shares corrected with the audit's confusion matrix (calibration: true share of i =
    Σ_j observed share of j × P(true i | predicted j)), with bootstrap 95% intervals.

    ``counts`` are the observed postings per predicted category in one cell. A predicted category the audit
    never saw keeps its postings as they are (P(true j | predicted j) = 1). ``country`` uses only the verdicts
    on that market's postings (the classifier's errors differ between languages); None uses every verdict.
    """

    weighted, _ = _weighted_rows(engine, "role_category", model_version, country)
    return _category_shares(weighted, counts, n_boot, seed)


def _category_shares(weighted, counts: dict[str, int], n_boot: int, seed: int) -> list[AdjustedShare]:  # type: ignore[no-untyped-def]
    """``adjusted_category_shares`` on audit rows already read and weighted."""
    import numpy as np

    total = sum(counts.values())
    if not weighted or total <= 0:
        return []
    codes = sorted(set(counts) | {r.true_value for r, _ in weighted} | {r.predicted for r, _ in weighted})  # type: ignore[type-var]
    ix = {c: i for i, c in enumerate(codes)}
    ti = np.array([ix[r.true_value] for r, _ in weighted])
    pi = np.array([ix[r.predicted] for r, _ in weighted])
    w = np.array([wt for _, wt in weighted])
    q = np.array([counts.get(c, 0) for c in codes], dtype=float)

    def estimate(idx: np.ndarray, qq: np.ndarray) -> np.ndarray:
        m = np.zeros((len(codes), len(codes)))
        np.add.at(m, (ti[idx], pi[idx]), w[idx])  # m[true, pred]
        col = m.sum(axis=0)
        cal = np.where(col > 0, m / np.where(col > 0, col, 1), np.eye(len(codes)))
        return cal @ (qq / qq.sum())

    point = estimate(np.arange(len(ti)), q)
    rng = np.random.default_rng(seed)
    draws = np.array([estimate(rng.integers(0, len(ti), len(ti)), rng.multinomial(int(total), q / total).astype(float))
                      for _ in range(n_boot)])
    lo, hi = np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
    return [AdjustedShare(c, q[i] / total, int(total), float(point[i]), float(lo[i]), float(hi[i]), len(ti),
                          "confusion_matrix") for i, c in enumerate(codes) if counts.get(c, 0) or point[i] > 0]


# --- error-adjusted category shares of one month and market ------------------------------------------------

MIN_CATEGORY_AUDIT = 50  # role-category verdicts with a true value a market needs before its shares are corrected


@dataclass(frozen=True, slots=True)
class CategoryShareRow:
    """One role category of a month: its observed share of the market's postings and, when the audit allows,
    the share corrected for labelling error with a bootstrap 95% interval. ``audited`` counts the audited
    postings the classifier put in this category (0: the correction keeps its postings as labelled)."""

    code: str
    n: int
    observed: float
    adjusted: float | None
    ci_low: float | None
    ci_high: float | None
    audited: int


@dataclass(frozen=True, slots=True)
class CategoryAdjustment:
    """Observed and error-adjusted role-category shares of one month in one market (``country`` None: all
    countries pooled). ``n_audit`` verdicts stand behind the correction; under ``min_audit`` none is made."""

    month: str
    country: str | None
    model_version: str | None
    total: int
    n_audit: int
    min_audit: int
    rows: tuple[CategoryShareRow, ...]  # largest observed category first

    @property
    def adjusted(self) -> bool:
        return self.n_audit >= self.min_audit and any(r.adjusted is not None for r in self.rows)


def category_adjustment(engine: Engine, month: str | None = None, country: str | None = None, *,
                        exclude: Iterable[str] = ("all",), min_audit: int = MIN_CATEGORY_AUDIT,
                        n_boot: int = 1000, seed: int = 0) -> CategoryAdjustment:
    """The role-category shares of ``month`` (default: the market's latest) in one market, observed (from
    ``trend_demand``) and corrected with ``adjusted_category_shares`` on that market's audit.

    ``country`` is an ISO code, ``all`` for every country pooled, or None for the largest country (as the
    brief and findings choose). ``exclude`` names the rows of ``trend_demand`` that are not role categories
    (``all`` and the taxonomy's groups). Raises ``ValueError`` for a bad month, an unknown country or a month
    without trend rows.
    """
    from sqlalchemy import text

    from db.findings import resolve_market
    from db.trends import check_month

    market = resolve_market(engine, country)
    skip = set(exclude) | {"all"}
    with engine.connect() as conn:
        if month is None:
            month = conn.execute(text(
                "SELECT MAX(period) FROM trend_demand WHERE period_type = 'month' AND dim = :d AND dim_value = :dv "
                "AND category = 'all'"), {"d": market.dim, "dv": market.dim_value}).scalar()
            if month is None:
                raise ValueError(f"no monthly trend rows for {market.country or 'all countries'}: "
                                 "run `labourwatch trends` first")
        check_month(month)
        rows = conn.execute(text(
            "SELECT category, n, model_version FROM trend_demand WHERE period_type = 'month' AND period = :m "
            "AND dim = :d AND dim_value = :dv"), {"m": month, "d": market.dim, "dv": market.dim_value}).all()
    counts = {str(c): int(n) for c, n, _ in rows if c not in skip and int(n) > 0}
    if not counts:
        raise ValueError(f"no trend rows for {month} in {market.country or 'all countries'}: "
                         "run `labourwatch trends` first (or pick a month that has postings)")
    mv = next((v for c, _, v in rows if c == "all"), None) or next((v for _, _, v in rows), None)
    total = sum(counts.values())
    weighted, _ = _weighted_rows(engine, "role_category", mv, market.country)
    audited: dict[str, int] = {}
    for r, _w in weighted:
        audited[str(r.predicted)] = audited.get(str(r.predicted), 0) + 1
    n_audit = len(weighted)
    adjusted = {}
    if n_audit >= min_audit:  # the same computation as adjusted_category_shares, on the rows read above
        adjusted = {a.key: a for a in _category_shares(weighted, counts, n_boot, seed)}
    codes = sorted(set(counts) | set(adjusted), key=lambda c: (-counts.get(c, 0), -(adjusted[c].value
                                                                                  if c in adjusted else 0), c))
    out = []
    for c in codes:
        a = adjusted.get(c)
        out.append(CategoryShareRow(c, counts.get(c, 0), counts.get(c, 0) / total, a.value if a else None,
                                    a.ci_low if a else None, a.ci_high if a else None, audited.get(c, 0)))
    return CategoryAdjustment(month, market.country, mv, total, n_audit, min_audit, tuple(out))
