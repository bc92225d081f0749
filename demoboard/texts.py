"""Typed access to the demo board's vocabulary (role texts, companies, benefits) stored as YAML data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from labourwatch.contract import vocabulary as vocabulary_of_taxonomy

# The board's truth speaks the taxonomy's vocabulary: codes and the new-economy group come from its data file.
ROLE_CODES: tuple[str, ...] = vocabulary_of_taxonomy().role_codes
NEW_ECONOMY: frozenset[str] = frozenset(vocabulary_of_taxonomy().groups["new_economy"])
_ROLE_FILES = ("roles_tech.yaml", "roles_creative.yaml", "roles_other.yaml")


@dataclass(frozen=True, slots=True)
class Variant:
    """A coherent sub-role of a category: its titles, duties and requirements in both languages."""

    category: str
    name: str
    weight: float
    industries: tuple[str, ...]
    salary: tuple[float, float]
    edu: tuple[tuple[str, float], ...]
    domain_zh: str
    domain_en: str
    titles_zh: tuple[str, ...]
    titles_en: tuple[str, ...]
    duties_zh: tuple[str, ...]
    reqs_zh: tuple[str, ...]
    duties_en: tuple[str, ...]
    reqs_en: tuple[str, ...]
    entry_only: bool = False
    skills_only: bool = False


@dataclass(frozen=True, slots=True)
class CategoryTexts:
    """All texts of one role category, with its lines for each AI level."""

    code: str
    variants: tuple[Variant, ...]
    ai_tools_zh: tuple[str, ...]
    ai_tools_en: tuple[str, ...]
    ai_skills_zh: tuple[str, ...]
    ai_skills_en: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Industry:
    """Company-name words and business focus phrases of one industry."""

    name: str
    words_zh: tuple[str, ...]
    words_en: tuple[str, ...]
    focus_zh: tuple[str, ...]
    focus_en: tuple[str, ...]
    ai_always: bool


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Everything the generator draws words from."""

    categories: dict[str, CategoryTexts]
    industries: dict[str, Industry]
    common: dict[str, Any]


def _load_yaml(name: str) -> dict[str, Any]:
    text = resources.files("demoboard").joinpath("data", name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)
    if not isinstance(data, dict):
        raise ValueError(f"demoboard/data/{name}: expected a mapping at the top level")
    return data


def _tuple(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        raise ValueError(f"{where}: missing key {key!r}")
    return tuple(str(v) for v in value)


def _variant(code: str, raw: dict[str, Any]) -> Variant:
    where = f"demoboard role data, {code}/{raw.get('name', '?')}"
    lo, hi = raw["salary"]
    return Variant(
        category=code, name=str(raw["name"]), weight=float(raw.get("weight", 1)),
        industries=_tuple(raw, "industries", where), salary=(float(lo), float(hi)),
        edu=tuple((str(k), float(v)) for k, v in raw["edu"].items()),
        domain_zh=str(raw["domain_zh"]), domain_en=str(raw["domain_en"]),
        titles_zh=_tuple(raw, "titles_zh", where), titles_en=_tuple(raw, "titles_en", where),
        duties_zh=_tuple(raw, "duties_zh", where), reqs_zh=_tuple(raw, "reqs_zh", where),
        duties_en=_tuple(raw, "duties_en", where), reqs_en=_tuple(raw, "reqs_en", where),
        entry_only=bool(raw.get("entry_only", False)), skills_only=bool(raw.get("skills_only", False)),
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Load and validate the packaged vocabulary once per process."""
    categories: dict[str, CategoryTexts] = {}
    for name in _ROLE_FILES:
        for code, raw in _load_yaml(name).items():
            if code not in ROLE_CODES:
                raise ValueError(f"demoboard/data/{name}: unknown role code {code!r}")
            categories[code] = CategoryTexts(
                code=code, variants=tuple(_variant(code, v) for v in raw["variants"]),
                ai_tools_zh=tuple(raw.get("ai_tools_zh") or ()), ai_tools_en=tuple(raw.get("ai_tools_en") or ()),
                ai_skills_zh=tuple(raw.get("ai_skills_zh") or ()),
                ai_skills_en=tuple(raw.get("ai_skills_en") or ()),
            )
    missing = [c for c in ROLE_CODES if c not in categories]
    if missing:
        raise ValueError(f"demoboard role data lacks categories {missing}")
    common = _load_yaml("common.yaml")
    industries = {
        name: Industry(name=name, words_zh=tuple(raw["zh"]), words_en=tuple(raw["en"]),
                       focus_zh=tuple(raw["focus_zh"]), focus_en=tuple(raw["focus_en"]),
                       ai_always=bool(raw.get("ai_always", False)))
        for name, raw in common["industries"].items()
    }
    for cat in categories.values():
        for v in cat.variants:
            unknown = [i for i in v.industries if i not in industries]
            if unknown:
                raise ValueError(f"demoboard role data {cat.code}/{v.name}: unknown industries {unknown}")
    return Vocabulary(categories=categories, industries=industries, common=common)
