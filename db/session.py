"""Engines and sessions built from settings (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from labourwatch.settings import get_settings

Engine = sqlalchemy.Engine  # re-exported: packages outside db/ type an engine handle without SQLAlchemy


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=16)
def get_engine(url: str | None = None, echo: bool | None = None) -> Engine:
    """Return a cached engine for ``url`` (default: the configured database URL).

    A SQLite file's parent directory is created; WAL and a busy timeout let a reader and a writer share it.
    """
    settings = get_settings()
    url = url or settings.database_url
    parsed = make_url(url)
    kwargs: dict = {"echo": settings.db_echo if echo is None else echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["pool_pre_ping"] = True
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        # No server-side prepared statements: a generic plan made while a table was small (a sequential
        # scan) would be reused after it grew, turning batched key look-ups quadratic.
        kwargs["connect_args"] = {"prepare_threshold": None}
    return create_engine(url, **kwargs)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """A sessionmaker bound to ``engine`` (default: the configured engine)."""
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
