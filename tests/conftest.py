"""Shared fixtures: isolated settings, and migrated databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from labourwatch.settings import get_settings

# A suite started in the background of a non-interactive shell inherits SIGINT ignored, and passes the ignore on
# to every process it starts; a Python process that starts with SIGINT ignored keeps it so, and the tests that
# press Ctrl-C on a crawl or the demo board would wait in vain. A handler (unlike an ignore) is reset to the
# default in the processes started from here, so they get Python's usual Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

PG_ADMIN_URL = os.environ.get("LABOURWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


PG_AVAILABLE = _pg_available()


@pytest.fixture(autouse=True)
def lw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and a fresh settings object."""
    home = tmp_path / "lwhome"
    monkeypatch.setenv("LABOURWATCH_HOME", str(home))
    # The packaged embedding model is expensive to build: share one cache across tests unless a test opts out.
    shared_cache = os.environ.get("LABOURWATCH_TEST_CACHE_DIR")
    if shared_cache:
        monkeypatch.setenv("LABOURWATCH_CACHE_DIR", shared_cache)
    monkeypatch.delenv("LABOURWATCH_DB_URL", raising=False)
    get_settings.cache_clear()
    from db.session import get_engine

    get_engine.cache_clear()
    yield home
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not PG_AVAILABLE:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must run the PostgreSQL lane")
        pytest.skip("PostgreSQL not reachable")
    name = f"lw_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from db.session import get_engine

        get_engine.cache_clear()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, lw_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database URL for each backend; the URL is also set as LABOURWATCH_DB_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{(lw_home / 'test.db').as_posix()}"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("LABOURWATCH_DB_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database on each backend (SQLite and PostgreSQL)."""
    from db.migrate import upgrade
    from db.session import get_engine

    eng = get_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
