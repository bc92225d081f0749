"""Idempotent upserts of postings: identity, content changes, last_seen."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from db import schema
from db.repo import PostingIn, normalise_title, upsert_postings
from db.session import session_scope


def _p(ext: str, title: str = "Java开发工程师", desc: str = "岗位职责：开发", **kw) -> PostingIn:
    return PostingIn(source="board", external_id=ext, title=title, description=desc,
                     posted_at=date(2026, 3, 2), **kw)


def test_upsert_is_idempotent_and_tracks_changes(engine) -> None:
    with session_scope(engine) as s:
        r1 = upsert_postings(s, [_p("1"), _p("2"), _p("2")])
    assert (r1.inserted, r1.updated, r1.unchanged) == (2, 0, 0)
    assert r1.ids[1] == r1.ids[2]
    with session_scope(engine) as s:
        first_seen, last_seen = s.execute(select(schema.Posting.first_seen, schema.Posting.last_seen)
                                          .where(schema.Posting.external_id == "1")).one()
        pid = r1.ids[0]
        s.execute(update(schema.Posting).where(schema.Posting.id == r1.ids[0]).values(simhash=42))
        s.add(schema.PostingLabel(posting_id=pid, model_version="m1", taxonomy_version="1", role_category="software_dev",
                                  role_confidence=0.9, experience_bucket="unstated", ai_level="none", ai_terms=[],
                                  labelled_at=first_seen))
    with session_scope(engine) as s:
        r2 = upsert_postings(s, [_p("1", desc="岗位职责：开发与维护"), _p("2")])
    assert (r2.inserted, r2.updated, r2.unchanged) == (0, 1, 1)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(schema.Posting)) == 2
        # A changed posting loses its stale labels so it is classified again.
        assert s.scalar(select(func.count()).select_from(schema.PostingLabel)) == 0
        p1 = s.scalar(select(schema.Posting).where(schema.Posting.external_id == "1"))
        assert p1.description == "岗位职责：开发与维护"
        assert p1.simhash is None  # fingerprinted again by the next dedupe
        assert p1.first_seen == first_seen and p1.last_seen >= last_seen
        assert p1.posted_month == "2026-03" and p1.posted_week == "2026-W10"


def test_same_external_id_in_two_sources_are_two_postings(engine) -> None:
    with session_scope(engine) as s:
        upsert_postings(s, [_p("1"), PostingIn(source="other", external_id="1", title="Java开发工程师")])
        assert s.scalar(select(func.count()).select_from(schema.Posting)) == 2
        assert s.scalar(select(func.count()).select_from(schema.Source)) == 2


def test_normalise_title() -> None:
    assert normalise_title("高级后端工程师（Go）") == "高级后端工程师"
    assert normalise_title("  Senior  Java-Developer (m/w/d) ") == "senior java developer"
    assert normalise_title("Ｃ＋＋开发") == "c++开发"


def test_posting_in_rejects_empty_title() -> None:
    import pytest

    with pytest.raises(ValueError, match="title is empty for board:9"):
        PostingIn(source="board", external_id="9", title="  ")
