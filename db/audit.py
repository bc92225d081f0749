"""The audit store: analysts' verdicts on labels, read by measured accuracy, adjusted figures and retraining."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from db import schema
from db.session import session_scope

AUDIT_FIELDS = ("role_category", "ai_level", "experience_bucket")
AUDIT_ORIGINS = ("file", "dashboard", "demo_truth")


@dataclass(frozen=True, slots=True)
class AuditIn:
    """One verdict to store: the right code (``true_value``) and/or whether ``predicted`` was right."""

    posting_id: int
    field: str
    true_value: str | None = None
    predicted: str | None = None
    correct: bool | None = None
    model_version: str | None = None
    origin: str = "file"
    auditor: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.field not in AUDIT_FIELDS:
            raise ValueError(f"audit field {self.field!r} is not one of {', '.join(AUDIT_FIELDS)}")
        if self.origin not in AUDIT_ORIGINS:
            raise ValueError(f"audit origin {self.origin!r} is not one of {', '.join(AUDIT_ORIGINS)}")
        if self.true_value is None and self.correct is None:
            raise ValueError(f"audit of posting {self.posting_id} ({self.field}) has neither a true value nor a verdict")


@dataclass(frozen=True, slots=True)
class AuditRow:
    """The newest verdict on one posting's field."""

    posting_id: int
    field: str
    predicted: str | None
    true_value: str | None
    correct: bool | None
    model_version: str | None
    origin: str
    auditor: str | None
    created_at: datetime


def record_audit(engine: Engine, items: Iterable[AuditIn]) -> int:
    """Store verdicts in one transaction; ``correct`` is derived when both codes are known. Returns the count."""
    now = datetime.now(UTC)
    rows = []
    for a in items:
        correct = a.correct
        if correct is None and a.true_value is not None and a.predicted is not None:
            correct = a.true_value == a.predicted
        rows.append(
            schema.AuditLabel(
                posting_id=a.posting_id,
                field=a.field,
                model_version=a.model_version,
                predicted=a.predicted,
                true_value=a.true_value,
                correct=correct,
                origin=a.origin,
                auditor=a.auditor,
                note=a.note,
                created_at=now,
            )
        )
    if not rows:
        return 0
    with session_scope(engine) as s:
        s.add_all(rows)
    return len(rows)


def latest_audit(engine: Engine, field: str | None = None) -> list[AuditRow]:
    """The newest verdict per (posting, field), optionally for one field, oldest posting first."""
    a = schema.AuditLabel
    newest = (
        select(a.posting_id, a.field, func.max(a.id).label("id")).group_by(a.posting_id, a.field).subquery()
    )
    stmt = select(a).join(newest, a.id == newest.c.id).order_by(a.posting_id, a.field)
    if field is not None:
        stmt = stmt.where(a.field == field)
    with session_scope(engine) as s:
        return [
            AuditRow(
                posting_id=r.posting_id,
                field=r.field,
                predicted=r.predicted,
                true_value=r.true_value,
                correct=r.correct,
                model_version=r.model_version,
                origin=r.origin,
                auditor=r.auditor,
                created_at=r.created_at,
            )
            for r in s.scalars(stmt)
        ]
