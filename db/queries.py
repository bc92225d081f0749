"""Reads: status summaries and analyst queries."""

from __future__ import annotations

import re
import sqlite3
import time
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


_LATEST_MONTH = "(SELECT MAX(month) FROM v_demand_monthly)"

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


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def check_param(key: str, value: str) -> None:
    """Raise ValueError naming the parameter when a month is not YYYY-MM or a category is unknown."""
    if key in ("month", "from", "to"):
        m = _MONTH.match(value)
        if not value and key == "month":
            return
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"--param {key}={value}: not a month; give YYYY-MM with a month 01-12 (e.g. 2026-03)")
    elif key == "category":
        from labourwatch.contract import vocabulary

        vocab = vocabulary()
        known = set(vocab.role_codes) | set(vocab.groups)
        if value not in known:
            raise ValueError(f"--param category={value}: unknown category or group; known: "
                             f"{', '.join(sorted(known))}")


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
    for key, value in given.items():
        check_param(key, value)
    return run_readonly(engine, q.sql, values, _checked=True)


ANALYST_VIEWS = ("v_demand_monthly", "v_demand_weekly", "v_ai_share_monthly", "v_ai_share_weekly",
                 "v_experience_monthly", "v_duplicates_by_source")


class QueryError(ValueError):
    """An analyst query failed in the database (syntax, unknown column, permission, timeout)."""


def check_read_only_sql(sql: str, dialect: str = "postgres") -> str:
    """Return ``sql`` unchanged if it parses as exactly one SELECT/WITH query; else raise ReadOnlyQueryError.

    The text is parsed with sqlglot (never rewritten): string literals, comments and identifiers stay as
    they were, so ``'a--b'`` or ``LIKE '%/*%'`` run as written.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if not sql.strip():
        raise ReadOnlyQueryError("empty query: give one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReadOnlyQueryError(f"cannot parse the SQL: {first}") from None
    if not statements:
        raise ReadOnlyQueryError("empty query: give one SELECT statement")
    if len(statements) > 1:
        raise ReadOnlyQueryError("only one statement is allowed: remove the ';' between statements")
    stmt = statements[0]
    if not isinstance(stmt, exp.Query) or isinstance(stmt, exp.Values):
        word = stmt.key.upper() if not isinstance(stmt, exp.Command) else str(stmt.this).upper()
        raise ReadOnlyQueryError(f"refused: {word} is not a read. `labourwatch query --sql` runs only "
                                 "SELECT/WITH queries on a read-only connection")
    for node in stmt.walk():
        if isinstance(node, exp.Into):
            raise ReadOnlyQueryError("refused: SELECT … INTO writes a table; only reads are allowed")
        if isinstance(node, exp.Lock):
            raise ReadOnlyQueryError("refused: SELECT … FOR UPDATE/SHARE locks rows; only reads are allowed")
        if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop)):
            raise ReadOnlyQueryError(f"refused: {node.key.upper()} inside the query is not a read")
    return sql


# --- PostgreSQL: the analyst role --------------------------------------------------------------------

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def analyst_role() -> str:
    from labourwatch.settings import get_settings

    role = get_settings().analyst_role
    if not _ROLE_NAME.match(role):
        raise ValueError(f"LABOURWATCH_ANALYST_ROLE {role!r} is not a plain lower-case role name")
    return role


def grant_analyst(engine: Engine) -> str:
    """Create (if missing) the PostgreSQL analyst role and grant it SELECT on the analyst views only.

    The role is LOGIN, NOSUPERUSER, NOINHERIT and member of nothing, defaults to read-only transactions, and
    gets CONNECT on the database, USAGE on the schema and SELECT on the views — no table, no server-file,
    large-object or signalling privilege. Idempotent; returns the role name. A no-op on SQLite.
    """
    role = analyst_role()
    if engine.dialect.name != "postgresql":
        return role
    with engine.begin() as c:
        exists = c.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").scalar()
        if exists and _analyst_grants_complete(c, role):
            return role  # nothing to do: parallel runs must not contend on GRANT
        # Concurrent GRANTs on one object fail ("tuple concurrently updated"): one at a time.
        c.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('labourwatch.grant_analyst'))")
        c.exec_driver_sql(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$""")
        superuser, = c.exec_driver_sql(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{role}'").one()
        if superuser:
            raise ValueError(f"analyst role {role!r} is a superuser; choose another LABOURWATCH_ANALYST_ROLE")
        c.exec_driver_sql(f"ALTER ROLE {role} SET default_transaction_read_only = on")
        db = c.exec_driver_sql("SELECT current_database()").scalar_one()
        schema_name = c.exec_driver_sql("SELECT current_schema()").scalar_one()
        c.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{db}" TO {role}')
        c.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema_name}" TO {role}')
        existing = {r[0] for r in c.exec_driver_sql(
            "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()")}
        for view in ANALYST_VIEWS:
            if view in existing:
                c.exec_driver_sql(f"GRANT SELECT ON {view} TO {role}")
    return role


