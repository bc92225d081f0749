"""Migrations build the ORM schema from empty, on SQLite and PostgreSQL, and downgrade cleanly."""

from __future__ import annotations

from sqlalchemy import inspect

from db.migrate import current_revision, downgrade, schema_diff, upgrade
from db.schema import Base


def test_upgrade_from_empty_matches_orm(engine) -> None:
    assert current_revision(engine) is not None
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema_diff(engine) == []


def test_downgrade_to_base_and_up_again(engine) -> None:
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert schema_diff(engine) == []


def test_constraint_names_follow_convention(engine) -> None:
    uniques = {u["name"] for u in inspect(engine).get_unique_constraints("postings")}
    assert "uq_postings_source_id_external_id" in uniques
