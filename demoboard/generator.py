"""Deterministic generator of bilingual job postings with known true labels and built-in trends."""

from __future__ import annotations

import math
import random
import resource
import time as _time
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from itertools import accumulate

from demoboard.texts import NEW_ECONOMY, ROLE_CODES, CategoryTexts, Variant, vocabulary
from labourwatch.contract import AI_LEVELS, experience_bucket

LAST_DAY = date(2026, 6, 30)
MONTHS: tuple[str, ...] = tuple(f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(30))
SPRING_FESTIVAL: dict[int, date] = {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17)}
STYLES = ("html", "api")
AI_SHARE_GROUPS = ("all", "new_economy")

SHARE_EN = 0.20  # English postings (all served in the html style)
SHARE_API = 0.50  # Chinese postings served through the JSON API rather than HTML pages
SHARE_DUPLICATES = 0.04  # reposts of an earlier posting, same style or the other one
SHARE_MALFORMED = 0.005  # pages served broken

# The three headline categories carry no noise at the two months their year-on-year figure compares.
ANCHOR_MONTHS = (MONTHS.index("2025-03"), MONTHS.index("2026-03"))
HEADLINE = ("software_dev", "design_basic", "supply_chain_repetitive")


@dataclass(frozen=True, slots=True)
class DemoPosting:
    """One page of the demo board, with the labels a careful human reader would assign (taxonomy.md)."""

    style: str  # "html" (schema.org JobPosting page) or "api" (JSON search API, Chinese only)
    external_id: str  # unique within a style
    job_id: str  # shared by reposts of the same job; the first occurrence is the canonical one
    is_duplicate: bool
    lang: str  # "zh" or "en"
    title: str
    company: str
    city: str
    country: str  # ISO 3166 alpha-2
    salary_text: str | None
    salary_min: float | None
    salary_max: float | None
    salary_unit: str | None  # HOUR, DAY, MONTH or YEAR
    salary_currency: str | None
    experience_text: str | None  # the board's own field; None when the board shows none
    education_text: str | None
    employment_type: str  # FULL_TIME or PART_TIME
    description: str  # plain text with section headings
    posted_at: date
    posted_time: time
    malformed: bool  # served broken: a crawler should reject the page
    role_category: str
    experience_min_years: int | None
    experience_max_years: int | None
    experience_bucket: str
    requires_3plus_years: bool | None
    ai_level: str

    @property
    def month(self) -> str:
        return self.posted_at.strftime("%Y-%m")

    @property
    def references_ai(self) -> bool:
        return self.ai_level != "none"

    @property
    def counts(self) -> bool:
        """Whether the posting enters the true aggregates: canonical and well-formed."""
        return not self.is_duplicate and not self.malformed

    @property
    def path(self) -> str:
        """Where the board serves it."""
        if self.style == "html":
            return f"/jobs/{self.external_id}.html"
        return f"/api/positions/{self.external_id}"


@dataclass(frozen=True)
class DemoDataset:
    """A generated board: the postings in chronological order plus the parameters that made them."""

    n_postings: int
    seed: int
    postings: list[DemoPosting]

    def by_style(self, style: str) -> list[DemoPosting]:
        if style not in STYLES:
            raise ValueError(f"unknown board style {style!r}; expected one of {STYLES}")
        return [p for p in self.postings if p.style == style]

    def canonical(self) -> list[DemoPosting]:
        """Postings that enter the true aggregates (first occurrence, well-formed)."""
        return [p for p in self.postings if p.counts]

    def find(self, style: str, external_id: str) -> DemoPosting:
        for p in self.postings:
            if p.style == style and p.external_id == external_id:
                return p
        raise KeyError(f"no {style} posting with external_id {external_id!r}")


@dataclass(frozen=True, slots=True)
class CategoryProfile:
    """How a category's volume, experience and AI references behave over time."""

    weight: float  # share of the market at 2025-03 before normalising
    knots: tuple[tuple[int, float], ...]  # (month index, relative level), interpolated in log space
    p3: float  # propensity to require 3+ years among postings that state experience
    unstated: float  # share of postings that do not state experience
    below3: tuple[float, float, float]  # none, lt1, 1_3 among postings requiring under 3 years
    above3: tuple[float, float, float]  # 3_5, 5_10, 10_plus among postings requiring 3+ years
    ai: float  # propensity to reference AI (ai_ml always does)
    ai_mix: tuple[float, float, float]  # incidental, ai_tools, ai_skills among those that do


