"""Pure parsers, one module per spider slug: a response or decoded payload in, typed items out."""

from __future__ import annotations

import hashlib
from typing import Any


class ParseError(ValueError):
    """A page or payload holds no usable posting; ``reason`` is the short slug counted in crawl stats."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def sha256(data: bytes | str) -> str:
    """Hex SHA-256 of a payload (the ``raw_hash`` provenance field)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def get_path(obj: Any, path: str | None) -> Any:
    """The value at a dotted path (``content.result``, ``items.0.id``); None when any step is missing.
    ``*`` maps the rest of the path over a list (``departments.*.name`` -> a list of names)."""
    if not path:
        return obj
    cur = obj
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part == "*":
            if isinstance(cur, dict):
                cur = [cur]  # one element where a list was expected (XML feeds)
            if not isinstance(cur, list):
                return None
            rest = ".".join(parts[i + 1:])
            out = [get_path(v, rest) for v in cur]
            flat = [x for v in out for x in (v if isinstance(v, list) else [v]) if x not in (None, "")]
            return flat or None
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.lstrip("-").isdigit():
            idx = int(part)
            cur = cur[idx] if -len(cur) <= idx < len(cur) else None
        else:
            return None
        if cur is None:
            return None
    return cur


def as_text(value: Any) -> str | None:
    """A scalar as a stripped string; lists are joined with ', '; empty becomes None."""
    if value is None:
        return None
    if isinstance(value, list):
        parts = [t for v in value if (t := as_text(v))]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        return as_text(value.get("name") or value.get("value") or value.get("text"))
    text = str(value).strip()
    return text or None
