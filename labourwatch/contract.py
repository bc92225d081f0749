"""The records that cross package borders, and the taxonomy's vocabulary.

This module imports nothing else from the project (a test keeps it so): scrapers, importers, models, db, flows,
brief and the dashboard all speak in these types. The vocabulary (role codes and names, groups, experience
buckets, AI levels) is read from the taxonomy's data file, ``models/taxonomy.yaml``, never typed again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "models" / "taxonomy.yaml"

# --- vocabulary -----------------------------------------------------------------------------------------

EXPERIENCE_BUCKETS: tuple[str, ...] = ("none", "lt1", "1_3", "3_5", "5_10", "10_plus", "unstated")
AI_LEVELS: tuple[str, ...] = ("none", "incidental", "ai_tools", "ai_skills")
ROLE_SOURCES: tuple[str, ...] = ("board", "text")


def ai_level_metric(level: str) -> str:
    """The trend metric counting postings of an AI level: ``ai_none``, ``ai_incidental``, ``ai_tools``,
    ``ai_skills`` (levels already named ``ai_...`` keep their name)."""
    if level not in AI_LEVELS:
        raise ValueError(f"unknown AI level {level!r}; known: {', '.join(AI_LEVELS)}")
    return level if level.startswith("ai_") else f"ai_{level}"


AI_LEVEL_METRICS: tuple[str, ...] = tuple(ai_level_metric(level) for level in AI_LEVELS)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The taxonomy's codes as data: version, role codes with their names, and groups of codes."""

    version: str
    role_codes: tuple[str, ...]
    names_zh: Mapping[str, str]
    names_en: Mapping[str, str]
    groups: Mapping[str, tuple[str, ...]]

    def name(self, code: str, lang: str = "en") -> str:
        """The category's name in ``lang`` (zh or en); the code itself for an unknown code."""
        return (self.names_zh if lang == "zh" else self.names_en).get(code, code)


@lru_cache(maxsize=4)
def vocabulary(path: Path | None = None) -> Vocabulary:
    """The vocabulary of the taxonomy file at ``path`` (default: the packaged ``models/taxonomy.yaml``)."""
    path = path or TAXONOMY_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cats = data.get("categories") or []
    codes = tuple(str(c["code"]) for c in cats)
    groups = {str(k): tuple(v) for k, v in (data.get("groups") or {}).items()}
    groups["all"] = codes
    return Vocabulary(str(data["version"]), codes, {c["code"]: c["zh"] for c in cats},
                      {c["code"]: c["en"] for c in cats}, groups)


def experience_bucket(min_years: float | None, max_years: float | None) -> str:
    """The experience bucket of a (min, max) years requirement, as taxonomy.md section 2 defines it."""
    if min_years is None:
        return "unstated"
    if min_years <= 0:
        return "lt1" if max_years is not None and 0 < max_years <= 1 else "none"
    if min_years < 1:
        return "lt1"
    if min_years < 3:
        return "1_3"
    if min_years < 5:
        return "3_5"
    if min_years < 10:
        return "5_10"
    return "10_plus"


