"""Writes: sources, crawl runs and idempotent batched upserts of postings."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import schema
from labourwatch.contract import PostingIn


@dataclass
class UpsertResult:
    """How a batch of postings changed the store."""

    inserted: int = 0
    updated: int = 0  # content changed: fields rewritten, stale labels dropped
    unchanged: int = 0  # seen again: only last_seen moved
    ids: list[int] = field(default_factory=list)

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.extend(other.ids)
        return self


_BRACKETS = re.compile(r"[（(【\[].*?[)）】\]]")
_NON_WORD = re.compile(r"[^\w+#]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """Lower-cased, width-folded title without bracketed qualifiers or punctuation (for dedupe keys)."""
    text = unicodedata.normalize("NFKC", title).lower()
    text = _BRACKETS.sub(" ", text)
    return _NON_WORD.sub(" ", text).strip()


CONTENT_FIELDS = (
    "title", "company", "city", "lang", "description", "salary_text", "experience_text",
    "education_text", "employment_type", "posted_at",
)


def content_hash(p: PostingIn) -> str:
    """SHA-256 over the fields that define a posting's content (not its provenance)."""
    h = hashlib.sha256()
    for name in CONTENT_FIELDS:
        value = getattr(p, name)
        h.update(b"\x1f" + (str(value) if value is not None else "").encode("utf-8"))
    return h.hexdigest()


def iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def get_or_create_source(session: Session, name: str, **attrs: Any) -> schema.Source:
    """The source row called ``name``, created with ``attrs`` when missing."""
    src = session.scalar(select(schema.Source).where(schema.Source.name == name))
    if src is None:
        stmt = _insert(session)(schema.Source).values(
            name=name, created_at=datetime.now(UTC), kind=attrs.get("kind", "board"),
            spider=attrs.get("spider"), lang=attrs.get("lang"), url=attrs.get("url"),
        ).on_conflict_do_nothing(index_elements=["name"])
        session.execute(stmt)
        src = session.scalar(select(schema.Source).where(schema.Source.name == name))
        assert src is not None
    return src


def start_run(session: Session, source: str, kind: str = "crawl", **attrs: Any) -> schema.CrawlRun:
    """Open a crawl/import run for ``source`` (status running)."""
    src = get_or_create_source(session, source, kind="import" if kind == "import" else "board", **attrs)
    run = schema.CrawlRun(source_id=src.id, kind=kind, started_at=datetime.now(UTC), status="running",
                          stats={})
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, status: str, stats: dict[str, Any] | None = None,
               error: str | None = None) -> None:
    """Close a run with its final status, counters and error text."""
    session.execute(
        update(schema.CrawlRun).where(schema.CrawlRun.id == run_id).values(
            finished_at=datetime.now(UTC), status=status, stats=stats or {}, error=error)
    )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One crawl/import run as ``crawl_runs`` holds it."""

    id: int
    source: str
    kind: str
    status: str  # running | succeeded | partial | failed | interrupted
    stats: dict[str, Any]
    error: str | None


def get_run(session: Session, run_id: int) -> RunRecord | None:
    """Run ``run_id`` with its source's name, or None when there is no such run."""
    run = session.get(schema.CrawlRun, run_id)
    if run is None:
        return None
    src = session.get(schema.Source, run.source_id)
    return RunRecord(id=run.id, source=src.name if src else "?", kind=run.kind, status=run.status,
                     stats=dict(run.stats or {}), error=run.error)


def close_stale_crawls(session: Session, source: str, run_id: int, error: str) -> list[int]:
    """Close the crawls of ``source`` other than ``run_id`` still marked running as ``interrupted`` (their
    process is gone: the caller holds the source's crawl lock); returns their ids."""
    sid = session.scalar(select(schema.Source.id).where(schema.Source.name == source))
    if sid is None:
        return []
    R = schema.CrawlRun
    stale = list(session.scalars(select(R.id).where(R.source_id == sid, R.status == "running", R.id != run_id,
                                                    R.kind == "crawl")))
    for rid in stale:
        finish_run(session, rid, "interrupted", {"interrupted": True}, error)
    return stale


def iter_last_seen(session: Session, source: str) -> Iterator[tuple[str, str | None, datetime]]:
    """(external id, URL, last_seen) of every stored posting of ``source``, streamed (none for a new source)."""
    P = schema.Posting
    sid = session.scalar(select(schema.Source.id).where(schema.Source.name == source))
    if sid is None:
        return
    yield from session.execute(select(P.external_id, P.url, P.last_seen).where(P.source_id == sid)
                               .execution_options(yield_per=10_000)).tuples()


