"""Trend commands (trends, findings, query, bench trends) and the bulk loader of labelled postings they use."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text

from db.repo import get_or_create_source, iso_week, normalise_title
from db.session import session_scope

_BUCKET = {True: "3_5", False: "1_3", None: "unstated"}


@dataclass(frozen=True, slots=True)
class LabelledPosting:
    """A posting with its labels, for tests and benchmarks that need known counts in the database."""

    source: str
    external_id: str
    title: str
    posted_at: date
    role_category: str
    ai_level: str = "none"
    requires_3plus_years: bool | None = None
    company: str | None = None
    city: str | None = None
    lang: str | None = "zh"
    description: str | None = None

    def __post_init__(self) -> None:
        if self.ai_level not in ("none", "incidental", "ai_tools", "ai_skills"):
            raise ValueError(f"{self.source}:{self.external_id}: unknown ai_level {self.ai_level!r}")


def bulk_insert_labelled(engine: Engine, rows: Iterable[LabelledPosting], model_version: str = "synthetic-1",
                         taxonomy_version: str = "1.0", labelled_at: datetime | None = None,
                         batch_size: int = 50_000) -> list[int]:
    """Insert postings and one label each, fast (COPY on PostgreSQL); returns the new posting ids in order.

    Meant for a database with a single writer (tests, benchmarks): ids are assigned here and the id
    sequences are moved past them afterwards.
    """
    labelled_at = labelled_at or datetime.now(UTC)
    pg = engine.dialect.name == "postgresql"
    ids: list[int] = []
    source_ids: dict[str, int] = {}
    with engine.begin() as conn:
        next_pid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM postings")).scalar_one()) + 1
        next_lid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM posting_labels")).scalar_one()) + 1
    batch: list[LabelledPosting] = []

    def flush() -> None:
        nonlocal next_pid, next_lid
        if not batch:
            return
        for name in {r.source for r in batch} - set(source_ids):
            with session_scope(engine) as s:
                source_ids[name] = get_or_create_source(s, name).id
        posts, labels = [], []
        for r in batch:
            pid, lid = next_pid, next_lid
            next_pid += 1
            next_lid += 1
            ids.append(pid)
            first_seen = datetime(r.posted_at.year, r.posted_at.month, r.posted_at.day, 9, tzinfo=UTC)
            chash = hashlib.sha256(f"{r.source}\x1f{r.external_id}\x1f{r.title}".encode()).hexdigest()
            posts.append((pid, source_ids[r.source], r.external_id, r.title, normalise_title(r.title), r.company,
                          r.city, r.lang, r.description, r.posted_at, r.posted_at.strftime("%Y-%m"),
                          iso_week(r.posted_at), first_seen, first_seen, chash))
            labels.append((lid, pid, model_version, taxonomy_version, r.role_category, 0.9,
                           None if r.requires_3plus_years is None else (3.0 if r.requires_3plus_years else 1.0),
                           _BUCKET[r.requires_3plus_years], r.requires_3plus_years, r.ai_level, "[]", labelled_at))
        _write(engine, posts, labels, pg)
        batch.clear()

    for r in rows:
        batch.append(r)
        if len(batch) >= batch_size:
            flush()
    flush()
    if pg:
        with engine.begin() as conn:
            for table in ("postings", "posting_labels"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    return ids


_POST_COLS = ("id, source_id, external_id, title, title_norm, company, city, lang, description, posted_at, "
              "posted_month, posted_week, first_seen, last_seen, content_hash")
_LABEL_COLS = ("id, posting_id, model_version, taxonomy_version, role_category, role_confidence, "
               "experience_min_years, experience_bucket, requires_3plus_years, ai_level, ai_terms, labelled_at")


def _write(engine: Engine, posts: list[tuple], labels: list[tuple], pg: bool) -> None:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        if pg:
            with cur.copy(f"COPY postings ({_POST_COLS}) FROM STDIN") as cp:
                for row in posts:
                    cp.write_row(row)
            with cur.copy(f"COPY posting_labels ({_LABEL_COLS}) FROM STDIN") as cp:
                for row in labels:
                    cp.write_row(row)
        else:
            # SQLAlchemy's SQLite storage formats for Date and DateTime columns.
            cur.executemany(f"INSERT INTO postings ({_POST_COLS}) VALUES ({','.join('?' * 15)})",
                            [(*r[:9], r[9].isoformat(), r[10], r[11], _sqlite_ts(r[12]), _sqlite_ts(r[13]), r[14])
                             for r in posts])
            cur.executemany(f"INSERT INTO posting_labels ({_LABEL_COLS}) VALUES ({','.join('?' * 12)})",
                            [(*r[:8], None if r[8] is None else int(r[8]), r[9], r[10], _sqlite_ts(r[11]))
                             for r in labels])
        cur.close()


def _sqlite_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- a synthetic labour market with known trends, for the benchmark ---------------------------------------

ROLES = ("software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng", "product_project",
         "design_basic", "design_ux", "content_media", "operations", "marketing", "sales_bd", "customer_service",
         "supply_chain_repetitive", "supply_chain_mgmt", "manufacturing", "engineering_construction",
         "finance_accounting", "hr_admin_legal", "healthcare", "education", "services_hospitality", "management",
         "other")
# Yearly demand factor per role (1.0 = flat): the seed evidence's declines, and AI roles growing.
YEARLY_FACTOR = {"software_dev": 0.75, "design_basic": 0.5, "supply_chain_repetitive": 0.55, "ai_ml": 1.4}
CITIES = ("北京", "上海", "深圳", "杭州", "广州", "成都", "武汉", "南京")
SOURCES = ("demo-zh", "demo-en", "import-csv")


def synthetic_postings(n: int, seed: int = 2026, start: date = date(2024, 1, 1), end: date = date(2026, 3, 31),
                       prefix: str = "syn") -> Iterator[LabelledPosting]:
    """``n`` labelled postings spread over ``start``..``end`` with role mix drifting by ``YEARLY_FACTOR``
    and the AI share rising over time; deterministic for a seed."""
    rng = random.Random(seed)
    days = (end - start).days + 1
    base = start.year
    for i in range(n):
        d = start + timedelta(days=rng.randrange(days))
        t = d.year - base + (d.month - 1) / 12
        weights = [YEARLY_FACTOR.get(r, 1.0) ** t for r in ROLES]
        role = rng.choices(ROLES, weights)[0]
        p_ai = min(0.9, 0.12 + 0.08 * t + (0.5 if role == "ai_ml" else 0.0))
        u = rng.random()
        ai = ("none" if u >= p_ai else "ai_skills" if u < p_ai * 0.4 else "ai_tools" if u < p_ai * 0.8
              else "incidental")
        v = rng.random()
        req = None if v < 0.2 else v < 0.2 + 0.8 * 0.7
        src = SOURCES[i % 3]
        yield LabelledPosting(source=src, external_id=f"{prefix}-{i}", title=f"{role} {i % 97}", posted_at=d,
                              role_category=role, ai_level=ai, requires_3plus_years=req,
                              company=f"公司{i % 5000}", city=CITIES[rng.randrange(len(CITIES))],
                              lang="en" if src == "demo-en" else "zh")


def register(app, db_app, bench_app) -> None:  # type: ignore[no-untyped-def]
    """Commands land here (trends, findings, query, bench trends)."""
