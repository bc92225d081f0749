"""SQLAlchemy 2.0 typed schema of every labourwatch table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Source(Base):
    """A job board or an imported file family; postings are unique per source."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="board")  # board | import
    spider: Mapped[str | None] = mapped_column(String(50))
    lang: Mapped[str | None] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrawlRun(Base):
    """One crawl or import of one source: when, how it ended, and its counters."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="crawl")  # crawl | import
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|succeeded|failed|partial
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    # 0003: a live run touches this; a "running" row whose heartbeat is stale was killed (-> interrupted).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Posting(Base):
    """A job posting as collected, with provenance; ``canonical_id`` links cross-source duplicates."""

    __tablename__ = "postings"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_postings_posted_month", "posted_month"),
        Index("ix_postings_dedupe_key", "company", "title_norm", "city"),
        Index("ix_postings_posted_week", "posted_week"),  # 0002: incremental weekly trends
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(500))
    title_norm: Mapped[str] = mapped_column(String(500), default="")
    company: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    salary_text: Mapped[str | None] = mapped_column(String(200))
    salary_min: Mapped[float | None] = mapped_column(Float)
    salary_max: Mapped[float | None] = mapped_column(Float)
    salary_period: Mapped[str | None] = mapped_column(String(10))  # hour|day|month|year
    salary_currency: Mapped[str | None] = mapped_column(String(3))
    experience_text: Mapped[str | None] = mapped_column(String(200))
    education_text: Mapped[str | None] = mapped_column(String(200))
    employment_type: Mapped[str | None] = mapped_column(String(50))
    posted_at: Mapped[date | None] = mapped_column(Date)
    # Denormalised from posted_at (or first_seen) so trend SQL groups by plain strings on every dialect.
    posted_month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM
    posted_week: Mapped[str | None] = mapped_column(String(8))  # YYYY-Www (ISO week)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    canonical_id: Mapped[int | None] = mapped_column(ForeignKey("postings.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    # 0003: ISO 3166-1 alpha-2 market of the posting (source config, address or board); figures are per country.
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    # 0003: the board's own category (path joined with "/"), a signal for the role classifier.
    board_category: Mapped[str | None] = mapped_column(String(300))


class PostingLabel(Base):
    """Labels of one posting by one classifier version (see taxonomy.md for the codes)."""

    __tablename__ = "posting_labels"
    __table_args__ = (UniqueConstraint("posting_id", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(100), index=True)
    taxonomy_version: Mapped[str] = mapped_column(String(20))
    role_category: Mapped[str] = mapped_column(String(40))
    role_confidence: Mapped[float] = mapped_column(Float)
    experience_min_years: Mapped[float | None] = mapped_column(Float)
    experience_max_years: Mapped[float | None] = mapped_column(Float)
    experience_bucket: Mapped[str] = mapped_column(String(10))
    requires_3plus_years: Mapped[bool | None] = mapped_column(Boolean)
    ai_level: Mapped[str] = mapped_column(String(12))
    ai_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 0003: which signal decided the role (board | text), and the text classifier's own answer beside it.
    role_source: Mapped[str | None] = mapped_column(String(10))
    role_category_text: Mapped[str | None] = mapped_column(String(40))
    labelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditLabel(Base):
    """An analyst's verdict on one label of one posting (0003): the audit store.

    ``true_value`` is the correct code when the analyst gave it; ``correct`` says whether the audited
    prediction was right. Several verdicts on the same posting and field may exist; the newest counts.
    Measured precision/recall, error-adjusted figures and opt-in retraining all read this table.
    """

    __tablename__ = "audit_labels"
    __table_args__ = (Index("ix_audit_labels_posting_field", "posting_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(30))  # role_category | ai_level | experience_bucket
    model_version: Mapped[str | None] = mapped_column(String(100))  # the classifier version audited
    predicted: Mapped[str | None] = mapped_column(String(40))  # what that version said
    true_value: Mapped[str | None] = mapped_column(String(40))  # the right code, when known
    correct: Mapped[bool | None] = mapped_column(Boolean)  # predicted == truth, or the analyst's verdict
    origin: Mapped[str] = mapped_column(String(20), default="file")  # file | dashboard | demo_truth
    auditor: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrendDemand(Base):
    """New canonical postings per period × dimension × category, with year-on-year and index."""

    __tablename__ = "trend_demand"
    __table_args__ = (UniqueConstraint("period_type", "period", "dim", "dim_value", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_type: Mapped[str] = mapped_column(String(5))  # month | week
    period: Mapped[str] = mapped_column(String(8))  # YYYY-MM | YYYY-Www
    dim: Mapped[str] = mapped_column(String(10))  # all | city | source | lang
    dim_value: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40))  # role code or group name (all, new_economy)
    n: Mapped[int] = mapped_column(Integer)
    n_prev_year: Mapped[int | None] = mapped_column(Integer)
    yoy_change: Mapped[float | None] = mapped_column(Float)  # fraction: -0.25 = -25%
    yoy_ci_low: Mapped[float | None] = mapped_column(Float)
    yoy_ci_high: Mapped[float | None] = mapped_column(Float)
    baseline_mean: Mapped[float | None] = mapped_column(Float)
    index_value: Mapped[float | None] = mapped_column(Float)  # baseline monthly mean = 100
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str] = mapped_column(String(100))
    taxonomy_version: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrendShare(Base):
    """A share (k of n) per period × dimension × category × metric, with its 95% Wilson interval."""

    __tablename__ = "trend_shares"
    __table_args__ = (UniqueConstraint("period_type", "period", "dim", "dim_value", "category", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_type: Mapped[str] = mapped_column(String(5))
    period: Mapped[str] = mapped_column(String(8))
    dim: Mapped[str] = mapped_column(String(10))
    dim_value: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40))
    # references_ai | ai_none | ai_incidental | ai_tools | ai_skills | requires_3plus | experience_unstated
    metric: Mapped[str] = mapped_column(String(30))
    n: Mapped[int] = mapped_column(Integer)  # denominator
    k: Mapped[int] = mapped_column(Integer)  # numerator
    share: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str] = mapped_column(String(100))
    taxonomy_version: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrendSeasonal(Base):
    """Seasonally adjusted monthly demand per dimension × category, with the moving-holiday flag (0005).

    ``status`` is ``adjusted`` with 36+ months of history, else ``yoy_only`` (no adjusted value).
    ``holiday_shift`` names the holiday (spring_festival | easter) whose move distorts the month's
    year-on-year change.
    """

    __tablename__ = "trend_seasonal"
    __table_args__ = (UniqueConstraint("period", "dim", "dim_value", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(8))
    dim: Mapped[str] = mapped_column(String(10))  # all | country
    dim_value: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    n: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # adjusted | yoy_only
    adjusted: Mapped[float | None] = mapped_column(Float)
    index_value: Mapped[float | None] = mapped_column(Float)  # series mean = 100
    holiday_factor: Mapped[float | None] = mapped_column(Float)
    holiday_shift: Mapped[str | None] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(20))
    history_months: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(100))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrendPeriod(Base):
    """Fingerprint of the postings behind one trend period, so an update recomputes only what changed (0002)."""

    __tablename__ = "trend_periods"
    __table_args__ = (UniqueConstraint("period_type", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_type: Mapped[str] = mapped_column(String(5))  # month | week
    period: Mapped[str] = mapped_column(String(8))
    model_version: Mapped[str] = mapped_column(String(100))
    n_postings: Mapped[int] = mapped_column(Integer)  # canonical labelled postings in the period
    fingerprint: Mapped[str] = mapped_column(String(200))  # count, id sums, newest label time
    config_hash: Mapped[str] = mapped_column(String(64))  # groups, min cell size, baseline year
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Evaluation(Base):
    """A measured quality figure of a classifier version on a named evaluation set."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(100), index=True)
    dataset: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))  # role_category | experience_bucket | ai_level | ...
    metric: Mapped[str] = mapped_column(String(40))  # accuracy | macro_f1 | f1
    value: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Brief(Base):
    """A rendered monthly brief: where it is and its checksum."""

    __tablename__ = "briefs"
    __table_args__ = (UniqueConstraint("month", "lang", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    lang: Mapped[str] = mapped_column(String(2))
    # ISO code of the brief's market, "all" for every country pooled, "" for briefs recorded before 0006
    country: Mapped[str] = mapped_column(String(8), server_default="")
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
