"""Normalise pipeline: RawPosting -> Posting (clean text, dates, salaries, cities, language)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from scrapers.countries import country_code, country_of_place
from scrapers.country import assign_country
from scrapers.items import Posting, RawPosting
from scrapers.normalise import clean_inline, html_to_text, normalise_city, parse_date, parse_salary

_LIMITS = {"title": 500, "company": 500, "city": 200, "salary_text": 200, "experience_text": 200,
           "education_text": 200, "employment_type": 50, "url": 2000,
           "board_category": 300}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _cut(value: str | None, name: str) -> str | None:
    return value[: _LIMITS[name]] if value is not None else None


def detect_lang(*texts: str | None) -> str:
    """``zh`` when the text has Chinese characters, else ``en`` (boards here publish one or the other)."""
    sample = " ".join(t[:2000] for t in texts if t)
    return "zh" if _CJK.search(sample) else "en"


def normalise_lang(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().lower().replace("_", "-")
    return {"chinese": "zh", "english": "en", "中文": "zh", "英文": "en"}.get(v, v.split("-")[0][:8] or None)


_CITY_STATES = {"SG", "HK", "MO", "MC", "VA"}


def _is_country(location: str | None) -> bool:
    """A location that is only a country (``USA``, ``Germany``) names no city."""
    code = country_code(location.strip()) if location else None
    return code is not None and code not in _CITY_STATES


def _employment(value: str | None) -> str | None:
    """``FULL_TIME, Part-time`` → ``full_time,part_time`` (schema.org style codes, comma separated)."""
    if not value:
        return None
    parts = [p.strip().lower().replace("-", "_").replace(" ", "_") for p in value.split(",")]
    return ",".join(p for p in parts if p) or None


def normalise_posting(raw: RawPosting, *, tz: str = "Asia/Shanghai", default_lang: str | None = None,
                      default_country: str | None = None, country_from_location: bool = False,
                      country_by_lang: Mapping[str, str] | None = None) -> Posting:
    """One RawPosting normalised: titles and companies on one line, HTML description to sectioned text,
    dates to ``date``, salary text to min/max/period/currency (structured values from the page win),
    location to a city, language from the page or detected; country from the posting's own country field,
    then (``country_from_location``, for multi-country feeds) the one country its location names, then
    the source's ``default_country``, then its ``country_by_lang`` rule (bilingual boards)."""
    title = clean_inline(raw.title)
    description = html_to_text(raw.description)
    salary_text = clean_inline(raw.salary_text)
    lo, hi, period, currency = raw.salary_min, raw.salary_max, raw.salary_period, raw.salary_currency
    if lo is None and hi is None and salary_text:
        sal = parse_salary(salary_text)
        if sal is not None:
            lo, hi = sal.min, sal.max
            period = period or sal.period
            currency = currency or sal.currency
    lang = normalise_lang(raw.lang) or normalise_lang(default_lang) or detect_lang(title, description)
    emp = clean_inline(raw.employment_type)
    return Posting(
        source=raw.source,
        external_id=str(raw.external_id).strip() if raw.external_id not in (None, "") else None,
        url=_cut(raw.url, "url"),
        title=_cut(title, "title"),
        company=_cut(clean_inline(raw.company), "company"),
        city=_cut(None if _is_country(raw.location) else normalise_city(raw.location), "city"),
        lang=lang,
        description=description,
        salary_text=_cut(salary_text, "salary_text"),
        salary_min=lo,
        salary_max=hi,
        salary_period=period,
        salary_currency=(currency or "").upper()[:3] or None,
        experience_text=_cut(clean_inline(raw.experience_text), "experience_text"),
        education_text=_cut(clean_inline(raw.education_text), "education_text"),
        employment_type=_cut(_employment(emp), "employment_type"),
        posted_at=parse_date(raw.date_posted, tz=tz),
        raw_hash=raw.raw_hash,
        board_category=_cut(clean_inline(raw.board_category), "board_category"),
        country=(country_code(raw.country) or (country_of_place(raw.location) if country_from_location else None)
                 or assign_country(None, default_country, lang, country_by_lang)),
    )


class NormalisePipeline:
    """Turns every RawPosting into a Posting under its source's rules; other items pass through."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._rules: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPosting):
            return item
        from scrapers.pipelines.posting import PostingRules, normalise

        if self._rules is None:
            self._rules = PostingRules.of(getattr(self.crawler.spider, "source", None))
        return normalise(item, self._rules)
