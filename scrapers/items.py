"""Typed items that flow from parsers through the pipelines: raw, normalised, rejected, seen-unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class RawPosting:
    """A posting as a parser read it from a page or API: strings as published, nothing normalised."""

    source: str
    external_id: str | None
    url: str | None
    title: str | None
    company: str | None = None
    location: str | None = None
    description: str | None = None  # HTML or text
    date_posted: str | None = None
    salary_text: str | None = None
    salary_min: float | None = None  # structured values from the page (JSON-LD baseSalary, Lever salaryRange)
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: str | None = None
    experience_text: str | None = None
    education_text: str | None = None
    employment_type: str | None = None
    lang: str | None = None
    raw_hash: str | None = None  # sha256 of the payload the posting came from
    country: str | None = None  # the address's country as published (code or name)


@dataclass(frozen=True, slots=True)
class Posting:
    """A normalised posting: what validation checks and the store pipeline turns into ``db.repo.PostingIn``."""

    source: str
    external_id: str | None
    url: str | None
    title: str | None
    company: str | None = None
    city: str | None = None
    lang: str | None = None
    description: str | None = None
    salary_text: str | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_period: str | None = None
    salary_currency: str | None = None
    experience_text: str | None = None
    education_text: str | None = None
    employment_type: str | None = None
    posted_at: date | None = None
    raw_hash: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 market (address, source config or language rule)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A page that held no usable posting (broken JSON-LD, invalid JSON): counted by reason, then dropped."""

    source: str
    url: str
    reason: str  # short slug: no_jobposting | invalid_json | api_error | ...
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SeenUnchanged:
    """Postings listed again whose detail page was not refetched (lastmod/updateTime not newer than
    the stored copy): the store pipeline only moves their ``last_seen``."""

    source: str
    external_ids: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