_P = CategoryProfile
_FLAT = ((0, 1.0), (29, 1.0))
_DEFAULT_ABOVE = (0.62, 0.32, 0.06)
PROFILES: dict[str, CategoryProfile] = {
    "software_dev": _P(0.25, ((0, 1.06), (14, 1.0), (26, 0.75), (29, 0.72)), 0.70, 0.07, (0.10, 0.05, 0.85),
                       _DEFAULT_ABOVE, 0.22, (0.25, 0.35, 0.40)),
    "software_qa": _P(0.025, ((0, 1.05), (29, 0.85)), 0.50, 0.07, (0.15, 0.05, 0.80), _DEFAULT_ABOVE, 0.16,
                      (0.30, 0.40, 0.30)),
    "it_ops": _P(0.035, _FLAT, 0.55, 0.07, (0.20, 0.05, 0.75), _DEFAULT_ABOVE, 0.12, (0.40, 0.30, 0.30)),
    "ai_ml": _P(0.035, ((0, 0.55), (14, 1.0), (26, 2.3), (29, 2.6)), 0.72, 0.06, (0.20, 0.05, 0.75),
                _DEFAULT_ABOVE, 1.0, (0.0, 0.0, 1.0)),
    "data": _P(0.035, ((0, 0.95), (29, 1.12)), 0.60, 0.07, (0.20, 0.05, 0.75), _DEFAULT_ABOVE, 0.30,
               (0.20, 0.30, 0.50)),
    "hardware_eng": _P(0.02, _FLAT, 0.65, 0.07, (0.15, 0.05, 0.80), _DEFAULT_ABOVE, 0.10, (0.50, 0.20, 0.30)),
    "product_project": _P(0.03, ((0, 0.95), (29, 1.05)), 0.65, 0.07, (0.15, 0.05, 0.80), _DEFAULT_ABOVE, 0.28,
                          (0.30, 0.30, 0.40)),
    "design_basic": _P(0.095, ((0, 1.08), (14, 1.0), (26, 0.5), (29, 0.46)), 0.45, 0.08, (0.25, 0.08, 0.67),
                       (0.70, 0.27, 0.03), 0.25, (0.15, 0.80, 0.05)),
    "design_ux": _P(0.012, ((0, 1.0), (29, 0.95)), 0.65, 0.08, (0.15, 0.05, 0.80), _DEFAULT_ABOVE, 0.25,
                    (0.20, 0.60, 0.20)),
    "content_media": _P(0.03, ((0, 1.0), (29, 0.88)), 0.40, 0.08, (0.30, 0.08, 0.62), (0.72, 0.25, 0.03), 0.25,
                        (0.20, 0.75, 0.05)),
    "operations": _P(0.035, _FLAT, 0.45, 0.08, (0.25, 0.08, 0.67), (0.72, 0.25, 0.03), 0.15,
                     (0.40, 0.55, 0.05)),
    "marketing": _P(0.025, _FLAT, 0.50, 0.08, (0.20, 0.08, 0.72), _DEFAULT_ABOVE, 0.20, (0.35, 0.60, 0.05)),
    "sales_bd": _P(0.06, ((0, 1.0), (29, 0.96)), 0.30, 0.10, (0.45, 0.10, 0.45), (0.72, 0.25, 0.03), 0.10,
                   (0.80, 0.20, 0.0)),
    "customer_service": _P(0.03, ((0, 1.05), (29, 0.80)), 0.15, 0.10, (0.55, 0.15, 0.30), (0.85, 0.14, 0.01),
                           0.10, (0.50, 0.30, 0.20)),
    "supply_chain_repetitive": _P(0.125, ((0, 1.05), (14, 1.0), (26, 0.55), (29, 0.52)), 0.12, 0.12,
                                  (0.60, 0.12, 0.28), (0.88, 0.11, 0.01), 0.04, (0.90, 0.10, 0.0)),
    "supply_chain_mgmt": _P(0.018, _FLAT, 0.60, 0.07, (0.15, 0.05, 0.80), _DEFAULT_ABOVE, 0.08,
                            (0.70, 0.25, 0.05)),
    "manufacturing": _P(0.045, ((0, 1.0), (29, 0.97)), 0.35, 0.10, (0.45, 0.10, 0.45), (0.75, 0.22, 0.03), 0.05,
                        (0.75, 0.10, 0.15)),
    "engineering_construction": _P(0.022, ((0, 1.05), (29, 0.92)), 0.60, 0.08, (0.20, 0.05, 0.75),
                                   _DEFAULT_ABOVE, 0.04, (0.80, 0.15, 0.05)),
    "finance_accounting": _P(0.028, _FLAT, 0.50, 0.07, (0.20, 0.08, 0.72), _DEFAULT_ABOVE, 0.08,
                             (0.50, 0.40, 0.10)),
    "hr_admin_legal": _P(0.028, _FLAT, 0.40, 0.08, (0.30, 0.10, 0.60), _DEFAULT_ABOVE, 0.10, (0.50, 0.50, 0.0)),
    "healthcare": _P(0.02, ((0, 0.95), (29, 1.10)), 0.55, 0.08, (0.25, 0.05, 0.70), _DEFAULT_ABOVE, 0.05,
                     (0.60, 0.20, 0.20)),
    "education": _P(0.022, _FLAT, 0.40, 0.08, (0.30, 0.08, 0.62), _DEFAULT_ABOVE, 0.12, (0.40, 0.50, 0.10)),
    "services_hospitality": _P(0.04, _FLAT, 0.15, 0.12, (0.60, 0.12, 0.28), (0.85, 0.14, 0.01), 0.03,
                               (0.90, 0.10, 0.0)),
    "management": _P(0.013, _FLAT, 0.90, 0.08, (0.70, 0.05, 0.25), (0.30, 0.55, 0.15), 0.15, (0.80, 0.20, 0.0)),
    "other": _P(0.008, _FLAT, 0.30, 0.12, (0.50, 0.10, 0.40), (0.80, 0.18, 0.02), 0.03, (1.0, 0.0, 0.0)),
}


def ai_share_target(t: int) -> float:
    """Share of canonical postings referencing AI in month index ``t`` (≈22% over 2025, ≈34% in 2026)."""
    year, m = divmod(t, 12)
    if year == 0:
        return 0.13 + 0.05 * m / 11
    if year == 1:
        return 0.19 + 0.06 * m / 11
    return 0.315 + 0.01 * m


def three_plus_target(t: int) -> float:
    """Share requiring 3+ years among postings stating experience (≈73% in the newest three months)."""
    last = len(MONTHS) - 1
    if t >= last - 2:
        return 0.735 - 0.005 * (last - t)
    return 0.55 + (0.72 - 0.55) * t / (last - 3)


def month_factor(t: int) -> float:
    """Seasonal volume of month index ``t``: Spring Festival dip, spring hiring peak, National Day."""
    year, m = 2024 + t // 12, t % 12 + 1
    f = {3: 1.12, 4: 1.08, 10: 0.88, 12: 0.93}.get(m, 1.0)
    fest = SPRING_FESTIVAL[year]
    if m == fest.month:
        f *= 0.62
    elif m == 1 and fest.month == 2 and fest.day < 15:
        f *= 0.90  # the run-up to an early-February festival slows late January
    elif m == 2 and fest.month == 1:
        f *= 0.80  # a late-January festival drags into February
    return f


def day_weight(d: date) -> float:
    """Relative chance that a posting appears on day ``d`` within its month."""
    w = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3)[d.weekday()]
    fest = SPRING_FESTIVAL.get(d.year)
    if fest is not None:
        delta = (d - fest).days
        if -9 <= delta <= -3:
            w *= 0.5
        elif -2 <= delta <= 6:
            w *= 0.08
        elif 7 <= delta <= 13:
            w *= 0.6
    if d.month == 10 and d.day <= 7:
        w *= 0.15
    return w


