"""Every posting gets a market: the page's address, else the source's country, else its language rule."""

from __future__ import annotations

import json

import pytest

from scrapers.config import SourceConfigError, parse_source
from scrapers.country import assign_country, normalise_country
from scrapers.items import RawPosting
from scrapers.parsers.jobposting import posting_from_node, read_country
from scrapers.pipelines.normalise import normalise_posting
from scrapers.pipelines.posting import as_posting_in


def test_normalise_country_codes_and_names() -> None:
    assert normalise_country("United Kingdom") == "GB" and normalise_country("uk") == "GB"
    assert normalise_country("中国") == "CN" and normalise_country("cn") == "CN"
    assert normalise_country("Atlantis") is None and normalise_country("") is None


def test_address_beats_source_beats_language() -> None:
    assert assign_country("GB", "CN", "zh", {"zh": "CN"}) == "GB"
    assert assign_country(None, "CN", "en", {"en": "GB"}) == "CN"
    assert assign_country(None, None, "en", {"zh": "CN", "en": "GB"}) == "GB"
    assert assign_country(None, None, "en-GB", {"en": "GB"}) == "GB"
    assert assign_country(None, None, "fr", {"en": "GB"}) is None


def test_jobposting_address_country_reaches_the_store() -> None:
    node = json.loads('{"@type": "JobPosting", "title": "Data engineer", "datePosted": "2026-03-02", '
                      '"jobLocation": {"@type": "Place", "address": {"addressLocality": "Leeds", '
                      '"addressCountry": {"@type": "Country", "name": "UK"}}}, "identifier": "x1"}')
    assert read_country(node) == "UK"
    raw = posting_from_node(node, url="http://b/jobs/x1.html", source="s")
    p = normalise_posting(raw, country_by_lang={"zh": "CN"})
    assert p.country == "GB" and as_posting_in(p).country == "GB"
    bare = RawPosting(source="s", external_id="2", url="u", title="店长", lang="zh")
    assert normalise_posting(bare, country_by_lang={"zh": "CN", "en": "GB"}).country == "CN"
    assert normalise_posting(bare, default_country="cn").country == "CN"


def test_source_config_checks_country_codes() -> None:
    base = {"name": "x", "spider": "jobposting", "start_urls": ["http://x/"]}
    assert parse_source({**base, "country": "GB"}, "here").country == "GB"
    assert parse_source({**base, "country_by_lang": {"en": "UK"}}, "here").country_by_lang == {"en": "GB"}
    with pytest.raises(SourceConfigError, match="not an ISO 3166"):
        parse_source({**base, "country": "Narnia"}, "here")
    with pytest.raises(SourceConfigError, match="country_by_lang"):
        parse_source({**base, "country_by_lang": {"en": "Narnia"}}, "here")
