"""Bulk loading of labelled postings for tests and benchmarks (COPY on PostgreSQL), and the bulk-load chores
around it: building secondary indexes once, refreshing planner statistics, counting rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, text

from db.repo import content_hash, get_or_create_source, iso_week, normalise_title
from db.session import session_scope
from labourwatch.contract import AI_LEVELS, PostingIn

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
    country: str | None = None

    def posting(self) -> PostingIn:
        """The posting without its labels, as the crawl or an import would hand it to ``db``."""
        return PostingIn(source=self.source, external_id=self.external_id, title=self.title, company=self.company,
                         city=self.city, lang=self.lang, description=self.description, posted_at=self.posted_at,
                         country=self.country)

    def __post_init__(self) -> None:
        if self.ai_level not in AI_LEVELS:
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
        posts: list[tuple[Any, ...]] = []
        labels: list[tuple[Any, ...]] = []
        for r in batch:
            pid, lid = next_pid, next_lid
            next_pid += 1
            next_lid += 1
            ids.append(pid)
            first_seen = datetime(r.posted_at.year, r.posted_at.month, r.posted_at.day, 9, tzinfo=UTC)
            chash = content_hash(r.posting())
            posts.append((pid, source_ids[r.source], r.external_id, r.title, normalise_title(r.title), r.company,
                          r.city, r.lang, r.description, r.posted_at, r.posted_at.strftime("%Y-%m"),
                          iso_week(r.posted_at), first_seen, first_seen, chash, r.country))
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
    move_id_sequences(engine)
    return ids


def move_id_sequences(engine: Engine) -> None:
    """PostgreSQL: move the id sequences of postings and posting_labels past the ids a bulk load assigned
    (a no-op elsewhere: SQLite takes the next id from the table)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("postings", "posting_labels"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


POST_COLUMNS = ("id, source_id, external_id, title, title_norm, company, city, lang, description, posted_at, "
              "posted_month, posted_week, first_seen, last_seen, content_hash, country")
LABEL_COLUMNS = ("id, posting_id, model_version, taxonomy_version, role_category, role_confidence, "
               "experience_min_years, experience_bucket, requires_3plus_years, ai_level, ai_terms, labelled_at")


def _write(engine: Engine, posts: list[tuple[Any, ...]], labels: list[tuple[Any, ...]], pg: bool) -> None:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None, "a bulk load needs an open DBAPI connection"
        cur = raw.cursor()
        if pg:
            with cur.copy(f"COPY postings ({POST_COLUMNS}) FROM STDIN") as cp:
                for row in posts:
                    cp.write_row(row)
            with cur.copy(f"COPY posting_labels ({LABEL_COLUMNS}) FROM STDIN") as cp:
                for row in labels:
                    cp.write_row(row)
        else:
            # SQLAlchemy's SQLite storage formats for Date and DateTime columns.
            cur.executemany(f"INSERT INTO postings ({POST_COLUMNS}) VALUES ({','.join('?' * 16)})",
                            [(*r[:9], r[9].isoformat(), r[10], r[11], _sqlite_ts(r[12]), _sqlite_ts(r[13]), r[14],
                              r[15])
                             for r in posts])
            cur.executemany(f"INSERT INTO posting_labels ({LABEL_COLUMNS}) VALUES ({','.join('?' * 12)})",
                            [(*r[:8], None if r[8] is None else int(r[8]), r[9], r[10], _sqlite_ts(r[11]))
                             for r in labels])
        cur.close()


def _sqlite_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def secondary_indexes_dropped(engine: Engine) -> Iterator[None]:
    """PostgreSQL bulk load: drop the indexes of postings and posting_labels that back no constraint,
    and build them again afterwards (one sort each instead of millions of random inserts); a no-op elsewhere."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.begin() as c:
        defs = [(name, sql) for name, sql in c.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename IN ('postings', 'posting_labels') AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conname = i.indexname)"))]
        for name, _ in defs:
            c.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for _, sql in defs:
                c.exec_driver_sql(sql)


def analyze_after_load(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (VACUUM ANALYZE of the loaded tables on PostgreSQL,
    ANALYZE on SQLite)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE postings")
            c.exec_driver_sql("VACUUM ANALYZE posting_labels")
    else:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")


COUNTED_TABLES = ("postings", "posting_labels", "trend_demand", "trend_shares")


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each of ``COUNTED_TABLES`` (what a benchmark loaded and computed)."""
    with engine.connect() as c:
        return {t: int(c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in COUNTED_TABLES}


def warm_up(engine: Engine) -> None:
    """Open one pooled connection, so a timing that follows measures the work, not the connect."""
    with engine.connect() as c:
        c.execute(text("SELECT 1"))