def category_level(code: str, t: int) -> float:
    """A category's trend curve at month index ``t`` (piecewise log-linear through its knots)."""
    knots = PROFILES[code].knots
    if t <= knots[0][0]:
        return knots[0][1]
    for (t0, v0), (t1, v1) in zip(knots, knots[1:], strict=False):
        if t <= t1:
            frac = (t - t0) / (t1 - t0)
            return math.exp(math.log(v0) + frac * (math.log(v1) - math.log(v0)))
    return knots[-1][1]


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (ties broken by position)."""
    s = float(sum(weights))
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    quotas = [total * w / s for w in weights]
    base = [int(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _solve_shift(sizes: Sequence[float], props: Sequence[float], target: float) -> list[float]:
    """Probabilities sigmoid(logit(prop) + d), one d for all, whose size-weighted sum equals ``target``."""
    active = [(n, p) for n, p in zip(sizes, props, strict=True) if p > 0]
    cap = sum(n for n, _ in active)
    if cap <= 0:
        return [0.0] * len(props)
    target = min(max(target, 0.0), cap)
    lo, hi = -12.0, 12.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sum(n * _sigmoid(_logit(p) + mid) for n, p in active) < target:
            lo = mid
        else:
            hi = mid
    d = (lo + hi) / 2
    return [_sigmoid(_logit(p) + d) if p > 0 else 0.0 for p in props]


def _stochastic_round(rng: random.Random, x: float) -> int:
    base = int(x)
    return base + (1 if rng.random() < x - base else 0)


def _wchoice(rng: random.Random, items: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(items, weights)[0]


# --------------------------------------------------------------------------------------------------------------
# Companies


@dataclass(frozen=True, slots=True)
class Company:
    """A fictional employer with a fixed blurb; ``ai_blurb`` marks blurbs that mention AI."""

    name: str
    industry: str
    ai_blurb: bool
    blurb: str


def _build_companies(seed: int) -> dict[tuple[str, str], list[Company]]:
    vocab = vocabulary()
    common = vocab.common
    rng = random.Random(f"{seed}:companies")
    pools: dict[tuple[str, str], list[Company]] = {}
    cities_zh = list(common["cities_zh"])
    forms_zh, forms_zh_w = list(common["legal_forms_zh"]), list(common["legal_forms_zh"].values())
    forms_en, forms_en_w = list(common["legal_forms_en"]), list(common["legal_forms_en"].values())
    cities_en = [c for c in common["cities_en"] if c not in common["countries_en"]]
    for ind_name, ind in vocab.industries.items():
        for lang, size in (("zh", 36), ("en", 14)):
            names: dict[str, Company] = {}
            attempts = 0
            while len(names) < size and attempts < size * 20:
                attempts += 1
                ai = ind.ai_always or rng.random() < 0.15
                year = rng.randint(1996, 2021)
                staff = rng.choice((30, 50, 80, 120, 200, 300, 500, 800, 1000, 2000, 5000))
                if lang == "zh":
                    brand, word = rng.choice(common["brands_zh"]), rng.choice(ind.words_zh)
                    hq = rng.choice(cities_zh)
                    prefix = rng.choices(("", hq, hq + "市"), (3, 5, 2))[0]
                    name = f"{prefix}{brand}{word}{_wchoice(rng, forms_zh, forms_zh_w)}"
                    short, focus = brand + word[:2], rng.choice(ind.focus_zh)
                    template = rng.choice(common["ai_blurbs_zh" if ai else "blurbs_zh"])
                else:
                    brand, word = rng.choice(common["brands_en"]), rng.choice(ind.words_en)
                    hq = rng.choice(cities_en)
                    name = f"{brand} {word} {_wchoice(rng, forms_en, forms_en_w)}"
                    short, focus = f"{brand} {word}", rng.choice(ind.focus_en)
                    template = rng.choice(common["ai_blurbs_en" if ai else "blurbs_en"])
                if name in names:
                    continue
                blurb = template.format(name=short, year=year, hq=hq, focus=focus, size=staff,
                                        clients=rng.choice((200, 500, 1000, 3000)),
                                        branches=rng.randint(3, 40), age=2025 - year)
                names[name] = Company(name=name, industry=ind_name, ai_blurb=ai, blurb=blurb)
            pools[(lang, ind_name)] = list(names.values())
    for lang in ("zh", "en"):
        for name, ind_name in common[f"trap_companies_{lang}"].items():
            ind = vocab.industries[ind_name]
            focus = ind.focus_zh[0] if lang == "zh" else ind.focus_en[0]
            template = common[f"blurbs_{lang}"][0]
            blurb = template.format(name=name, year=2008, hq="上海" if lang == "zh" else "Leeds", focus=focus,
                                    size=300, clients=500, branches=6, age=17)
            pools[(lang, ind_name)].append(Company(name=name, industry=ind_name, ai_blurb=False, blurb=blurb))
    return pools


# --------------------------------------------------------------------------------------------------------------
# Experience phrases

_CN_NUM = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 8: "八", 10: "十"}
_EN_NUM = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 10: "ten"}
_API_SPECS = {"none": (0, None), "lt1": (0, 1), "1_3": (1, 3), "3_5": (3, 5), "5_10": (5, 10),
              "10_plus": (10, None)}
_FREE_SPECS: dict[str, tuple[tuple[tuple[int, int | None], ...], tuple[float, ...]]] = {
    "1_3": (((1, 3), (1, None), (2, None), (2, 3)), (5, 2, 2, 1)),
    "3_5": (((3, 5), (3, None), (4, None)), (5, 4, 1)),
    "5_10": (((5, 10), (5, None), (8, None)), (4, 5, 1)),
}
SENIOR_MARKERS = ("高级", "资深", "总监", "主管", "经理", "总经理", "Senior", "Lead", "Head", "Director")


def bucket_of(min_years: int | None, max_years: int | None) -> str:
    """Experience bucket of a (min, max) requirement: the taxonomy's rule (``labourwatch.contract``)."""
    return experience_bucket(min_years, max_years)


