"""Reads and writes of posting labels and evaluation figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, exists, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import schema
from labourwatch.contract import LabelRow, PendingPosting


def _source_filter(sources: Sequence[str] | None) -> Any:
    """A WHERE clause keeping postings of the named sources (None: every source)."""
    if sources is None:
        return true()
    return schema.Posting.source_id.in_(select(schema.Source.id).where(schema.Source.name.in_(list(sources))))


def pending_postings(session: Session, model_version: str, limit: int, after_id: int = 0,
                     sources: Sequence[str] | None = None) -> list[PendingPosting]:
    """Up to ``limit`` postings with id > ``after_id`` and no label of ``model_version``, by id (of the named
    ``sources`` only, if given)."""
    P, L = schema.Posting, schema.PostingLabel
    labelled = exists().where(L.posting_id == P.id, L.model_version == model_version)
    S = schema.Source
    stmt = (select(P.id, P.title, P.description, P.experience_text, P.lang, P.board_category, S.name)
            .join(S, S.id == P.source_id)
            .where(P.id > after_id, ~labelled, _source_filter(sources)).order_by(P.id).limit(limit))
    return [PendingPosting(*row) for row in session.execute(stmt)]


def count_pending(session: Session, model_version: str, sources: Sequence[str] | None = None) -> int:
    """How many postings (of the named ``sources`` only, if given) have no label of ``model_version``."""
    P, L = schema.Posting, schema.PostingLabel
    labelled = exists().where(L.posting_id == P.id, L.model_version == model_version)
    return int(session.execute(select(func.count()).select_from(P).where(~labelled, _source_filter(sources)))
               .scalar_one())


def write_labels(session: Session, rows: Sequence[LabelRow], labelled_at: datetime | None = None) -> int:
    """Insert ``rows``; a label that already exists for (posting, model version) is replaced. Returns count."""
    if not rows:
        return 0
    now = labelled_at or datetime.now(UTC)
    values: list[dict[str, Any]] = [
        {"posting_id": r.posting_id, "model_version": r.model_version, "taxonomy_version": r.taxonomy_version,
         "role_category": r.role_category, "role_confidence": r.role_confidence,
         "experience_min_years": r.experience_min_years, "experience_max_years": r.experience_max_years,
         "experience_bucket": r.experience_bucket, "requires_3plus_years": r.requires_3plus_years,
         "ai_level": r.ai_level, "ai_terms": list(r.ai_terms), "role_source": r.role_source,
         "role_category_text": r.role_category_text, "labelled_at": now}
        for r in rows
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(Table, schema.PostingLabel.__table__)
    keep = ("posting_id", "model_version", "id")
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["posting_id", "model_version"],
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keep},
    )
    # executemany: the statement compiles once (a multi-VALUES literal recompiles per batch, ~10x slower).
    session.connection().execute(stmt, values)
    return len(values)


def pending_count(engine: Engine, model_version: str, sources: Sequence[str] | None = None) -> int:
    """How many postings (of the named ``sources`` only, if given) have no label of ``model_version``."""
    with engine.connect() as c:
        P, L = schema.Posting, schema.PostingLabel
        labelled = exists().where(L.posting_id == P.id, L.model_version == model_version)
        return int(c.execute(select(func.count()).select_from(P).where(~labelled, _source_filter(sources)))
                   .scalar_one())


def label_pending_batch(engine: Engine, model_version: str, limit: int, after_id: int,
                        label: Callable[[list[PendingPosting]], Sequence[LabelRow]], *,
                        sources: Sequence[str] | None = None, last_id: int | None = None) -> list[PendingPosting]:
    """Label the next batch in one committed transaction: up to ``limit`` postings with id > ``after_id`` (and
    <= ``last_id``, if given; of the named ``sources`` only, if given) and no label of ``model_version``, labelled
    by ``label`` and written with ``write_labels`` (an upsert). Returns the batch, in id order; empty when no
    posting is left, so a caller loops with ``after_id = batch[-1].id``."""
    from db.session import session_scope

    with session_scope(engine) as s:
        batch = pending_postings(s, model_version, limit, after_id, sources)
        if last_id is not None:
            batch = [p for p in batch if p.id <= last_id]
        if batch:
            write_labels(s, label(batch))  # the module attribute, looked up per call (tests wrap it)
    return batch


def pending_id_ranges(engine: Engine, model_version: str, size: int) -> list[tuple[int, int]]:
    """Inclusive posting id ranges, in id order, each holding ``size`` postings without a label of
    ``model_version`` (the last one fewer). Keyset steps over the id index: no id list is held in memory."""
    if size < 1:
        raise ValueError(f"partition size must be >= 1, got {size}")
    P, L = schema.Posting, schema.PostingLabel
    pending = ~exists().where(L.posting_id == P.id, L.model_version == model_version)
    out: list[tuple[int, int]] = []
    after = 0
    with engine.connect() as c:
        while True:
            base = select(P.id).where(P.id > after, pending).order_by(P.id)
            first = c.execute(base.limit(1)).scalar()
            if first is None:
                return out
            last = c.execute(base.offset(size - 1).limit(1)).scalar()
            if last is None:
                last = c.execute(select(func.max(P.id)).where(P.id > after, pending)).scalar_one()
            out.append((int(first), int(last)))
            after = int(last)


def known_sources(engine: Engine, names: Sequence[str]) -> set[str]:
    """Those of ``names`` that are stored sources."""
    S = schema.Source
    with engine.connect() as c:
        return {str(n) for n in c.scalars(select(S.name).where(S.name.in_(list(names))))}


def stored_labels(engine: Engine) -> list[LabelRow]:
    """Every stored label's fields (not its row id or write time), by posting id and model version."""
    L = schema.PostingLabel
    cols = (L.posting_id, L.model_version, L.taxonomy_version, L.role_category, L.role_confidence,
            L.experience_min_years, L.experience_max_years, L.experience_bucket, L.requires_3plus_years,
            L.ai_level, L.ai_terms, L.role_source, L.role_category_text)
    with engine.connect() as c:
        rows = c.execute(select(*cols).order_by(L.posting_id, L.model_version)).all()
    return [LabelRow(r.posting_id, r.model_version, r.taxonomy_version, r.role_category, r.role_confidence,
                     r.experience_min_years, r.experience_max_years, r.experience_bucket, r.requires_3plus_years,
                     r.ai_level, tuple(r.ai_terms or ()), r.role_source, r.role_category_text) for r in rows]


