"""Which market (ISO 3166-1 alpha-2 country) a posting belongs to: page address, source config, or language."""

from __future__ import annotations

from collections.abc import Mapping

from scrapers.countries import country_code


def normalise_country(value: str | None) -> str | None:
    """An ISO alpha-2 code from a code or a country name (``"UK"`` -> ``GB``, ``"中国"`` -> ``CN``); None when unknown."""
    return country_code(str(value)) if value is not None else None


def assign_country(address_country: str | None, source_country: str | None = None,
                   lang: str | None = None, country_by_lang: Mapping[str, str] | None = None) -> str | None:
    """The posting's market: the address on the page, else the source's configured country, else the
    source's language rule (``{"zh": "CN", "en": "GB"}`` for a bilingual board); None if nothing says."""
    for cand in (address_country, source_country):
        code = normalise_country(cand)
        if code:
            return code
    if lang and country_by_lang:
        return normalise_country(country_by_lang.get(lang) or country_by_lang.get(lang.split("-")[0]))
    return None
