"""One path for every posting, crawled or imported: RawPosting → normalise → validate → PostingIn or Rejected.

The Scrapy pipelines run these steps one per pipeline (to count each in the crawl stats); the importer runs
them at once through ``to_posting_in``. Nothing here imports Scrapy or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from labourwatch.contract import PostingIn
from scrapers.items import Posting, RawPosting, Rejected
from scrapers.normalise import today_in
from scrapers.pipelines.normalise import normalise_posting

if TYPE_CHECKING:
    from scrapers.config import SourceConfig

MAX_EXTERNAL_ID = 200


@dataclass(frozen=True, slots=True)
class PostingRules:
    """How one source's postings are read: its timezone (dates), default language and country rules."""

    tz: str = "Asia/Shanghai"
    default_lang: str | None = None
    default_country: str | None = None
    country_from_location: bool = False
    country_by_lang: Mapping[str, str] | None = None

    @classmethod
    def of(cls, source: SourceConfig | None) -> PostingRules:
        """The rules of a configured source (``country: multi`` reads each posting's own country)."""
        if source is None:
            return cls()
        multi = source.country == "multi"
        return cls(tz=source.timezone, default_lang=source.lang, default_country=None if multi else source.country,
                   country_from_location=multi or source.country_from_location,
                   country_by_lang=source.country_by_lang or None)


def normalise(raw: RawPosting, rules: PostingRules) -> Posting:
    """``normalise_posting`` under ``rules``."""
    return normalise_posting(raw, tz=rules.tz, default_lang=rules.default_lang,
                             default_country=rules.default_country,
                             country_from_location=rules.country_from_location,
                             country_by_lang=rules.country_by_lang)


def check_posting(p: Posting, *, tz: str = "Asia/Shanghai") -> tuple[Posting, list[str], list[str]]:
    """(cleaned posting, failing required fields, failing optional fields).

    A required failure (no external id, no title, an id longer than the store allows) drops the posting;
    an optional failure (a posting date after today plus LABOURWATCH_DATE_FUTURE_DAYS or before
    LABOURWATCH_DATE_FLOOR, salary min above max, a negative salary) clears
    that field and keeps the posting.
    """
    required: list[str] = []
    optional: list[str] = []
    if not p.external_id:
        required.append("external_id")
    elif len(p.external_id) > MAX_EXTERNAL_ID:
        required.append("external_id_length")
    if not p.title:
        required.append("title")
    changes: dict[str, Any] = {}
    if p.posted_at is not None:
        from labourwatch.settings import get_settings

        lw = get_settings()
        if (p.posted_at > today_in(tz) + timedelta(days=lw.date_future_days)
                or p.posted_at < date.fromisoformat(lw.date_floor)):
            optional.append("posted_at")  # an impossible date: the posting counts by its first-seen day
            changes["posted_at"] = None
    lo, hi = p.salary_min, p.salary_max
    if (lo is not None and lo < 0) or (hi is not None and hi < 0) or (lo is not None and hi is not None and lo > hi):
        optional.append("salary")
        changes.update(salary_min=None, salary_max=None)
    if p.salary_period not in (None, "hour", "day", "week", "month", "year"):
        optional.append("salary_period")
        changes["salary_period"] = None
    return (replace(p, **changes) if changes else p), required, optional


def as_posting_in(p: Posting) -> PostingIn:
    """A validated Posting as the store's input (the two records have the same fields)."""
    return PostingIn(**{f.name: getattr(p, f.name) for f in fields(p)})


def _why(p: Posting, failure: str) -> str:
    if failure == "external_id_length":
        return f"external id is {len(p.external_id or '')} characters long (at most {MAX_EXTERNAL_ID})"
    return f"missing {failure.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class Checked:
    """A normalised posting after validation: ready to store or rejected, and which fields failed."""

    posting: PostingIn | None
    rejected: Rejected | None
    required: tuple[str, ...] = ()  # failures that rejected it
    optional: tuple[str, ...] = ()  # failures whose field was cleared

    @property
    def result(self) -> PostingIn | Rejected:
        out = self.posting if self.posting is not None else self.rejected
        assert out is not None
        return out


def validate_posting(p: Posting, *, tz: str = "Asia/Shanghai") -> Checked:
    """``p`` checked (``check_posting``): a PostingIn, or a Rejected whose reason is ``missing_<first failure>``."""
    cleaned, required, optional = check_posting(p, tz=tz)
    if required:
        rejected = Rejected(source=p.source, url=p.url or "", reason=f"missing_{required[0]}",
                            detail="; ".join(_why(p, f) for f in required))
        return Checked(None, rejected, tuple(required), tuple(optional))
    return Checked(as_posting_in(cleaned), None, (), tuple(optional))


def to_posting_in(raw: RawPosting, rules: PostingRules | None = None) -> PostingIn | Rejected:
    """One raw posting through the whole path: normalised under ``rules``, validated, ready to store."""
    rules = rules or PostingRules()
    return validate_posting(normalise(raw, rules), tz=rules.tz).result