def touch_last_seen(session: Session, source: str, external_ids: Sequence[str], urls: Sequence[str],
                    now: datetime) -> int:
    """Move ``last_seen`` of ``source``'s postings listed again but not refetched (by external id or URL) to
    ``now``; returns how many rows matched."""
    P = schema.Posting
    sid = session.scalar(select(schema.Source.id).where(schema.Source.name == source))
    if sid is None:
        return 0
    n = 0
    for chunk in _chunks(external_ids, 500):
        n += session.execute(update(P).where(P.source_id == sid, P.external_id.in_(list(chunk)))
                             .values(last_seen=now)).rowcount or 0  # type: ignore[attr-defined]
    for chunk in _chunks(urls, 500):
        n += session.execute(update(P).where(P.source_id == sid, P.url.in_(list(chunk)))
                             .values(last_seen=now)).rowcount or 0  # type: ignore[attr-defined]
    return n


def _insert(session: Session):  # type: ignore[no-untyped-def]
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect {name!r}: use SQLite or PostgreSQL")


def upsert_postings(session: Session, postings: Sequence[PostingIn], crawl_run_id: int | None = None,
                    seen_at: datetime | None = None) -> UpsertResult:
    """Insert new postings, refresh changed ones and touch ``last_seen`` of the rest; idempotent.

    Identity is ``(source, external_id)``; a changed content hash rewrites the posting and drops its
    labels so it is classified again. Safe under concurrent writers (INSERT .. ON CONFLICT).
    Returns counts and the ids of the postings in the batch (in input order).
    """
    result = UpsertResult()
    if not postings:
        return result
    now = seen_at or datetime.now(UTC)
    # Last occurrence wins when a batch repeats an id (a board re-listing a job on the same page).
    by_key: dict[tuple[str, str], PostingIn] = {}
    for p in postings:
        by_key[(p.source, str(p.external_id))] = p
    source_ids = {name: get_or_create_source(session, name).id for name in {k[0] for k in by_key}}

    rows: list[dict[str, Any]] = []
    for (src, ext), p in by_key.items():
        d = asdict(p)
        d.pop("source")
        d["external_id"] = ext
        d["source_id"] = source_ids[src]
        d["title"] = p.title.strip()[:500]
        d["title_norm"] = normalise_title(p.title)[:500]
        d["content_hash"] = content_hash(p)
        d["first_seen"] = now
        d["last_seen"] = now
        d["crawl_run_id"] = crawl_run_id
        day = p.posted_at or now.date()
        d["posted_month"] = day.strftime("%Y-%m")
        d["posted_week"] = iso_week(day)
        rows.append(d)

    P = schema.Posting
    existing: dict[tuple[int, str], tuple[int, str]] = {}
    for sid in set(source_ids.values()):
        ext_ids = [r["external_id"] for r in rows if r["source_id"] == sid]
        for chunk in _chunks(ext_ids, 900):
            for pid, ext, h in session.execute(
                select(P.id, P.external_id, P.content_hash).where(P.source_id == sid, P.external_id.in_(chunk))
            ):
                existing[(sid, ext)] = (pid, h)

    new_rows = [r for r in rows if (r["source_id"], r["external_id"]) not in existing]
    changed = [r for r in rows if (k := (r["source_id"], r["external_id"])) in existing
               and existing[k][1] != r["content_hash"]]
    same = [r for r in rows if (k := (r["source_id"], r["external_id"])) in existing
            and existing[k][1] == r["content_hash"]]

    ins = _insert(session)
    if new_rows:
        stmt = ins(P.__table__)
        # A concurrent writer may have inserted the same key since our read: fall back to touching it.
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_id", "external_id"], set_={"last_seen": stmt.excluded.last_seen}
        )
        # executemany on the Core table: compiled once and cached, batched by insertmanyvalues.
        session.connection().execute(stmt, new_rows)
        result.inserted = len(new_rows)
    if changed:
        changed_ids = [existing[(r["source_id"], r["external_id"])][0] for r in changed]
        for r, pid in zip(changed, changed_ids, strict=True):
            values = {k: v for k, v in r.items() if k not in ("first_seen", "source_id", "external_id")}
            if r["posted_at"] is None:  # an undated posting stays counted in the month it was first seen
                values.pop("posted_month")
                values.pop("posted_week")
            # A rewritten posting is fingerprinted and deduplicated afresh.
            values["simhash"] = None
            session.execute(update(P).where(P.id == pid).values(**values))
        for chunk in _chunks(changed_ids, 900):
            session.execute(delete(schema.PostingLabel).where(schema.PostingLabel.posting_id.in_(chunk)))
        result.updated = len(changed)
    if same:
        same_ids = [existing[(r["source_id"], r["external_id"])][0] for r in same]
        for chunk in _chunks(same_ids, 900):
            session.execute(update(P).where(P.id.in_(chunk)).values(last_seen=now))
        result.unchanged = len(same)

    id_map: dict[tuple[int, str], int] = {}
    owner: dict[tuple[int, str], int | None] = {}
    for sid in set(source_ids.values()):
        ext_ids = [r["external_id"] for r in rows if r["source_id"] == sid]
        for chunk in _chunks(ext_ids, 900):
            for pid, ext, run in session.execute(
                select(P.id, P.external_id, P.crawl_run_id).where(P.source_id == sid, P.external_id.in_(chunk))
            ):
                id_map[(sid, ext)] = pid
                owner[(sid, ext)] = run
    if crawl_run_id is not None and new_rows:
        # A concurrent run inserted some of "our" new rows first (ON CONFLICT touched them): they are its work.
        lost = sum(1 for r in new_rows if owner.get((r["source_id"], r["external_id"])) != crawl_run_id)
        result.inserted -= lost
        result.unchanged += lost
    result.ids = [id_map[(source_ids[p.source], str(p.external_id))] for p in postings]
    return result


