"""The role taxonomy as data: codes, names, ISCO-08 anchors, example titles and groups (taxonomy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from labourwatch.contract import AI_LEVELS, EXPERIENCE_BUCKETS, TAXONOMY_FILE  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Category:
    """One role category."""

    code: str
    zh: str
    en: str
    isco: tuple[str, ...]
    description: str
    examples_zh: tuple[str, ...]
    examples_en: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """The versioned taxonomy; ``groups`` maps a group name (``new_economy``, ``all``) to its codes."""

    version: str
    categories: tuple[Category, ...]
    groups: dict[str, tuple[str, ...]]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(f"unknown role category {code!r}; known: {', '.join(self.codes)}")


def load_yaml(path: Path) -> Any:
    """A YAML file's data, parsed by libyaml's C parser where PyYAML has it (the safe loader's results, 4-5x
    faster: the training banks are large)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506  (a safe loader)


def _load(path: Path) -> Taxonomy:
    data = load_yaml(path)
    cats = []
    for i, c in enumerate(data.get("categories") or []):
        missing = {"code", "zh", "en", "isco", "description"} - set(c)
        if missing:
            raise ValueError(f"{path}: category #{i + 1} lacks {sorted(missing)}")
        ex = c.get("examples") or {}
        cats.append(Category(c["code"], c["zh"], c["en"], tuple(str(x) for x in c["isco"]), c["description"],
                             tuple(ex.get("zh", ())), tuple(ex.get("en", ()))))
    codes = [c.code for c in cats]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{path}: duplicate category codes")
    groups = {k: tuple(v) for k, v in (data.get("groups") or {}).items()}
    for name, members in groups.items():
        unknown = set(members) - set(codes)
        if unknown:
            raise ValueError(f"{path}: group {name!r} names unknown codes {sorted(unknown)}")
    groups["all"] = tuple(codes)
    return Taxonomy(str(data["version"]), tuple(cats), groups)


@lru_cache(maxsize=4)
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy from ``path`` (default: the packaged taxonomy.yaml)."""
    return _load(path or TAXONOMY_FILE)


TAXONOMY_VERSION: str = load_taxonomy().version
