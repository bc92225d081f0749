"""Board categories → taxonomy codes, from the shipped, versioned mapping table (resources/board_categories.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.segment import RESOURCES
from models.taxonomy import load_taxonomy, load_yaml

BOARD_CATEGORIES_FILE = RESOURCES / "board_categories.yaml"
_SEP = re.compile(r"\s*(?:>|›|»|/|\\)\s*")


@dataclass(frozen=True)
class BoardDecision:
    """What a board category says: ``codes`` is one code (the board decides) or several (the board narrows the
    text's choice); ``key`` is the category level that matched."""

    codes: tuple[str, ...]
    key: str
    narrow_only: bool = False  # the board's categories never decide alone (its table says narrow_only)

    @property
    def decides(self) -> bool:
        return len(self.codes) == 1 and not self.narrow_only


def _norm(path: str) -> str:
    return "/" + _SEP.sub("/", path.strip().lower()).strip("/") + "/"


class BoardCategoryMap:
    """The mapping table: ``lookup(category, source)`` → a ``BoardDecision`` or None (unmapped/ambiguous)."""

    def __init__(self, path: Path = BOARD_CATEGORIES_FILE) -> None:
        data = load_yaml(path)
        self.version = str(data.get("version", "0"))
        codes = set(load_taxonomy().codes)
        self.boards: dict[str, list[tuple[str, tuple[str, ...] | None]]] = {}
        self.suffixes: dict[str, list[tuple[str, str]]] = {}
        self.parents: set[str] = {str(b) for b, spec in (data.get("boards") or {}).items() if spec.get("parents")}
        self.narrow_only = {str(b) for b, spec in (data.get("boards") or {}).items() if spec.get("narrow_only")}
        for board, spec in (data.get("boards") or {}).items():
            for key, value in (spec.get("suffixes") or {}).items():
                if value not in codes:
                    raise ValueError(f"{path}: board {board!r} suffix {key!r} maps to {value!r}, not a taxonomy code")
                self.suffixes.setdefault(str(board), []).append((str(key).lower() + "/", str(value)))
            entries: list[tuple[str, tuple[str, ...] | None]] = []
            for key, value in (spec.get("levels") or {}).items():
                vals = None if value is None else tuple([value] if isinstance(value, str) else value)
                bad = [v for v in vals or () if v not in codes]
                if bad:
                    raise ValueError(f"{path}: board {board!r} category {key!r} maps to codes not in the taxonomy: {bad}")
                entries.append((_norm(str(key)), vals))
            self.boards[str(board)] = entries
        self._cached = lru_cache(maxsize=20_000)(self._lookup)

    def _lookup(self, category: str, source: str | None) -> BoardDecision | None:
        path = _norm(category)
        if path == "//":
            return None
        boards = [source] if source in self.boards else list(self.boards)
        best: tuple[int, int, str, tuple[str, ...] | None, str] | None = None
        for board in boards:
            for key, vals in self.boards[board]:
                at = path.rfind(key)
                if at < 0 or (board not in self.parents and at + len(key) != len(path)):
                    continue
                # deepest level first (where the match ends), then the longest key
                rank = (at + len(key), len(key))
                if best is None or rank > best[:2]:
                    best = (rank[0], rank[1], key, vals, board)
            if best is not None and source in self.boards:
                break
        if best is None:
            for board in boards:
                for suffix, code in self.suffixes.get(board, []):
                    if path.endswith(suffix):
                        return BoardDecision((code,), path.strip("/").split("/")[-1], board in self.narrow_only)
            return None
        if best[3] is None:
            return None
        return BoardDecision(best[3], best[2].strip("/"), best[4] in self.narrow_only)

    def lookup(self, category: str | None, source: str | None = None) -> BoardDecision | None:
        """The decision for a board's category path (levels joined by "/" or " > "), None when unmapped or
        ambiguous. ``source`` names the board's table; without it (or unknown) every board's table is tried."""
        if not category or not str(category).strip():
            return None
        board = source.lower().split("-")[0] if source else None
        return self._cached(str(category), board)


@lru_cache(maxsize=1)
def load_board_map() -> BoardCategoryMap:
    """The shipped mapping table (loaded once)."""
    return BoardCategoryMap()
