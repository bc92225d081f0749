"""Migrations build the ORM schema from empty, on SQLite and PostgreSQL, and downgrade cleanly."""

from __future__ import annotations

import pytest
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


def test_0006_keeps_briefs_and_makes_them_unique_per_country(engine) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    downgrade(engine, "0005")
    now = datetime(2026, 4, 1, tzinfo=UTC)
    row = {"m": "2026-03", "l": "zh", "p": "/b/old.pdf", "s": "a" * 64, "n": 7, "t": now}
    insert_old = text("INSERT INTO briefs (month, lang, path, sha256, pages, created_at) "
                      "VALUES (:m, :l, :p, :s, :n, :t)")
    with engine.begin() as c:
        c.execute(insert_old, row)
    upgrade(engine)
    assert schema_diff(engine) == []
    insert = text("INSERT INTO briefs (month, lang, country, path, sha256, pages, created_at) "
                  "VALUES (:m, :l, :c, :p, :s, :n, :t)")
    with engine.begin() as c:
        assert c.execute(text("SELECT country, path FROM briefs")).all() == [("", "/b/old.pdf")]
        c.execute(insert, {**row, "c": "CN", "p": "/b/cn.pdf"})
        c.execute(insert, {**row, "c": "GB", "p": "/b/gb.pdf"})
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert, {**row, "c": "GB", "p": "/b/gb2.pdf"})
    downgrade(engine, "0005")  # back to one brief per (month, lang): the newest row stays
    with engine.connect() as c:
        assert c.execute(text("SELECT month, lang, path FROM briefs")).all() == [("2026-03", "zh", "/b/gb.pdf")]
    upgrade(engine)
