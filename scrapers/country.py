"""Which market (ISO 3166-1 alpha-2 country) a posting belongs to: page address, source config, or language."""

from __future__ import annotations

from collections.abc import Mapping

# Spellings of the markets this project reads, as boards publish them in addresses; anything else that is
# already two letters is taken as a code.
_ALIASES = {
    "CHINA": "CN", "PRC": "CN", "中国": "CN", "中华人民共和国": "CN", "CHN": "CN", "MAINLAND CHINA": "CN",
    "UK": "GB", "UNITED KINGDOM": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB",
    "NORTHERN IRELAND": "GB", "GBR": "GB", "英国": "GB",
    "USA": "US", "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "美国": "US",
    "HONG KONG": "HK", "香港": "HK", "SINGAPORE": "SG", "新加坡": "SG", "GERMANY": "DE", "DEUTSCHLAND": "DE",
    "FRANCE": "FR", "IRELAND": "IE", "CANADA": "CA", "AUSTRALIA": "AU", "JAPAN": "JP", "日本": "JP",
}


def normalise_country(value: str | None) -> str | None:
    """An ISO alpha-2 code from a code or a common country name (``"UK"`` -> ``GB``); None when unknown."""
    if value is None:
        return None
    v = str(value).strip()
    if not v:
        return None
    up = v.upper()
    if up in _ALIASES:
        return _ALIASES[up]
    if len(up) == 2 and up.isalpha() and up.isascii():
        return "GB" if up == "UK" else up
    return None


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
