"""Country names, codes and place strings to ISO 3166-1 alpha-2 codes (pycountry), for multi-country feeds."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# Names boards write that pycountry does not know by that spelling.
_ALIASES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US", "america": "US", "uk": "GB",
    "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB", "britain": "GB",
    "deutschland": "DE", "österreich": "AT", "schweiz": "CH", "suisse": "CH", "nederland": "NL",
    "españa": "ES", "italia": "IT", "россия": "RU", "russia": "RU", "south korea": "KR", "korea": "KR",
    "vietnam": "VN", "taiwan": "TW", "czech republic": "CZ", "türkiye": "TR", "turkey": "TR",
    "中国": "CN", "中国大陆": "CN", "香港": "HK", "台湾": "TW", "日本": "JP", "新加坡": "SG", "美国": "US",
    "英国": "GB", "德国": "DE", "澳大利亚": "AU",
}


@lru_cache(maxsize=4096)
def country_code(text: str | None) -> str | None:
    """The alpha-2 code of one country name or code (``Germany``, ``DE``, ``DEU``, ``USA``, ``中国``);
    None when ``text`` is not one country."""
    if not text:
        return None
    t = text.strip().strip(".").strip()
    if not t:
        return None
    if alias := _ALIASES.get(t.lower()):
        return alias
    if len(t) == 2 and t.isalpha():
        c = pycountry.countries.get(alpha_2=t.upper())
        return c.alpha_2 if c else None
    if len(t) == 3 and t.isalpha() and t.isupper():
        c = pycountry.countries.get(alpha_3=t)
        return c.alpha_2 if c else None
    try:
        return pycountry.countries.lookup(t).alpha_2
    except LookupError:
        return None


def country_of_place(place: str | None) -> str | None:
    """The one country a place string names (``Berlin, Germany``, ``USA, CST (UTC-6)``, ``Remote - UK``);
    None when it names none or several (``Worldwide``, ``USA, Canada``)."""
    if not place:
        return None
    found = {c for part in re.split(r"[,;/|()\-–·]+", place) if (c := country_code(part))}
    return found.pop() if len(found) == 1 else None
