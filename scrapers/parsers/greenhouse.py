"""Greenhouse job-board API (boards-api.greenhouse.io/v1/boards/<board>/jobs?content=true) to postings."""

from __future__ import annotations

import json
from typing import Any

from scrapers.items import RawPosting
from scrapers.parsers import ParseError, as_text, sha256


def _metadata(job: dict[str, Any], *names: str) -> str | None:
    for m in job.get("metadata") or []:
        if isinstance(m, dict) and str(m.get("name", "")).lower() in names:
            return as_text(m.get("value"))
    return None


def parse_jobs(body: str, url: str, source: str, company: str | None = None,
               lang: str | None = None) -> tuple[RawPosting, ...]:
    """Every job of a board's ``/jobs`` response (``content`` is HTML-escaped HTML; kept for normalise)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"{url}: {exc}") from exc
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        raise ParseError("api_error", f"{url}: no 'jobs' list in the Greenhouse response")
    out = []
    for job in jobs:
        if not isinstance(job, dict):
            continue
        loc = job.get("location")
        out.append(RawPosting(
            source=source,
            external_id=as_text(job.get("id")),
            url=as_text(job.get("absolute_url")) or url,
            title=as_text(job.get("title")),
            company=company or as_text(job.get("company_name")),
            location=as_text(loc.get("name") if isinstance(loc, dict) else loc),
            description=job.get("content"),
            date_posted=as_text(job.get("first_published") or job.get("updated_at")),
            salary_text=_metadata(job, "salary", "salary range", "compensation"),
            employment_type=_metadata(job, "employment type", "commitment"),
            lang=lang or as_text(job.get("language")),
            raw_hash=sha256(json.dumps(job, sort_keys=True, ensure_ascii=False)),
            board_category="/".join(n for d in job.get("departments") or []
                                    if isinstance(d, dict) and (n := as_text(d.get("name")))) or None,
        ))
    return tuple(out)


def total(body: str) -> int | None:
    """``meta.total`` of a response (how many jobs the board lists)."""
    try:
        meta = json.loads(body).get("meta") or {}
        return int(meta["total"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