def labels_for(session: Session, model_version: str) -> list[schema.PostingLabel]:
    """Every label of ``model_version`` (for inspection and tests), by posting id."""
    L = schema.PostingLabel
    return list(session.scalars(select(L).where(L.model_version == model_version).order_by(L.posting_id)))


def record_evaluation(engine: Engine, model_version: str, dataset: str,
                      figures: Sequence[tuple[str, str, float, int]]) -> int:
    """Store (field, metric, value, n) figures of ``model_version`` on ``dataset``; returns rows written."""
    from db.session import session_scope

    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for field, metric, value, n in figures:
            s.add(schema.Evaluation(model_version=model_version, dataset=dataset, field=field, metric=metric,
                                    value=float(value), n=int(n), created_at=now))
    return len(figures)


@dataclass(frozen=True, slots=True)
class AuditedRole:
    """A posting whose role an analyst audited: what the classifiers read, and the audited code."""

    posting_id: int
    title: str
    description: str | None
    role_category: str


def audited_roles(engine: Engine) -> list[AuditedRole]:
    """The newest role verdict per audited posting, as a training example: the analyst's ``true_value``, or the
    prediction they marked correct. Verdicts that name no code are skipped."""
    from db.audit import latest_audit
    from db.session import session_scope

    verdicts: dict[int, str] = {}
    for a in latest_audit(engine, field="role_category"):
        code = a.true_value or (a.predicted if a.correct else None)
        if code:
            verdicts[a.posting_id] = code
    if not verdicts:
        return []
    P = schema.Posting
    out: list[AuditedRole] = []
    ids = sorted(verdicts)
    with session_scope(engine) as s:
        for i in range(0, len(ids), 500):
            for pid, title, desc in s.execute(select(P.id, P.title, P.description).where(P.id.in_(ids[i : i + 500]))):
                out.append(AuditedRole(pid, title, desc, verdicts[pid]))
    return sorted(out, key=lambda r: r.posting_id)


def audit_role_agreement(engine: Engine, model_version: str) -> tuple[int, int]:
    """(correct, n): how many audited postings labelled by ``model_version`` carry the audited role."""
    from db.session import session_scope

    verdicts = {a.posting_id: a.role_category for a in audited_roles(engine)}
    if not verdicts:
        return 0, 0
    L = schema.PostingLabel
    ids = sorted(verdicts)
    ok = n = 0
    with session_scope(engine) as s:
        for i in range(0, len(ids), 500):
            stmt = select(L.posting_id, L.role_category).where(L.model_version == model_version,
                                                                 L.posting_id.in_(ids[i : i + 500]))
            for pid, code in s.execute(stmt):
                n += 1
                ok += int(code == verdicts[pid])
    return ok, n
