"""Month arguments of the flows, checked with a clear error (no Prefect, no database here).

The reads the flows use to decide what to recompute live in ``db.progress``; run rows and heartbeats in
``db.runs``.
"""

from __future__ import annotations

from datetime import date, datetime

from labourwatch import contract
from labourwatch.contract import Month


def month_range(start: str, end: str) -> list[str]:
    """Months from ``start`` to ``end`` inclusive, both ``YYYY-MM``; a clear error for bad input or an end
    before the start."""
    first, last = Month.parse(start, "start month"), Month.parse(end, "end month")
    if last < first:
        raise ValueError(f"backfill start {start} is after end {end}")
    return contract.month_range(str(first), str(last))


def previous_month(today: date | datetime) -> str:
    """The month before ``today``'s, as YYYY-MM."""
    return str(Month.of(today) + -1)
