"""Lever postings API (api.lever.co/v0/postings/<company>?mode=json) to postings."""

from __future__ import annotations

import json
from typing import Any

from scrapers.items import RawPosting
from scrapers.parsers import ParseError, as_text, sha256

_INTERVALS = {"per-hour-wage": "hour", "per-day-wage": "day", "per-week-salary": "week",
              "per-month-salary": "month", "per-year-salary": "year", "one-time": None}


def _description(p: dict[str, Any]) -> str | None:
    """Lever splits a posting into description, titled lists and closing text: join them as HTML."""
    parts = []
    if p.get("description"):
        parts.append(str(p["description"]))
    elif p.get("descriptionPlain"):
        parts.append(f"<p>{p['descriptionPlain']}</p>")
    for lst in p.get("lists") or []:
        if isinstance(lst, dict):
            parts.append(f"<h3>{lst.get('text', '')}</h3><ul>{lst.get('content', '')}</ul>")
    if p.get("additional"):
        parts.append(str(p["additional"]))
    return "\n".join(parts) or None


def parse_postings(body: str, url: str, source: str, company: str | None = None,
                   lang: str | None = None) -> tuple[RawPosting, ...]:
    """Every posting of one Lever response (a JSON list)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"{url}: {exc}") from exc
    if isinstance(data, dict) and data.get("ok") is False:
        raise ParseError("api_error", f"{url}: {data.get('error', 'Lever returned ok=false')}")
    if not isinstance(data, list):
        raise ParseError("api_error", f"{url}: expected a JSON list of postings")
    out = []
    for p in data:
        if not isinstance(p, dict):
            continue
        cats = p.get("categories") or {}
        sal = p.get("salaryRange") or {}
        lo = sal.get("min") if isinstance(sal, dict) else None
        hi = sal.get("max") if isinstance(sal, dict) else None
        currency = as_text(sal.get("currency")) if isinstance(sal, dict) else None
        period = _INTERVALS.get(str(sal.get("interval")), None) if isinstance(sal, dict) else None
        salary_text = None
        if lo is not None or hi is not None:
            salary_text = f"{currency or ''} {lo if lo is not None else ''} - {hi if hi is not None else ''}".strip()
        location = as_text(cats.get("location"))
        if location is None and str(p.get("workplaceType", "")).lower() == "remote":
            location = "Remote"
        out.append(RawPosting(
            source=source,
            external_id=as_text(p.get("id")),
            url=as_text(p.get("hostedUrl")) or url,
            title=as_text(p.get("text")),
            company=company,
            location=location,
            description=_description(p),
            date_posted=as_text(p.get("createdAt")),
            salary_text=salary_text,
            salary_min=float(lo) if isinstance(lo, int | float) else None,
            salary_max=float(hi) if isinstance(hi, int | float) else None,
            salary_currency=currency,
            salary_period=period,
            employment_type=as_text(cats.get("commitment")),
            lang=lang,
            raw_hash=sha256(json.dumps(p, sort_keys=True, ensure_ascii=False)),
            board_category="/".join(t for k in ("department", "team") if (t := as_text(cats.get(k)))) or None,
            country=as_text(p.get("country")),
        ))
    return tuple(out)