# --- months ---------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month; ``str(m)`` is ``YYYY-MM``, ``m + k`` is k months later, ``b - a`` months between."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.year}-{self.month} is not a calendar month (1-12)")

    @classmethod
    def parse(cls, value: str, what: str = "month") -> Month:
        """``YYYY-MM`` → Month; a ValueError naming ``what`` for anything else."""
        if not isinstance(value, str) or not _MONTH.match(value):
            raise ValueError(f"{what} must look like YYYY-MM (e.g. 2026-03), got {value!r}")
        return cls(int(value[:4]), int(value[5:7]))

    @classmethod
    def of(cls, day: date | datetime) -> Month:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0 (for arithmetic)."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, i: int) -> Month:
        return cls(i // 12, i % 12 + 1)

    def __add__(self, k: int) -> Month:
        return Month.from_index(self.index + k)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def check_month(value: str, what: str = "month") -> str:
    """``value`` if it is a YYYY-MM month, else a ValueError naming ``what``."""
    return str(Month.parse(value, what))


def month_add(month: str, k: int) -> str:
    """The YYYY-MM ``k`` months after ``month`` (before, for negative k)."""
    return str(Month.parse(month) + k)


def month_range(first: str, last: str) -> list[str]:
    """Every YYYY-MM from ``first`` to ``last`` inclusive (empty if ``last`` is before ``first``)."""
    a, b = Month.parse(first, "first month"), Month.parse(last, "last month")
    return [str(a + k) for k in range(b - a + 1)]


def iter_months(first: Month, last: Month) -> Iterator[Month]:
    for k in range(last - first + 1):
        yield first + k


# --- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostingIn:
    """A normalised, validated posting ready to store: what the crawl and the importer hand to ``db``."""

    source: str
    external_id: str
    title: str
    url: str | None = None
    company: str | None = None
    city: str | None = None
    lang: str | None = None
    description: str | None = None
    salary_text: str | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_period: str | None = None
    salary_currency: str | None = None
    experience_text: str | None = None
    education_text: str | None = None
    employment_type: str | None = None
    posted_at: date | None = None
    raw_hash: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 market (source config, address or board)
    board_category: str | None = None  # the board's own category path, e.g. "技术/后端开发/Java"

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("PostingIn.source is empty: every posting needs the name of its source")
        if not str(self.external_id).strip():
            raise ValueError(f"PostingIn.external_id is empty for source {self.source!r}")
        if not self.title or not self.title.strip():
            raise ValueError(f"PostingIn.title is empty for {self.source}:{self.external_id}")


@dataclass(frozen=True, slots=True)
class PendingPosting:
    """The fields of a stored posting that the classifiers read."""

    id: int
    title: str
    description: str | None
    experience_text: str | None
    lang: str | None
    board_category: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One posting's labels by one model version, ready to store."""

    posting_id: int
    model_version: str
    taxonomy_version: str
    role_category: str
    role_confidence: float
    experience_min_years: float | None
    experience_max_years: float | None
    experience_bucket: str
    requires_3plus_years: bool | None
    ai_level: str
    ai_terms: tuple[str, ...]
    role_source: str | None = None  # board | text: which signal decided the role
    role_category_text: str | None = None  # the text classifier's own answer


@dataclass(slots=True)
class CrawlStats:
    """What one crawl or import did, as ``crawl_runs.stats`` stores it: counters named for people.

    Every reader uses these fields instead of guessing dict keys; ``from_dict`` accepts rows written before a
    field existed (it takes its default) and ignores keys it does not know.
    """

    finish_reason: str | None = None
    elapsed_s: float = 0.0
    requests: int = 0
    responses: dict[str, int] = field(default_factory=dict)
    response_count: int = 0
    bytes: int = 0
    pages_per_s: float | None = None
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    retry_gave_up: int = 0
    retry_wait_s: float = 0.0
    parse_retries: dict[str, int] = field(default_factory=dict)
    encoding_fixed: dict[str, int] = field(default_factory=dict)
    robots_forbidden: int = 0
    budget_ignored: int = 0
    known_at_start: int = 0
    items_scraped: int = 0
    items_stored: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_unchanged: int = 0
    touched: int = 0
    duplicates_in_run: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    rejected_urls: list[str] = field(default_factory=list)
    validation_failures: dict[str, int] = field(default_factory=dict)
    drop_rate: float = 0.0
    drop_rate_exceeded: bool = False
    lost: dict[str, int] = field(default_factory=dict)
    gone: dict[str, int] = field(default_factory=dict)
    store_error: str | None = None
    refused: str | None = None
    peak_rss_mb: float | None = None
    cpu_s: float | None = None
    cpu_ms_per_page: float | None = None
    pid: int | None = None
    # an import's counters (``labourwatch import``): rows read, rows refused and why, duplicates in the file
    rows: int = 0
    rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    duplicates_in_file: int = 0

    @property
    def dropped_total(self) -> int:
        """Postings dropped for any reason (invalid, rejected pages)."""
        return sum(int(v) for v in self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CrawlStats:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known and v is not None})