def _spec(rng: random.Random, bucket: str, api: bool) -> tuple[int, int | None]:
    if bucket in _FREE_SPECS and not api:
        specs, weights = _FREE_SPECS[bucket]
        return specs[rng.choices(range(len(specs)), weights)[0]]
    return _API_SPECS[bucket]


def _field_text(rng: random.Random, spec: tuple[int, int | None], lang: str, api: bool) -> str:
    lo, hi = spec
    if lang == "en":
        if spec == (0, None):
            return rng.choice(("Entry level", "No experience required"))
        if spec == (0, 1):
            return "Less than 1 year"
        if hi is not None:
            return f"{lo}-{hi} years"
        return rng.choice((f"{lo}+ years", f"Minimum {lo} years"))
    if api:
        if spec == (0, None):
            return rng.choice(("不限", "经验不限", "应届毕业生"))
        if spec == (0, 1):
            return "1年以下"
        return f"{lo}-{hi}年" if hi is not None else f"{lo}年以上"
    if spec == (0, None):
        return rng.choice(("经验不限", "无经验", "应届生", "在校/应届"))
    if spec == (0, 1):
        return rng.choice(("1年以下", "经验1年以下"))
    if hi is not None:
        return rng.choice((f"{lo}-{hi}年", f"经验{lo}-{hi}年"))
    return rng.choice((f"{lo}年以上", f"{lo}年及以上", f"经验{lo}年以上"))


def _experience_line(rng: random.Random, spec: tuple[int, int | None], lang: str, d: str, has_field: bool) -> str:
    """A requirements line stating ``spec`` (with a board field, only its minimum must agree)."""
    lo, hi = spec
    if lang == "zh":
        if spec == (0, None):
            return rng.choice(("经验不限，欢迎优秀应届毕业生", "无经验可培训，公司提供带薪岗前培训",
                               "接受应届毕业生及无经验者", "有无经验均可，新人有师傅带教"))
        if spec == (0, 1):
            return rng.choice(("1年以下相关工作经验即可", f"1年以下{d}经验亦可"))
        if hi is not None:
            forms = [f"{lo}-{hi}年{d}经验", f"{lo}至{hi}年相关工作经验", f"具备{lo}-{hi}年{d}工作经验"]
            if has_field:
                forms.append(f"{lo}年以上{d}经验")
            return rng.choice(forms)
        forms = [f"{lo}年以上{d}经验", f"{lo}年及以上{d}经验", f"至少{lo}年{d}经验", f"有{lo}年以上{d}经验者优先"]
        if lo in _CN_NUM:
            forms.append(f"{_CN_NUM[lo]}年以上相关工作经验")
        if 2 <= lo <= 6:
            forms.append(f"{lo - 1}年以上行业经验，{lo}年以上{d}经验")  # the strictest figure counts
        if lo <= 5:
            forms.append(f"{lo + 2}年以上{d}经验，或硕士学历{lo}年以上")  # the smallest alternative counts
        return rng.choice(forms)
    if spec == (0, None):
        return rng.choice(("No experience required - full training provided",
                           "Entry-level role: graduates and career changers welcome", "No previous experience needed"))
    if spec == (0, 1):
        return rng.choice((f"Up to 1 year of experience in {d}", "Less than a year of experience is fine"))
    if hi is not None:
        forms = [f"{lo}-{hi} years of experience in {d}", f"{lo} to {hi} years' {d} experience"]
        if has_field:
            forms.append(f"{lo}+ years of {d} experience")
        return rng.choice(forms)
    forms = [f"{lo}+ years of experience in {d}", f"Minimum of {lo} year{'s' if lo > 1 else ''} in {d}",
             f"Ideally {lo}+ years of {d} experience"]
    if lo in _EN_NUM:
        forms.append(f"At least {_EN_NUM[lo]} years of {d} experience")
    if 2 <= lo <= 6:
        forms.append(f"{lo - 1}+ years in the sector and {lo}+ years of {d} experience")
    if lo <= 5:
        forms.append(f"{lo + 2} years of {d} experience, or {lo} with a master's degree")
    return rng.choice(forms)


def _unstated_line(rng: random.Random, lang: str, d: str) -> str | None:
    if rng.random() < 0.5:
        return None
    if lang == "zh":
        return rng.choice((f"具备丰富的{d}经验", f"有{d}相关经验者优先", "有相关工作经验者优先"))
    return rng.choice((f"Substantial experience in {d}", f"Proven experience in {d}",
                       "Relevant experience is desirable"))


# --------------------------------------------------------------------------------------------------------------
# Salaries and education

_BUCKET_PAY = {"none": 0.8, "lt1": 0.85, "1_3": 1.0, "3_5": 1.35, "5_10": 1.8, "10_plus": 2.3, "unstated": 1.2}
_TIER1 = {"北京", "上海", "深圳", "London"}
_SHIFT_VARIANTS = {"sorter", "warehouse", "courier_driver", "operator", "maintenance", "quality", "restaurant",
                   "hotel", "retail_store", "security", "cleaning", "property_service", "driver_passenger",
                   "beauty_fitness", "domestic", "service", "site", "agriculture", "nursing"}
_HOURLY_VARIANTS = {"sorter", "warehouse", "restaurant", "hotel", "retail_store", "security", "cleaning",
                    "courier_driver", "service", "operator"}


