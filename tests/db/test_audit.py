"""The audit store keeps analysts' verdicts; the newest per posting and field counts."""

from __future__ import annotations

from datetime import date

import pytest

from db.audit import AuditIn, latest_audit, record_audit
from db.repo import PostingIn, store_postings


def _posting_ids(engine) -> list[int]:
    rows = [PostingIn(source="t", external_id=str(i), title=f"工程师 {i}", posted_at=date(2026, 1, 2)) for i in range(3)]
    return store_postings(engine, rows).ids


def test_record_and_latest(engine) -> None:
    ids = _posting_ids(engine)
    n = record_audit(
        engine,
        [
            AuditIn(ids[0], "role_category", true_value="software_dev", predicted="software_dev"),
            AuditIn(ids[1], "role_category", true_value="it_ops", predicted="sales"),
            AuditIn(ids[1], "ai_level", correct=True, predicted="none", origin="dashboard"),
        ],
    )
    assert n == 3
    record_audit(engine, [AuditIn(ids[0], "role_category", true_value="data_ai", predicted="software_dev")])
    rows = latest_audit(engine, "role_category")
    assert [(r.posting_id, r.true_value, r.correct) for r in rows] == [
        (ids[0], "data_ai", False),
        (ids[1], "it_ops", False),
    ]
    assert {r.field for r in latest_audit(engine)} == {"role_category", "ai_level"}


def test_bad_audit_input_is_refused() -> None:
    with pytest.raises(ValueError, match="audit field"):
        AuditIn(1, "colour", true_value="x")
    with pytest.raises(ValueError, match="neither"):
        AuditIn(1, "role_category")
