"""Cross-posting deduplication: link postings of the same job to one canonical posting (key rule + SimHash)."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from sqlalchemy import Connection, Engine, text

from db.queries import DuplicateRate, duplicate_rates
from labourwatch.contract import check_month, month_add

log = logging.getLogger(__name__)

MASK64 = (1 << 64) - 1
_KEEP = re.compile(r"[^\w]+", re.UNICODE)
# List markers ("1.", "2、", "(3)", "-", "•") at a line start or after punctuation: boards render one list
# as numbered lines, inline numbers or bullets.
_LIST_MARKER = re.compile(r"(?:^|(?<=[\s：:；;。，,]))[ \t]*(?:[(（]?\d{1,2}(?:[、)）]|\.(?!\d))|[-•*·●▪])[ \t]*",
                          re.MULTILINE)
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


def simhash64(text_: str | None, min_chars: int = 30) -> int | None:
    """A 64-bit SimHash of ``text_`` over character 3-grams (width-folded, lower-cased, punctuation and
    spaces and line-leading list markers removed, so reformatting does not move it); returned as a signed int for a BIGINT column.
    None for texts shorter than ``min_chars`` after normalising (too little evidence)."""
    if not text_:
        return None
    t = _KEEP.sub("", _LIST_MARKER.sub("", unicodedata.normalize("NFKC", text_)).lower())
    if len(t) < min_chars:
        return None
    cp = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = cp[:-2] * _M1 + cp[1:-1] * _M2 + cp[2:] * _M3
        z = np.unique(z)
        # splitmix64 finaliser: spreads the 3-gram key over all 64 bits.
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    bits = np.unpackbits(z.view(np.uint8)).reshape(-1, 64)
    votes = bits.sum(axis=0, dtype=np.int64) * 2 > len(z)
    value = int(np.packbits(votes).view(">u8")[0])
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    """Bits in which two 64-bit SimHashes differ."""
    return ((a ^ b) & MASK64).bit_count()


@dataclass(frozen=True, slots=True)
class DedupeReport:
    """What ``link_duplicates`` did: postings examined, new links by rule, and the rate per source after."""

    since_month: str | None
    examined: int  # canonical postings in scope that were checked
    hashed: int  # SimHashes computed in this run
    linked: int  # new links (postings now pointing to a canonical posting)
    linked_by_key: int
    linked_by_text: int
    seconds: float
    rates: tuple[DuplicateRate, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        rates = ", ".join(f"{r.source} {r.rate:.1%}" for r in self.rates)
        return (f"dedupe{f' from {self.since_month}' if self.since_month else ''}: {self.examined:,} postings "
                f"checked, {self.linked:,} linked ({self.linked_by_key:,} same company+title+city across "
                f"sources, {self.linked_by_text:,} near-identical text) in {self.seconds:.1f}s; duplicate rate: "
                f"{rates or '-'}")


def _day_expr(conn: Connection, alias: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"COALESCE({alias}.posted_at, CAST({alias}.first_seen AS DATE))"
    return f"julianday(COALESCE({alias}.posted_at, {alias}.first_seen))"


def _as_day(v: object) -> int:
    if isinstance(v, datetime):
        return v.date().toordinal()
    if isinstance(v, date):
        return v.toordinal()
    if isinstance(v, float):  # SQLite julianday()
        return int(v - 1721424.5)
    return date.fromisoformat(str(v)[:10]).toordinal()


def link_duplicates(engine: Engine, since_month: str | None = None, window_days: int = 30,
                    max_hamming: int = 3, key_max_hamming: int = 6) -> DedupeReport:
    """Link each not-yet-linked posting (posted from ``since_month`` on; all when None) to the earliest
    canonical posting of the same job; returns a ``DedupeReport`` with the duplicate rate per source.

    Same job = posted within ``window_days`` of each other and either (a) on another source with the
    same company, normalised title and city, and descriptions not clearly different (SimHashes within
    ``key_max_hamming`` bits, or a description missing), or (b) any source, same city, same company or
    normalised title, and descriptions whose SimHashes differ in at most ``max_hamming`` of 64 bits. Postings are
    processed earliest first (posting day, then id) and only link to an earlier posting that is itself canonical, so the result does not
    depend on how runs are batched; a repeat run links nothing more (idempotent).
    """
    t0 = time.perf_counter()
    if since_month is not None:
        check_month(since_month, "since_month")
    if window_days < 0 or not 0 <= max_hamming <= 16:
        raise ValueError(f"window_days must be >= 0 and max_hamming in 0..16, got {window_days}, {max_hamming}")
    with engine.begin() as conn:
        hashed = _fill_simhashes(conn, since_month)
    with engine.connect() as conn:
        scope = " AND p.posted_month >= :since" if since_month else ""
        params: dict = {"since": since_month or "", "w": window_days}
        examined = int(conn.execute(text(
            "SELECT COUNT(*) FROM postings p WHERE p.canonical_id IS NULL" + scope), params).scalar_one())
        candidates: dict[int, dict[int, str]] = defaultdict(dict)
        canonical_now: dict[int, bool] = {}
        dp, dq = _day_expr(conn, "p"), _day_expr(conn, "q")
        order: dict[int, tuple[int, int]] = {}
        for pid, qid, qcanon, ph, qh, pday, qday in conn.execute(text(
                f"SELECT p.id, q.id, q.canonical_id, p.simhash, q.simhash, {dp}, {dq} FROM postings p JOIN postings q "
                "ON q.company = p.company AND q.title_norm = p.title_norm AND q.city = p.city "
                f"AND ({dq} < {dp} OR ({dq} = {dp} AND q.id < p.id)) AND q.source_id <> p.source_id "
                f"WHERE p.canonical_id IS NULL AND p.company IS NOT NULL{scope} AND ABS({dp} - {dq}) <= :w"),
                params):
            order[pid], order[qid] = (_as_day(pday), pid), (_as_day(qday), qid)
            # Same key but clearly different text: two openings with one title (demo board: 12 of 812).
            if ph and qh and hamming(ph, qh) > key_max_hamming:
                continue
            candidates[pid][qid] = "key"
            canonical_now[qid] = qcanon is None
        for pid, qid, qcanon, pkey, qkey in _text_pairs(conn, since_month, window_days, max_hamming):
            candidates[pid].setdefault(qid, "text")
            canonical_now[qid] = qcanon is None
            order[pid], order[qid] = pkey, qkey
    links: list[dict[str, int]] = []
    by_reason = {"key": 0, "text": 0}
    # Earliest first (posting day, then id): a job counts in the period it first appeared in.
    for pid in sorted(candidates, key=order.__getitem__):
        for qid in sorted(candidates[pid], key=order.__getitem__):
            if canonical_now.get(qid, False):
                links.append({"p": pid, "c": qid})
                by_reason[candidates[pid][qid]] += 1
                canonical_now[pid] = False
                break
    if links:
        with engine.begin() as conn:
            conn.execute(text("UPDATE postings SET canonical_id = :c WHERE id = :p AND canonical_id IS NULL"), links)
    report = DedupeReport(since_month, examined, hashed, len(links), by_reason["key"], by_reason["text"],
                          time.perf_counter() - t0, tuple(duplicate_rates(engine)))
    log.info(report.summary())
    return report


def _fill_simhashes(conn: Connection, since_month: str | None, batch: int = 2000) -> int:
    """Compute missing SimHashes (from two months before ``since_month``, so the window is covered)."""
    lo = month_add(since_month, -2) if since_month else ""
    done, last = 0, 0
    while True:
        rows = conn.execute(text(
            "SELECT id, description FROM postings WHERE simhash IS NULL AND description IS NOT NULL "
            "AND id > :last AND (posted_month IS NULL OR posted_month >= :lo) ORDER BY id LIMIT :b"),
            {"last": last, "lo": lo, "b": batch}).all()
        if not rows:
            return done
        last = rows[-1][0]
        # Postings too short to hash get 0 so they are not read again (0 never matches: see _text_pairs).
        values = [{"i": pid, "h": simhash64(desc) or 0} for pid, desc in rows]
        conn.execute(text("UPDATE postings SET simhash = :h WHERE id = :i"), values)
        done += len(values)


def _text_pairs(conn: Connection, since_month: str | None, window_days: int,
                max_hamming: int) -> Iterable[tuple[int, int, int | None, tuple[int, int], tuple[int, int]]]:
    """(posting, earlier posting, its canonical_id, their (day, id) order keys) with near-identical text, month by
    month (bounded memory); "earlier" is by posting day, then id."""
    months = [r[0] for r in conn.execute(text(
        "SELECT DISTINCT posted_month FROM postings WHERE canonical_id IS NULL AND simhash IS NOT NULL "
        "AND simhash <> 0 AND posted_month >= :since ORDER BY posted_month"), {"since": since_month or ""})]
    bands = 4 if max_hamming <= 3 else 8  # pigeonhole: d differing bits leave one of d+1 bands identical
    width = 64 // bands
    for month in months:
        rows = conn.execute(text(
            "SELECT id, source_id, company, title_norm, city, COALESCE(posted_at, first_seen), simhash, canonical_id, "
            "posted_month "
            "FROM postings WHERE posted_month >= :lo AND posted_month <= :hi AND simhash IS NOT NULL "
            "AND simhash <> 0"), {"lo": month_add(month, -2), "hi": month_add(month, 2)}).all()
        index: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            h = r[6] & MASK64
            for b in range(bands):
                index[(b, (h >> (b * width)) & ((1 << width) - 1))].append(i)
        days = [_as_day(r[5]) for r in rows]
        for i, r in enumerate(rows):
            if r[7] is not None or r[8] != month:
                continue
            h = r[6] & MASK64
            seen: set[int] = set()
            for b in range(bands):
                for j in index[(b, (h >> (b * width)) & ((1 << width) - 1))]:
                    if j in seen:
                        continue
                    seen.add(j)
                    q = rows[j]
                    if ((days[j], q[0]) < (days[i], r[0]) and abs(days[i] - days[j]) <= window_days
                            and q[4] == r[4] and (q[2] == r[2] or q[3] == r[3])
                            and hamming(q[6], r[6]) <= max_hamming):
                        yield r[0], q[0], q[7], (days[i], r[0]), (days[j], q[0])