def _gbp_k(cny_k: float) -> float:
    """Annual pay in £1,000 comparable to a monthly CNY salary in thousands (flatter at the top)."""
    return 12 + 2.4 * min(cny_k, 15) + 1.1 * max(0.0, cny_k - 15)


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _salary(rng: random.Random, v: Variant, lang: str, country: str, city: str, bucket: str, t: int
            ) -> tuple[str | None, float | None, float | None, str | None, str | None]:
    """(text, min, max, unit, currency) for a posting."""
    lo_k = v.salary[0] * _BUCKET_PAY[bucket] * (1 + 0.02 * t / 12) * rng.uniform(0.9, 1.12)
    lo_k *= 1.15 if city in _TIER1 else 1.0
    hi_k = lo_k * rng.uniform(1.3, 1.7)
    r = rng.random()
    if lang == "zh":
        if r < 0.05:
            return "面议", None, None, None, None
        if v.name in _HOURLY_VARIANTS and r < 0.18:
            if v.name in ("sorter", "courier_driver", "operator"):
                lo_d = round(lo_k * 1000 / 26 / 10) * 10
                hi_d = lo_d + rng.choice((30, 50, 80))
                return f"{lo_d}-{hi_d}元/天", float(lo_d), float(hi_d), "DAY", "CNY"
            hourly = rng.choice((20, 22, 23, 25, 28))
            return f"{hourly}元/时", float(hourly), float(hourly), "HOUR", "CNY"
        lo_i, hi_i = max(3, round(lo_k)), max(4, round(hi_k))
        if hi_i <= lo_i:
            hi_i = lo_i + 1
        mn, mx = lo_i * 1000.0, hi_i * 1000.0
        months = rng.choice((13, 13, 14, 15, 16))
        if lo_i >= 10 and r < 0.35:
            text = f"{_num(lo_i / 10)}-{_num(hi_i / 10)}万" + (f"·{months}薪" if rng.random() < 0.4 else "")
        elif lo_i < 10 <= hi_i and r < 0.45:
            text = f"{lo_i}千-{_num(hi_i / 10)}万/月"
        elif hi_i < 10 and r < 0.55:
            lo_y, hi_y = round(lo_k * 2) * 500, round(hi_k * 2) * 500
            if hi_y <= lo_y:
                hi_y = lo_y + 500
            return f"{lo_y}-{hi_y}元/月", float(lo_y), float(hi_y), "MONTH", "CNY"
        elif r < 0.75:
            text = f"{lo_i}-{hi_i}K" + (f"·{months}薪" if lo_i >= 8 and rng.random() < 0.5 else "")
        else:
            text = f"{lo_i}k-{hi_i}k"
        return text, mn, mx, "MONTH", "CNY"
    if country == "CN":
        lo_c, hi_c = round(lo_k * 1.3) * 1000, round(hi_k * 1.3) * 1000
        if r < 0.5:
            return f"CNY {lo_c:,} - {hi_c:,} per month", float(lo_c), float(hi_c), "MONTH", "CNY"
        return f"{lo_c // 1000}-{hi_c // 1000}K RMB/month", float(lo_c), float(hi_c), "MONTH", "CNY"
    if r < 0.06:
        return "Competitive", None, None, None, None
    if v.name in _HOURLY_VARIANTS and r < 0.5:
        h_lo = round(rng.uniform(12.21, 13.5), 2)
        if rng.random() < 0.5:
            return f"£{h_lo:.2f} per hour", h_lo, h_lo, "HOUR", "GBP"
        h_hi = round(h_lo + rng.choice((0.5, 1.0, 1.5)), 2)
        return f"£{h_lo:.2f} - £{h_hi:.2f} per hour", h_lo, h_hi, "HOUR", "GBP"
    lo_g = max(23, round(_gbp_k(lo_k))) * 1000
    hi_g = max(lo_g + 2000, round(_gbp_k(hi_k)) * 1000)
    if r < 0.16:
        return f"Up to £{hi_g:,}", None, float(hi_g), "YEAR", "GBP"
    if r < 0.5:
        return f"£{lo_g:,} - £{hi_g:,}", float(lo_g), float(hi_g), "YEAR", "GBP"
    if r < 0.8:
        return f"£{lo_g:,} - £{hi_g:,} per annum", float(lo_g), float(hi_g), "YEAR", "GBP"
    return f"£{lo_g // 1000}k - £{hi_g // 1000}k + benefits", float(lo_g), float(hi_g), "YEAR", "GBP"


_EDU_EN = {"本科": "Bachelor's degree", "硕士": "Master's degree", "博士": "PhD", "大专": "HND or equivalent"}


def _education(rng: random.Random, v: Variant, lang: str, style: str) -> tuple[str | None, str | None]:
    """(board field, requirements line)."""
    level = rng.choices([e for e, _ in v.edu], [w for _, w in v.edu])[0]
    if lang == "en":
        mapped = _EDU_EN.get(level)
        if mapped is None:
            return None, None
        line = rng.choice((f"{mapped} or equivalent experience", f"Educated to {mapped} level")) \
            if rng.random() < 0.5 else None
        return (mapped if rng.random() < 0.5 else None), line
    field: str | None = level
    if style == "html":
        field = None if rng.random() < 0.2 else (level + "及以上" if level in ("本科", "大专", "硕士") and
                                                  rng.random() < 0.5 else level)
    if level == "不限":
        line = "学历不限"
    else:
        line = rng.choice((f"{level}及以上学历", f"学历{level}及以上", f"{level}以上学历"))
    return field, (line if rng.random() < 0.85 else None)


# --------------------------------------------------------------------------------------------------------------
# The generator


_INCIDENTAL_MODES = ("blurb", "majors", "interest", "process", "benefit")
_INCIDENTAL_WEIGHTS = (0.5, 0.15, 0.15, 0.1, 0.1)
_DUTY_STARTS = ("负责", "参与", "对")


@dataclass(frozen=True, slots=True)
class _Plan:
    counts: list[list[int]]  # [month][category] canonical well-formed postings
    duplicates: list[int]  # per month
    malformed: list[int]  # per month