def store_postings(engine: Engine, postings: Iterable[PostingIn], crawl_run_id: int | None = None,
                   batch_size: int = 1000) -> UpsertResult:
    """Upsert ``postings`` in committed batches of ``batch_size``; returns the summed counts."""
    from db.session import session_scope

    total = UpsertResult()
    batch: list[PostingIn] = []
    for p in postings:
        batch.append(p)
        if len(batch) >= batch_size:
            with session_scope(engine) as s:
                total += upsert_postings(s, batch, crawl_run_id)
            batch = []
    if batch:
        with session_scope(engine) as s:
            total += upsert_postings(s, batch, crawl_run_id)
    return total


def _chunks(seq: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# --- the door for the other packages: each call is one transaction on ``engine`` ----------------------------


def register_source(engine: Engine, name: str, **attrs: Any) -> None:
    """Make sure source ``name`` exists (created with ``attrs``: kind, spider, lang, url)."""
    from db.session import session_scope

    with session_scope(engine) as s:
        get_or_create_source(s, name, **attrs)


def open_run(engine: Engine, source: str, kind: str = "crawl", **attrs: Any) -> int:
    """Open a crawl/import run of ``source`` (status running, the source created if new); its id."""
    from db.session import session_scope

    with session_scope(engine) as s:
        return start_run(s, source, kind=kind, **attrs).id


def close_run(engine: Engine, run_id: int, status: str, stats: dict[str, Any] | None = None,
              error: str | None = None) -> None:
    """Close run ``run_id`` with its final status, counters and error text."""
    from db.session import session_scope

    with session_scope(engine) as s:
        finish_run(s, run_id, status, stats, error)


def read_run(engine: Engine, run_id: int) -> RunRecord | None:
    """Run ``run_id`` as ``crawl_runs`` holds it, or None."""
    from db.session import session_scope

    with session_scope(engine) as s:
        return get_run(s, run_id)


def close_stale_runs(engine: Engine, source: str, run_id: int, error: str) -> list[int]:
    """``close_stale_crawls`` in its own transaction."""
    from db.session import session_scope

    with session_scope(engine) as s:
        return close_stale_crawls(s, source, run_id, error)


def last_seen(engine: Engine, source: str) -> Iterator[tuple[str, str | None, datetime]]:
    """(external id, URL, last_seen) of every stored posting of ``source``, streamed."""
    from db.session import session_scope

    with session_scope(engine) as s:
        yield from iter_last_seen(s, source)


def touch_seen(engine: Engine, source: str, external_ids: Sequence[str], urls: Sequence[str],
               now: datetime) -> int:
    """``touch_last_seen`` in its own transaction; how many rows matched."""
    from db.session import session_scope

    with session_scope(engine) as s:
        return touch_last_seen(s, source, external_ids, urls, now)


def store_batch(engine: Engine, postings: Sequence[PostingIn], crawl_run_id: int | None = None) -> UpsertResult:
    """Upsert ``postings`` in one transaction (all or none)."""
    from db.session import session_scope

    with session_scope(engine) as s:
        return upsert_postings(s, postings, crawl_run_id)


def store_each(engine: Engine, postings: Sequence[PostingIn],
               crawl_run_id: int | None = None) -> tuple[UpsertResult, list[tuple[int, str]]]:
    """Upsert ``postings`` one transaction each, so a row the database refuses takes no other with it;
    returns the summed counts and (index in ``postings``, the database's one-line reason) of each refused row."""
    from sqlalchemy.exc import DBAPIError

    total, refused = UpsertResult(), []
    for i, p in enumerate(postings):
        try:
            total += store_batch(engine, [p], crawl_run_id)
        except DBAPIError as exc:
            refused.append((i, (str(exc.orig).strip().splitlines() or ["database error"])[0]))
    return total, refused


def store_or_each(engine: Engine, postings: Sequence[PostingIn],
                  crawl_run_id: int | None = None) -> tuple[UpsertResult, list[tuple[int, str]]]:
    """Upsert ``postings`` in one transaction; if the database refuses the batch, row by row
    (``store_each``), so one bad row is refused and the others are stored."""
    from sqlalchemy.exc import DBAPIError

    try:
        return store_batch(engine, postings, crawl_run_id), []
    except DBAPIError:
        return store_each(engine, postings, crawl_run_id)
