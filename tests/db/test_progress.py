"""The reads the flows summarise runs with (db.progress), run rows (db.runs) and the labelling batches (db.labels)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update

from db import schema
from db.audit import posting_keys
from db.labels import (
    known_sources,
    label_pending_batch,
    pending_count,
    pending_id_ranges,
    stored_labels,
    write_labels,
)
from db.progress import (
    LabelAgreement,
    MonthCounts,
    current_trend_version,
    label_agreement,
    month_counts,
    months_to_recompute,
    source_counts,
)
from db.repo import store_postings
from db.runs import Heartbeat, link_crawl_run, touch_run
from db.session import session_scope
from labourwatch.contract import LabelRow, PendingPosting, PostingIn


def _store(engine: Engine) -> list[int]:
    """Three postings of ``a`` (two in 2026-01, one in 2026-02) and one of ``b``; ids in that order."""
    postings = [PostingIn(source="a", external_id="1", title="Java开发", posted_at=date(2026, 1, 5)),
                PostingIn(source="a", external_id="2", title="UI设计", posted_at=date(2026, 1, 9)),
                PostingIn(source="a", external_id="3", title="销售代表", posted_at=date(2026, 2, 2)),
                PostingIn(source="b", external_id="9", title="Java开发", posted_at=date(2026, 2, 3))]
    store_postings(engine, postings)
    with engine.connect() as c:
        return [int(r[0]) for r in c.execute(select(schema.Posting.id).order_by(schema.Posting.id))]


def _label(pid: int, version: str, role: str = "software_dev", ai: str = "none") -> LabelRow:
    return LabelRow(pid, version, "1", role, 0.9, None, None, "unstated", None, ai, ("ai",) if ai != "none" else ())


def test_source_and_month_counts(engine: Engine) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    ids = _store(engine)
    with engine.begin() as c:
        c.execute(update(schema.Posting).where(schema.Posting.id == ids[3]).values(canonical_id=ids[0]))
    counts = source_counts(engine, before)
    assert set(counts) == {"a", "b"}
    assert (counts["a"].postings, counts["a"].new, counts["a"].duplicates) == (3, 3, 0)
    assert (counts["b"].postings, counts["b"].new, counts["b"].duplicates) == (1, 1, 1)
    later = source_counts(engine, datetime.now(UTC) + timedelta(minutes=1), ["b", "nobody"])
    assert list(later) == ["b", "nobody"] and later["nobody"].postings == 0 and later["b"].new == 0

    assert months_to_recompute(engine) is None  # nothing labelled yet
    with session_scope(engine) as s:
        write_labels(s, [_label(ids[1], "v1"), _label(ids[2], "v1")])
    assert months_to_recompute(engine) == "2026-01"
    assert current_trend_version(engine) is None
    assert month_counts(engine, ["2026-02", "2026-01", "2025-12"]) == [
        MonthCounts("2026-02", 2, 1, 1, 0), MonthCounts("2026-01", 2, 2, 1, 0), MonthCounts("2025-12", 0, 0, 0, 0)]


def test_label_agreement_between_versions(engine: Engine) -> None:
    ids = _store(engine)
    with session_scope(engine) as s:
        write_labels(s, [_label(i, "old") for i in ids[:3]])
        write_labels(s, [_label(ids[0], "new"), _label(ids[1], "new", role="design", ai="ai_tools")])
    got = label_agreement(engine, "old", "new")
    assert got == LabelAgreement("old", "new", 2, {"role_category": 0.5, "experience_bucket": 1.0, "ai_level": 0.5})
    assert label_agreement(engine, "old", "none-such").agreement == {
        "role_category": 0.0, "experience_bucket": 0.0, "ai_level": 0.0}


def test_labelling_batches_resume_and_respect_ranges(engine: Engine) -> None:
    ids = _store(engine)
    assert known_sources(engine, ["a", "zzz"]) == {"a"}
    assert pending_count(engine, "v") == 4 and pending_count(engine, "v", ["b"]) == 1
    assert pending_id_ranges(engine, "v", 3) == [(ids[0], ids[2]), (ids[3], ids[3])]
    seen: list[list[PendingPosting]] = []

    def label(batch: list[PendingPosting]) -> list[LabelRow]:
        seen.append(batch)
        return [_label(p.id, "v") for p in batch]

    first = label_pending_batch(engine, "v", 2, 0, label, last_id=ids[2])
    assert [p.id for p in first] == ids[:2] and first[0].source == "a"
    second = label_pending_batch(engine, "v", 2, first[-1].id, label, last_id=ids[2])
    assert [p.id for p in second] == [ids[2]]  # the range ends before the fourth posting
    assert label_pending_batch(engine, "v", 2, second[-1].id, label, last_id=ids[2]) == []
    assert pending_count(engine, "v") == 1 and len(seen) == 2
    only_b = label_pending_batch(engine, "v", 10, 0, label, sources=["b"])
    assert [p.id for p in only_b] == [ids[3]]
    rows = stored_labels(engine)
    assert [r.posting_id for r in rows] == ids and rows[0] == _label(ids[0], "v")
    assert posting_keys(engine, [ids[3], ids[0], 10**9]) == {ids[3]: ("b", "9"), ids[0]: ("a", "1")}
    assert posting_keys(engine, []) == {}


def test_run_rows_link_and_heartbeat(engine: Engine) -> None:
    from db.repo import start_run

    with session_scope(engine) as s:
        run_id = start_run(s, "a").id
    link_crawl_run(engine, run_id, None)  # no flow run: nothing to record
    link_crawl_run(engine, run_id, "flow-1")
    touch_run(engine, run_id)
    with engine.connect() as c:
        flow_run_id, beat = c.execute(select(schema.CrawlRun.flow_run_id, schema.CrawlRun.heartbeat_at)
                                      .where(schema.CrawlRun.id == run_id)).one()
    assert flow_run_id == "flow-1" and beat is not None
    with Heartbeat(engine, run_id, interval=60) as hb:
        assert hb._thread.is_alive()
    assert not hb._thread.is_alive()