class _Generator:
    def __init__(self, n_postings: int, seed: int, ai_share_group: str = "all") -> None:
        if ai_share_group not in AI_SHARE_GROUPS:
            raise ValueError(f"ai_share_group must be one of {AI_SHARE_GROUPS}, got {ai_share_group!r}")
        self.ai_share_group = ai_share_group
        if isinstance(n_postings, bool) or not isinstance(n_postings, int) or n_postings < 1:
            raise ValueError(f"n_postings must be a positive integer, got {n_postings!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.n = n_postings
        self.seed = seed
        self.vocab = vocabulary()
        self.companies = _build_companies(seed)
        self.plan = self._plan()
        common = self.vocab.common
        self.cities = {lang: (list(common[f"cities_{lang}"]), list(accumulate(common[f"cities_{lang}"].values())))
                       for lang in ("zh", "en")}
        self.days: list[tuple[list[date], list[float]]] = []
        for t in range(len(MONTHS)):
            y, m = 2024 + t // 12, t % 12 + 1
            d, days = date(y, m, 1), []
            while d.month == m:
                days.append(d)
                d += timedelta(days=1)
            self.days.append((days, list(accumulate(day_weight(x) for x in days))))
        self.job_seq = 0
        self._title_split: dict[tuple[str, str, str], tuple[Sequence[str], list[str], list[str]]] = {}
        self.next_id = {"html": 3_100_000 + seed % 997 * 10, "api": 8_600_000 + seed % 991 * 10}

    # ---- the plan: how many postings of each category each month -------------------------------------------
    def _plan(self) -> _Plan:
        rng = random.Random(f"{self.seed}:plan")
        n_dup = round(self.n * SHARE_DUPLICATES)
        n_mal = round(self.n * SHARE_MALFORMED)
        n_canon = self.n - n_dup - n_mal
        weights: list[float] = []
        for t in range(len(MONTHS)):
            for code in ROLE_CODES:
                noise = 1.0 if (code in HEADLINE and t in ANCHOR_MONTHS) else math.exp(rng.gauss(0.0, 0.06))
                weights.append(PROFILES[code].weight * category_level(code, t) * month_factor(t) * noise)
        flat = largest_remainder(n_canon, weights)
        k = len(ROLE_CODES)
        counts = [flat[t * k:(t + 1) * k] for t in range(len(MONTHS))]
        month_sizes = [sum(row) for row in counts]
        return _Plan(counts=counts, duplicates=largest_remainder(n_dup, month_sizes),
                     malformed=largest_remainder(n_mal, month_sizes))

    # ---- one posting ---------------------------------------------------------------------------------------
    def _make(self, rng: random.Random, t: int, code: str, is_ai: bool, three_plus: bool | None,
              malformed: bool = False) -> DemoPosting:
        prof = PROFILES[code]
        texts = self.vocab.categories[code]
        lang = "en" if rng.random() < SHARE_EN else "zh"
        style = "html" if lang == "en" or rng.random() >= SHARE_API else "api"
        level = self._level(rng, code, texts, lang, is_ai)
        if three_plus is None:
            bucket = "unstated"
        elif three_plus:
            bucket = rng.choices(("3_5", "5_10", "10_plus"), prof.above3)[0]
        else:
            bucket = rng.choices(("none", "lt1", "1_3"), prof.below3)[0]
        variants = [v for v in texts.variants
                    if (not v.entry_only or bucket == "none") and (not v.skills_only or level == "ai_skills")]
        variant = rng.choices(variants, [v.weight for v in variants])[0]

        days, cum = self.days[t]
        posted = days[bisect(cum, rng.random() * cum[-1])]
        posted_time = time(rng.randint(8, 20), rng.randint(0, 59), rng.randint(0, 59))

        title = self._title(rng, variant, lang, bucket)
        city_names, city_cum = self.cities[lang]
        city = city_names[bisect(city_cum, rng.random() * city_cum[-1])]
        country = self.vocab.common["countries_en"].get(city, "GB") if lang == "en" else "CN"

        # Experience: the board field (if any) wins; the description agrees with it.
        api = style == "api"
        domain = variant.domain_zh if lang == "zh" else variant.domain_en
        if bucket == "unstated":
            spec: tuple[int, int | None] | None = None
            field, exp_line = None, _unstated_line(rng, lang, domain)
        else:
            spec = _spec(rng, bucket, api)
            p_field = 1.0 if api else (0.62 if lang == "zh" else 0.35)
            has_field = rng.random() < p_field
            field = _field_text(rng, spec, lang, api) if has_field else None
            exp_line = _experience_line(rng, spec, lang, domain, has_field) \
                if (not has_field or rng.random() < 0.5) else None

        edu_field, edu_line = _education(rng, variant, lang, style)
        salary_text, s_min, s_max, s_unit, s_cur = _salary(rng, variant, lang, country, city, bucket, t)
        company, mode = self._company(rng, variant, lang, level)
        description = self._description(rng, texts, variant, lang, level, mode, exp_line, edu_line, company,
                                        salary_text or "")
        part_time = "兼职" in title or s_unit == "HOUR"
        return DemoPosting(
            style=style, external_id="", job_id=self._next_job_id(), is_duplicate=False, lang=lang, title=title,
            company=company.name, city=city, country=country, salary_text=salary_text, salary_min=s_min,
            salary_max=s_max, salary_unit=s_unit, salary_currency=s_cur, experience_text=field,
            education_text=edu_field, employment_type="PART_TIME" if part_time else "FULL_TIME",
            description=description, posted_at=posted, posted_time=posted_time, malformed=malformed,
            role_category=code, experience_min_years=None if spec is None else spec[0],
            experience_max_years=None if spec is None else spec[1], experience_bucket=bucket,
            requires_3plus_years=None if spec is None else spec[0] >= 3, ai_level=level,
        )

    @staticmethod
    def _level(rng: random.Random, code: str, texts: CategoryTexts, lang: str, is_ai: bool) -> str:
        if not is_ai:
            return "none"
        if code == "ai_ml":
            return "ai_skills"
        inc, tools, skills = PROFILES[code].ai_mix
        if not getattr(texts, f"ai_tools_{lang}"):
            tools = 0.0
        if not getattr(texts, f"ai_skills_{lang}"):
            skills = 0.0
        return rng.choices(AI_LEVELS[1:], (inc or 1e-9, tools, skills))[0]  # incidental, ai_tools, ai_skills

    def _title(self, rng: random.Random, v: Variant, lang: str, bucket: str) -> str:
        key = (v.category, v.name, lang)
        split = self._title_split.get(key)
        if split is None:
            titles: Sequence[str] = v.titles_zh if lang == "zh" else v.titles_en
            senior = [x for x in titles if any(m in x for m in SENIOR_MARKERS)]
            split = self._title_split[key] = (titles, senior, [x for x in titles if x not in senior])
        titles, senior, junior = split
        if bucket in ("none", "lt1", "1_3") and junior:
            return rng.choice(junior)
        if bucket == "unstated" and senior and rng.random() < 0.5:
            return rng.choice(senior)  # seniority words without years: still unstated
        return rng.choice(titles)

    def _company(self, rng: random.Random, v: Variant, lang: str, level: str) -> tuple[Company, str | None]:
        mode = None
        if level == "incidental":
            mode = rng.choices(_INCIDENTAL_MODES, _INCIDENTAL_WEIGHTS)[0]
        industries = list(v.industries)
        if level == "none" or (level == "incidental" and mode != "blurb"):
            industries = [i for i in industries if not self.vocab.industries[i].ai_always] or ["internet"]
        pool = self.companies[(lang, rng.choice(industries))]
        if level == "none" or (level == "incidental" and mode != "blurb"):
            pool = [c for c in pool if not c.ai_blurb]
        elif mode == "blurb":
            pool = [c for c in pool if c.ai_blurb] or self.companies[(lang, "ai")]
        return rng.choice(pool), mode

    def _description(self, rng: random.Random, texts: CategoryTexts, v: Variant, lang: str, level: str,
                     mode: str | None, exp_line: str | None, edu_line: str | None, company: Company,
                     salary_text: str) -> str:
        zh = lang == "zh"
        common = self.vocab.common
        duties_src = v.duties_zh if zh else v.duties_en
        reqs_src = v.reqs_zh if zh else v.reqs_en
        duties = _sample_ordered(rng, duties_src, rng.randint(min(3, len(duties_src)), len(duties_src)))
        reqs = _sample_ordered(rng, reqs_src, rng.randint(min(2, len(reqs_src)), len(reqs_src)))
        lines_req = [x for x in (edu_line, exp_line) if x]
        if rng.random() < 0.5 and exp_line and edu_line:
            lines_req.reverse()
        lines_req += reqs
        incidental = common["incidental_zh" if zh else "incidental_en"]
        if level in ("ai_tools", "ai_skills"):
            pool = getattr(texts, f"{level}_{lang}")
            line = rng.choice(pool)
            if line.startswith(_DUTY_STARTS) and rng.random() < 0.7:
                duties.insert(rng.randint(1, len(duties)), line)
            else:
                lines_req.insert(rng.randint(1, len(lines_req)), line)
        if mode in ("majors", "interest"):
            lines_req.insert(1 if mode == "majors" else len(lines_req), incidental[mode])
        kind = "shift" if v.name in _SHIFT_VARIANTS else "office"
        benefits = rng.sample(common[f"benefits_{lang}"], rng.randint(1, 3))
        benefits += rng.sample(common[f"benefits_{kind}_{lang}"], rng.randint(2, 3))
        rng.shuffle(benefits)
        if rng.random() < 0.6:
            traps = [x for x in common[f"benefit_traps_{lang}"] if "薪" not in x or "薪" not in salary_text]
            benefits.insert(rng.randint(0, len(benefits)), rng.choice(traps))
        if mode == "benefit":
            benefits.append(incidental["benefit"])
        notice = incidental["process"] if mode == "process" else None
        if zh:
            return _compose_zh(rng, duties, lines_req, benefits, company.blurb, notice, common["fillers_zh"])
        return _compose_en(rng, duties, lines_req, benefits, company.blurb, notice)

    # ---- the month loop ------------------------------------------------------------------------------------
    def run(self) -> Iterator[DemoPosting]:
        pending: list[DemoPosting] = []
        for t in range(len(MONTHS)):
            rng = random.Random(f"{self.seed}:month:{t}")
            drafts = self._month_drafts(rng, t)
            eligible = [i for i, d in enumerate(drafts) if d.posted_at < LAST_DAY and not d.malformed]
            for i in sorted(rng.sample(eligible, min(self.plan.duplicates[t], len(eligible)))):
                pending.append(self._repost(rng, drafts[i]))
            month_end = self.days[t][0][-1]
            due = [d for d in pending if d.posted_at <= month_end]
            pending = [d for d in pending if d.posted_at > month_end]
            batch = drafts + due
            batch.sort(key=lambda p: (p.posted_at, p.posted_time, p.job_id, p.is_duplicate, p.style))
            for p in batch:
                self.next_id[p.style] += rng.randint(1, 9)
                # The drafts are private to this loop until yielded, so setting the id in place is safe
                # (and saves a copy per posting at a million postings).
                object.__setattr__(p, "external_id", str(self.next_id[p.style]))
                yield p

    def _month_drafts(self, rng: random.Random, t: int) -> list[DemoPosting]:
        counts = self.plan.counts[t]
        total = sum(counts)
        unstated = [_stochastic_round(rng, n * PROFILES[c].unstated) for c, n in zip(ROLE_CODES, counts,
                                                                                        strict=True)]
        stated = [n - u for n, u in zip(counts, unstated, strict=True)]
        p3 = _solve_shift(stated, [PROFILES[c].p3 for c in ROLE_CODES], three_plus_target(t) * sum(stated))
        ai_idx = ROLE_CODES.index("ai_ml")
        members = [self.ai_share_group == "all" or c in NEW_ECONOMY for c in ROLE_CODES]
        others = [n if (m and i != ai_idx) else 0 for i, (n, m) in enumerate(zip(counts, members, strict=True))]
        group_total = sum(n for n, m in zip(counts, members, strict=True) if m)
        # One shift for every category keeps their ranking; it is solved so the chosen group hits the target.
        pai = _solve_shift(others, [0.0 if c == "ai_ml" else PROFILES[c].ai for c in ROLE_CODES],
                           ai_share_target(t) * group_total - counts[ai_idx])
        drafts: list[DemoPosting] = []
        for i, code in enumerate(ROLE_CODES):
            n = counts[i]
            if n == 0:
                continue
            k_ai = n if i == ai_idx else min(n, _stochastic_round(rng, n * pai[i]))
            k3 = min(stated[i], _stochastic_round(rng, stated[i] * p3[i]))
            ai_flags = [True] * k_ai + [False] * (n - k_ai)
            exp_flags: list[bool | None] = [None] * unstated[i] + [True] * k3 + [False] * (stated[i] - k3)
            rng.shuffle(ai_flags)
            rng.shuffle(exp_flags)
            for j in range(n):
                drafts.append(self._make(rng, t, code, ai_flags[j], exp_flags[j]))
        for _ in range(self.plan.malformed[t]):
            code = rng.choices(ROLE_CODES, counts if total else None)[0]
            is_ai = code == "ai_ml" or rng.random() < ai_share_target(t)
            three_plus = None if rng.random() < 0.08 else rng.random() < three_plus_target(t)
            drafts.append(self._make(rng, t, code, is_ai, three_plus, malformed=True))
        return drafts

    def _next_job_id(self) -> str:
        self.job_seq += 1
        return f"J{self.seed % 100:02d}{self.job_seq:08d}"

    @staticmethod
    def _repost(rng: random.Random, p: DemoPosting) -> DemoPosting:
        delay = rng.choices((1, 2, 3, 5, 7, 10, 14, 21, 28), (3, 3, 3, 3, 4, 3, 3, 2, 1))[0]
        posted = min(p.posted_at + timedelta(days=delay), LAST_DAY)
        style = p.style
        if p.lang == "zh" and rng.random() < 0.5:
            style = "api" if p.style == "html" else "html"
        posted_time = time(rng.randint(8, 20), rng.randint(0, 59), rng.randint(0, 59))
        experience_text = p.experience_text
        if style == "api" and p.style != "api" and p.experience_min_years is not None:
            # The API board always fills its experience field; it states the same requirement.
            spec = (p.experience_min_years, p.experience_max_years)
            experience_text = _field_text(rng, spec, p.lang, True)
        return replace(p, style=style, is_duplicate=True, posted_at=posted, posted_time=posted_time,
                       experience_text=experience_text)


def _sample_ordered(rng: random.Random, items: Sequence[str], k: int) -> list[str]:
    idx = sorted(rng.sample(range(len(items)), min(k, len(items))))
    return [items[i] for i in idx]


_ZH_HEADS = (("岗位职责", "任职要求"), ("工作职责", "任职资格"), ("岗位职责", "岗位要求"), ("职位描述", "任职要求"))


def _compose_zh(rng: random.Random, duties: list[str], reqs: list[str], benefits: list[str], blurb: str,
                notice: str | None, fillers: Sequence[str]) -> str:
    duty_head, req_head = _ZH_HEADS[rng.choices(range(4), (5, 2, 2, 1))[0]]
    sep = rng.choice(("、", ". "))  # "1.3年以上" would be ambiguous

    def numbered(items: list[str]) -> list[str]:
        out = []
        for i, x in enumerate(items, 1):
            out.append(f"{i}{sep}{x}{'。' if i == len(items) else '；'}")
        return out

    while True:
        parts = [f"{duty_head}：", *numbered(duties), f"{req_head}：", *numbered(reqs),
                 f"{rng.choice(('福利待遇', '福利'))}：", "、".join(benefits), "公司介绍：", blurb]
        if notice:
            parts += ["温馨提示：", notice]
        text = "\n".join(parts)
        if len(text) <= 600 or len(duties) <= 2:
            break
        duties = duties[:-1]  # keep zh descriptions within real boards' usual length
    for filler in fillers:
        if len(text) >= 200:
            break
        text += "\n" + filler
    return text


def _compose_en(rng: random.Random, duties: list[str], reqs: list[str], benefits: list[str], blurb: str,
                notice: str | None) -> str:
    duty_head = "Responsibilities" if rng.random() < 0.85 else "What you'll do"
    bullet = rng.choice(("- ", "• "))
    about = ["About us", blurb]
    body = [duty_head, *(bullet + x for x in duties), "Requirements", *(bullet + x for x in reqs),
            "Benefits", *(bullet + x for x in benefits)]
    parts = about + body if rng.random() < 0.35 else body + about
    if notice:
        parts.append(f"Please note: {notice}.")
    return "\n".join(parts)


def iter_postings(n_postings: int = 20000, seed: int = 2026, *, ai_share_group: str = "all"
                  ) -> Iterator[DemoPosting]:
    """Yield ``n_postings`` postings in chronological order, holding about one month in memory.

    Deterministic in its arguments. ``ai_share_group`` is the population whose share referencing AI follows
    the built-in path (≈22% over 2025, ≈34% in 2026): ``"all"`` postings, or only ``"new_economy"`` ones.
    """
    return _Generator(n_postings, seed, ai_share_group).run()


def generate(n_postings: int = 20000, seed: int = 2026, *, ai_share_group: str = "all") -> DemoDataset:
    """Generate the demo board's postings (chronological) with their true labels (see :func:`iter_postings`)."""
    return DemoDataset(n_postings=n_postings, seed=seed,
                       postings=list(iter_postings(n_postings, seed, ai_share_group=ai_share_group)))


@dataclass(frozen=True, slots=True)
class GeneratorBenchmark:
    """Throughput and memory of one generator run."""

    postings: int
    seconds: float
    postings_per_s: float
    peak_rss_mb: float
    chars: int

    def summary(self) -> str:
        return (f"generated {self.postings:,} postings in {self.seconds:.1f} s = {self.postings_per_s:,.0f} "
                f"postings/s; {self.chars / max(self.postings, 1):.0f} chars/posting; "
                f"peak RSS {self.peak_rss_mb:.0f} MB")


def benchmark(n_postings: int = 1_000_000, seed: int = 2026) -> GeneratorBenchmark:
    """Stream ``n_postings`` through :func:`iter_postings` and measure postings/s and peak memory."""
    t0 = _time.perf_counter()
    count = chars = 0
    for p in iter_postings(n_postings, seed):
        count += 1
        chars += len(p.description)
    seconds = _time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return GeneratorBenchmark(postings=count, seconds=seconds, postings_per_s=count / seconds if seconds else 0.0,
                              peak_rss_mb=peak_mb, chars=chars)