def _analyst_grants_complete(c: Connection, role: str) -> bool:
    views = [v for v in ANALYST_VIEWS if c.exec_driver_sql(f"SELECT to_regclass('{v}')").scalar()]
    checks = [f"has_table_privilege('{role}', '{v}', 'SELECT')" for v in views]
    checks += [f"has_database_privilege('{role}', current_database(), 'CONNECT')",
               f"has_schema_privilege('{role}', current_schema(), 'USAGE')"]
    return bool(c.exec_driver_sql("SELECT " + " AND ".join(checks)).scalar())


def _analyst_url(engine: Engine) -> str:
    from labourwatch.settings import get_settings

    url = get_settings().analyst_db_url
    if url:
        return url
    return engine.url.set(username=analyst_role(), password=None).render_as_string(hide_password=False)


@contextmanager
def _pg_analyst_connection(engine: Engine, timeout_s: float) -> Iterator[Connection]:
    ms = max(1, int(timeout_s * 1000))
    ro = create_engine(_analyst_url(engine), poolclass=NullPool, connect_args={
        "prepare_threshold": None, "connect_timeout": 10,
        "options": f"-c statement_timeout={ms} -c default_transaction_read_only=on"})
    try:
        try:
            conn = ro.connect()
        except DBAPIError as exc:
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise QueryError(f"cannot connect as the analyst role {analyst_role()!r} ({first}); run "
                             "`labourwatch db grant-analyst` as a database owner, or set "
                             "LABOURWATCH_ANALYST_DB_URL") from None
        with conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            is_super = conn.exec_driver_sql(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
            if is_super:
                raise QueryError("the analyst connection is a superuser; LABOURWATCH_ANALYST_DB_URL must name "
                                 "the analyst role")
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        ro.dispose()


# --- SQLite: read-only file, authorizer, progress-handler timeout ------------------------------------


def _sqlite_guard(raw: sqlite3.Connection, allowed: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    stored = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    stored |= {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence"}

    def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, inner: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            # Columns of a view's base tables are read on behalf of that view (``inner``); any other name
            # that is not a stored table or view is a CTE of the query itself.
            ok = arg1 in allowed or inner in allowed or (not db and arg1 not in stored)
            return sqlite3.SQLITE_OK if ok else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_DENY if (arg2 or "").lower() in ("load_extension", "fts3_tokenizer") \
                else sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    raw.set_authorizer(authorize)
    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)


@contextmanager
def readonly_connection(engine: Engine, timeout_s: float | None = None,
                        views_only: bool = False) -> Iterator[Connection]:
    """A connection the database itself keeps read-only, with a time limit.

    SQLite: the file opened with ``mode=ro`` (plus ``query_only``) and a progress handler that stops a query
    after ``timeout_s``; with ``views_only`` an authorizer allows nothing but reading the analyst views.
    PostgreSQL: with ``views_only`` a connection as the analyst role (see ``grant_analyst``), else the
    engine's own connection; both in a READ ONLY transaction with ``statement_timeout``.
    """
    from labourwatch.settings import get_settings

    timeout_s = get_settings().query_timeout if timeout_s is None else timeout_s
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:":
            uri = f"file:{Path(path).resolve().as_posix()}?mode=ro"
            ro = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
                               poolclass=NullPool)
            try:
                with ro.connect() as conn:
                    conn.exec_driver_sql("PRAGMA query_only = ON")
                    from db.trends import _ensure_sqlite_math

                    _ensure_sqlite_math(conn)
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    if views_only:
                        _sqlite_guard(raw, set(ANALYST_VIEWS), timeout_s)
                    else:
                        deadline = time.monotonic() + timeout_s
                        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
                    yield conn
            finally:
                ro.dispose()
            return
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA query_only = ON")
            raw = conn.connection.driver_connection
            assert raw is not None
            if views_only:
                _sqlite_guard(raw, set(ANALYST_VIEWS), timeout_s)
            try:
                yield conn
            finally:
                raw.set_authorizer(None)
                raw.set_progress_handler(None, 0)
                conn.exec_driver_sql("PRAGMA query_only = OFF")
        return
    if views_only:
        with _pg_analyst_connection(engine, timeout_s) as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
        try:
            yield conn
        finally:
            conn.rollback()


def run_readonly(engine: Engine, sql: str, params: Mapping[str, Any] | None = None,
                 max_rows: int | None = None, timeout_s: float | None = None,
                 _checked: bool = False) -> QueryResult:
    """Run one analyst query on a read-only, views-only, time-limited connection; returns columns and rows.

    Raises ``ReadOnlyQueryError`` for anything but a single SELECT/WITH (checked by parsing before running,
    and enforced by the database: a write, a table other than the analyst views or a privileged function
    fails there), and ``QueryError`` with the database's one-line message for any other failure
    (including the time limit, ``LABOURWATCH_QUERY_TIMEOUT``).
    """
    from labourwatch.settings import get_settings

    timeout_s = get_settings().query_timeout if timeout_s is None else timeout_s
    body = sql if _checked else check_read_only_sql(sql, "sqlite" if engine.dialect.name == "sqlite"
                                                    else "postgres")
    with readonly_connection(engine, timeout_s, views_only=True) as conn:
        try:
            if params:
                result = conn.execute(text(body), dict(params))
                columns = tuple(result.keys())
                rows = result.fetchmany(max_rows) if max_rows else result.fetchall()
            else:
                # No bind parsing at all: ':x' or '%' inside a literal stay literal text.
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cur.execute(body)
                columns = tuple(d[0] for d in (cur.description or ()))
                rows = cur.fetchmany(max_rows) if max_rows else cur.fetchall()
                cur.close()
        except Exception as exc:
            _raise_query_error(exc, timeout_s)
        return QueryResult(columns, tuple(tuple(r) for r in rows))


def _raise_query_error(exc: BaseException, timeout_s: float) -> None:
    if isinstance(exc, (ReadOnlyQueryError, QueryError)):
        raise exc
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    msg = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    low = msg.lower()
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "57014" or low == "interrupted":
        raise QueryError(f"query stopped after {timeout_s:g} s (LABOURWATCH_QUERY_TIMEOUT)") from None
    if "read-only" in low or "readonly" in low or "read only" in low:
        raise ReadOnlyQueryError(f"refused by the database (read-only connection): {msg}") from None
    if "not authorized" in low or "is prohibited" in low or "permission denied" in low or sqlstate == "42501":
        raise ReadOnlyQueryError(f"refused by the database: {msg} (analyst queries may read only the views "
                                 f"{', '.join(ANALYST_VIEWS)})") from None
    if isinstance(orig, (sqlite3.Error, DBAPIError)) or type(orig).__module__.startswith("psycopg"):
        raise QueryError(f"query failed: {msg}") from None
    raise exc


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


def stored_external_ids(engine: Engine, source: str) -> list[str]:
    """External ids of every stored posting of ``source``, one per row (so duplicates show)."""
    with engine.connect() as c:
        return list(c.scalars(select(schema.Posting.external_id).join(schema.Source)
                              .where(schema.Source.name == source)))


def trend_months(engine: Engine) -> list[str]:
    """The months (YYYY-MM) with rows in trend_demand, oldest first."""
    with engine.connect() as c:
        return [r[0] for r in c.execute(text(
            "SELECT DISTINCT period FROM trend_demand WHERE period_type = 'month' ORDER BY period"))]


def monthly_counts_by_country(engine: Engine) -> dict[str, dict[str, int]]:
    """Postings per month of each known country, from trend_demand (category all): country -> month -> n."""
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for period, country, n in conn.execute(text(
                "SELECT period, dim_value, n FROM trend_demand WHERE period_type = 'month' "
                "AND dim = 'country' AND category = 'all' AND dim_value <> 'unknown'")):
            counts.setdefault(country, {})[period] = int(n)
    return counts
