"""Reads: status summaries and analyst queries."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from db import schema


@dataclass(frozen=True)
class SourceStatus:
    source: str
    postings: int
    canonical: int
    labelled_share: float
    last_run: str | None
    last_status: str | None


def status_rows(engine: Engine) -> list[SourceStatus]:
    """One row per source: postings, canonical postings, labelled share, last run time and status."""
    P, L, S, R = schema.Posting, schema.PostingLabel, schema.Source, schema.CrawlRun
    with engine.connect() as c:
        counts = dict(c.execute(select(P.source_id, func.count()).group_by(P.source_id)).all())
        canon = dict(c.execute(select(P.source_id, func.count()).where(P.canonical_id.is_(None))
                               .group_by(P.source_id)).all())
        labelled = dict(c.execute(
            select(P.source_id, func.count(func.distinct(L.posting_id))).join(L, L.posting_id == P.id)
            .group_by(P.source_id)).all())
        last: dict[int, tuple[datetime | None, str | None]] = {}
        for sid, started, st in c.execute(select(R.source_id, R.started_at, R.status).order_by(R.started_at)):
            last[sid] = (started, st)
        out = []
        for sid, name in c.execute(select(S.id, S.name).order_by(S.name)):
            n = counts.get(sid, 0)
            last_start, last_status = last.get(sid, (None, None))
            out.append(SourceStatus(name, n, canon.get(sid, 0), (labelled.get(sid, 0) / n) if n else 0.0,
                                    last_start.isoformat(timespec="seconds") if last_start else None,
                                    last_status))
    return out


# --- analyst access: named queries and read-only ad-hoc SQL ---------------------------------------------


class ReadOnlyQueryError(ValueError):
    """An ad-hoc query was refused because it is not a single read."""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class NamedQuery:
    """A documented query an analyst runs by name; ``params`` are its parameters with defaults."""

    name: str
    description: str
    sql: str
    params: Mapping[str, str] = field(default_factory=dict)


_LATEST_MONTH = "(SELECT MAX(period) FROM trend_demand WHERE period_type = 'month')"

NAMED_QUERIES: dict[str, NamedQuery] = {q.name: q for q in (
    NamedQuery(
        "demand_yoy", "Year-on-year change of new postings per role category and group in a month "
        "(default: latest), with 95% intervals; suppressed cells flagged.",
        "SELECT month, category, n, n_prev_year, yoy_change, yoy_ci_low, yoy_ci_high, index_value, suppressed "
        "FROM v_demand_monthly WHERE dim = 'all' AND month = COALESCE(NULLIF(:month, ''), "
        f"{_LATEST_MONTH}) ORDER BY category", {"month": ""}),
    NamedQuery(
        "demand_series", "Monthly series of one category (default software_dev): n, year-on-year change, index.",
        "SELECT month, n, n_prev_year, yoy_change, yoy_ci_low, yoy_ci_high, index_value, suppressed "
        "FROM v_demand_monthly WHERE dim = 'all' AND category = :category ORDER BY month",
        {"category": "software_dev"}),
    NamedQuery(
        "ai_share", "Monthly share of postings referencing AI in a category or group (default new_economy), "
        "with 95% Wilson intervals and the split by AI level.",
        "SELECT month, n, share_references_ai, ci_low_references_ai, ci_high_references_ai, share_incidental, "
        "share_ai_tools, share_ai_skills, suppressed FROM v_ai_share_monthly WHERE dim = 'all' "
        "AND category = :category ORDER BY month", {"category": "new_economy"}),
    NamedQuery(
        "experience", "Monthly share requiring 3+ years among postings that state experience, and the unstated "
        "share, for a category or group (default all).",
        "SELECT month, n, n_stated, share_requires_3plus, ci_low_requires_3plus, ci_high_requires_3plus, "
        "share_unstated, suppressed FROM v_experience_monthly WHERE dim = 'all' AND category = :category "
        "ORDER BY month", {"category": "all"}),
    NamedQuery(
        "change", "Change of new postings per category between any two months (:from and :to), with a 95% "
        "Katz interval.",
        "SELECT b.category, a.n AS n_from, b.n AS n_to, CAST(b.n AS DOUBLE PRECISION) / a.n - 1 AS change, "
        "exp(ln(CAST(b.n AS DOUBLE PRECISION) / a.n) - 1.959963984540054 * sqrt(1.0 / CAST(a.n AS DOUBLE "
        "PRECISION) + 1.0 / CAST(b.n AS DOUBLE PRECISION))) - 1 AS ci_low, "
        "exp(ln(CAST(b.n AS DOUBLE PRECISION) / a.n) + 1.959963984540054 * sqrt(1.0 / CAST(a.n AS DOUBLE "
        "PRECISION) + 1.0 / CAST(b.n AS DOUBLE PRECISION))) - 1 AS ci_high, "
        "CASE WHEN a.suppressed OR b.suppressed THEN 1 ELSE 0 END AS suppressed "
        "FROM v_demand_monthly a JOIN v_demand_monthly b ON b.category = a.category AND b.dim = a.dim "
        "AND b.dim_value = a.dim_value WHERE a.dim = 'all' AND a.month = :from AND b.month = :to ORDER BY change",
        {"from": "", "to": ""}),
    NamedQuery(
        "city_demand", "New postings, year-on-year change and suppression per city for a category (default "
        "all) in a month (default latest).",
        "SELECT dim_value AS city, n, n_prev_year, yoy_change, yoy_ci_low, yoy_ci_high, suppressed "
        "FROM v_demand_monthly WHERE dim = 'city' AND category = :category AND month = "
        f"COALESCE(NULLIF(:month, ''), {_LATEST_MONTH}) ORDER BY n DESC", {"category": "all", "month": ""}),
    NamedQuery(
        "duplicates", "Cross-source duplicate rate per source (postings linked to a canonical posting).",
        "SELECT source, postings, duplicates, duplicate_rate FROM v_duplicates_by_source ORDER BY source"),
)}


def named_query(engine: Engine, name: str, params: Mapping[str, str] | None = None) -> QueryResult:
    """Run the named query ``name`` with ``params`` (unknown or missing required ones raise ValueError)."""
    q = NAMED_QUERIES.get(name)
    if q is None:
        raise ValueError(f"unknown query {name!r}; named queries: {', '.join(sorted(NAMED_QUERIES))}")
    given = dict(params or {})
    unknown = set(given) - set(q.params)
    if unknown:
        raise ValueError(f"query {name!r} takes {sorted(q.params) or 'no parameters'}, not {sorted(unknown)}")
    values = {**q.params, **given}
    missing = [k for k, v in values.items() if v == "" and k in ("from", "to")]
    if missing:
        raise ValueError(f"query {name!r} needs --param {missing[0]}=YYYY-MM")
    return run_readonly(engine, q.sql, values)


_READ_START = re.compile(r"^\s*(select|with|values|explain|table)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def check_read_only_sql(sql: str) -> str:
    """Return ``sql`` without a trailing semicolon if it is one read statement; else raise ReadOnlyQueryError."""
    body = _COMMENTS.sub(" ", sql).strip().rstrip(";").strip()
    if not body:
        raise ReadOnlyQueryError("empty query: give one SELECT statement")
    if ";" in body:
        raise ReadOnlyQueryError("only one statement is allowed: remove the ';' between statements")
    if not _READ_START.match(body):
        word = body.split()[0].upper()
        raise ReadOnlyQueryError(f"refused: {word} is not a read. `labourwatch query --sql` runs only "
                                 "SELECT/WITH queries on a read-only connection")
    return body


@contextmanager
def readonly_connection(engine: Engine) -> Iterator[Connection]:
    """A connection the database itself keeps read-only (SQLite ``mode=ro`` / PostgreSQL READ ONLY)."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:":
            uri = f"file:{Path(path).resolve().as_posix()}?mode=ro"
            ro = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
                               poolclass=NullPool)
            try:
                with ro.connect() as conn:
                    conn.exec_driver_sql("PRAGMA query_only = ON")
                    yield conn
            finally:
                ro.dispose()
            return
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA query_only = ON")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("PRAGMA query_only = OFF")
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


