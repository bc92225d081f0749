"""The bulk loader of labelled postings stores what the normal write path would (same content hash, title key,
week), moves the id sequences past its ids, and counts rows; db.errors describes driver errors in one line."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from db.bulk import LabelledPosting, bulk_insert_labelled, row_counts
from db.errors import describe
from db.repo import content_hash, iso_week, normalise_title, store_postings
from labourwatch.contract import PostingIn


def test_bulk_rows_carry_the_repo_content_hash(engine: Engine) -> None:
    rows = [LabelledPosting("s", f"e{i}", f"Java 开发 {i}", date(2025, 3, i + 1), "software_dev", company="c",
                            city="上海", lang="zh", description=None if i else "d", country="CN") for i in range(3)]
    ids = bulk_insert_labelled(engine, rows)
    ids += bulk_insert_labelled(engine, [LabelledPosting("t", "x", "Designer", date(2025, 4, 1), "design_basic")])
    assert ids == sorted(ids) and len(set(ids)) == 4
    with engine.connect() as c:
        stored = {r.external_id: r for r in c.execute(text(
            "SELECT external_id, content_hash, title_norm, posted_week FROM postings"))}
    for r in rows:
        got = stored[r.external_id]
        assert got.content_hash == content_hash(r.posting())
        assert got.title_norm == normalise_title(r.title) and got.posted_week == iso_week(r.posted_at)
    assert row_counts(engine) == {"postings": 4, "posting_labels": 4, "trend_demand": 0, "trend_shares": 0}
    # the normal write path after a bulk load takes the next id, not one the load assigned
    store_postings(engine, [PostingIn(source="s", external_id="after", title="t", posted_at=date(2025, 4, 2))])
    with engine.connect() as c:
        new = c.execute(text("SELECT id FROM postings WHERE external_id = 'after'")).scalar_one()
    assert new == max(ids) + 1


def test_unknown_ai_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ai_level 'lots'"):
        LabelledPosting("s", "e", "t", date(2025, 1, 1), "other", ai_level="lots")


def test_describe_names_the_fix_for_a_missing_table() -> None:
    exc = OperationalError("SELECT 1", {}, Exception("no such table: postings"))
    assert "run `labourwatch db upgrade` first" in (describe(exc) or "")
    exc = OperationalError("SELECT 1", {}, Exception("could not connect to server"))
    assert "check LABOURWATCH_DB_URL" in (describe(exc) or "")
    assert describe(OperationalError("SELECT 1", {}, KeyError("x"))) == "KeyError: 'x'"
    assert describe(ValueError("not a database error")) is None
