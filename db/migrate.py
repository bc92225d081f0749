"""Alembic migrations run programmatically: upgrade, downgrade, check the schema matches the ORM."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from db.session import get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for ``engine`` that needs no alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Migrate the database of ``engine`` (default: configured) up to ``revision``."""
    engine = engine or get_engine()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if engine.dialect.name == "postgresql" and revision == "head":
        _grant_analyst_if_allowed(engine)


def _grant_analyst_if_allowed(engine: Engine) -> None:
    """Give the analyst role its grants; a database user without CREATEROLE gets a warning, not a failure."""
    import logging

    from sqlalchemy.exc import DBAPIError

    from db.queries import grant_analyst

    try:
        grant_analyst(engine)
    except DBAPIError as exc:
        logging.getLogger(__name__).warning(
            "analyst role not set up (%s); run `labourwatch db grant-analyst` as a database owner",
            str(exc.orig).strip().splitlines()[0] if exc.orig else exc)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    """Migrate the database of ``engine`` down to ``revision`` (default: empty)."""
    engine = engine or get_engine()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_diff(engine: Engine | None = None) -> list:
    """Differences between the migrated database and the ORM schema; empty when they match."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from db.schema import Base

    engine = engine or get_engine()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))