def run_readonly(engine: Engine, sql: str, params: Mapping[str, Any] | None = None,
                 max_rows: int | None = None) -> QueryResult:
    """Run one read statement on a read-only connection; returns columns and rows.

    Raises ``ReadOnlyQueryError`` for anything but a single SELECT/WITH (checked before running, and
    enforced by the database: a write hidden in a CTE fails there and is reported the same way).
    """
    body = check_read_only_sql(sql)
    with readonly_connection(engine) as conn:
        if conn.dialect.name == "sqlite":
            from db.trends import _ensure_sqlite_math

            _ensure_sqlite_math(conn)
        try:
            result = conn.execute(text(body), dict(params or {}))
        except DBAPIError as exc:
            msg = str(exc.orig).lower()
            if "read-only" in msg or "readonly" in msg or "read only" in msg:
                raise ReadOnlyQueryError(f"refused by the database (read-only connection): {exc.orig}") from None
            raise
        columns = tuple(result.keys())
        rows = result.fetchmany(max_rows) if max_rows else result.fetchall()
        return QueryResult(columns, tuple(tuple(r) for r in rows))


@dataclass(frozen=True)
class DuplicateRate:
    source: str
    postings: int
    duplicates: int
    rate: float


def duplicate_rates(engine: Engine) -> list[DuplicateRate]:
    """Per source: postings, those linked to a canonical posting elsewhere, and their share."""
    with engine.connect() as c:
        return [DuplicateRate(s, int(p or 0), int(d or 0), float(r or 0.0)) for s, p, d, r in c.execute(text(
            "SELECT source, postings, duplicates, duplicate_rate FROM v_duplicates_by_source ORDER BY source"))]
