"""Config-driven parser for paginated JSON search APIs: list pages and detail payloads to postings."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from scrapers.config import JsonApiConfig
from scrapers.items import RawPosting
from scrapers.parsers import ParseError, as_text, get_path, sha256

ITEM_FIELDS = {f for f in RawPosting.__dataclass_fields__ if f not in ("source", "external_id", "url", "raw_hash")}


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a search API: its entries (raw dicts) and the total count when the API states it."""

    entries: tuple[dict[str, Any], ...]
    total: int | None


def load_json(body: str, url: str, ok_path: str | None = None) -> Any:
    """Decode a JSON body; ParseError ``invalid_json`` or ``api_error`` (the ``ok_path`` flag is false)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"{url}: {exc}") from exc
    if ok_path and not get_path(data, ok_path):
        raise ParseError("api_error", f"{url}: {ok_path} is {get_path(data, ok_path)!r}")
    return data


def parse_list(body: str, url: str, api: JsonApiConfig) -> ListPage:
    """Entries and total of one list page, as configured by ``api`` (items_path, total_path, ok_path)."""
    data = load_json(body, url, api.ok_path)
    entries = get_path(data, api.items_path)
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ParseError("api_error", f"{url}: {api.items_path} is not a list")
    total = get_path(data, api.total_path) if api.total_path else None
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return ListPage(tuple(e for e in entries if isinstance(e, dict)), total)


def entry_id(entry: dict[str, Any], api: JsonApiConfig) -> str | None:
    value = get_path(entry, api.id_field)
    return None if value in (None, "") else str(value)


def map_fields(obj: dict[str, Any], mapping: dict[str, str]) -> dict[str, str | None]:
    """Item fields from a JSON object through a {item field: dotted path} mapping."""
    out: dict[str, str | None] = {}
    for field, path in mapping.items():
        if field not in ITEM_FIELDS:
            raise ValueError(f"field mapping names {field!r}, which is not a posting field: {sorted(ITEM_FIELDS)}")
        out[field] = as_text(get_path(obj, path))
    return out


def posting_from_entry(entry: dict[str, Any], api: JsonApiConfig, *, source: str, url: str | None,
                       lang: str | None) -> RawPosting:
    """A RawPosting from one list entry (before any detail follow-up)."""
    values = map_fields(entry, api.fields)
    values.setdefault("lang", lang)
    if values.get("lang") is None:
        values["lang"] = lang
    payload = json.dumps(entry, sort_keys=True, ensure_ascii=False)
    return RawPosting(source=source, external_id=entry_id(entry, api), url=url, raw_hash=sha256(payload),
                      **values)


def merge_detail(base: RawPosting, body: str, url: str, api: JsonApiConfig) -> RawPosting:
    """The list-level posting completed with the detail payload's mapped fields (detail wins when set)."""
    assert api.detail is not None
    data = load_json(body, url, api.detail.ok_path)
    obj = get_path(data, api.detail.path)
    if not isinstance(obj, dict):
        raise ParseError("api_error", f"{url}: {api.detail.path or 'the body'} is not an object")
    values = {k: v for k, v in map_fields(obj, api.detail.fields).items() if v is not None}
    detail_hash = sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False))
    return replace(base, raw_hash=detail_hash, **values)


def fill_template(template: str, entry: dict[str, Any], ext_id: str) -> str:
    """A URL template with ``{id}`` and any top-level entry field filled in."""
    fields = {k: v for k, v in entry.items() if isinstance(v, str | int | float)}
    fields["id"] = ext_id
    try:
        return template.format(**fields)
    except (KeyError, IndexError) as exc:
        raise ParseError("api_error", f"URL template {template!r} names {exc}, missing from the entry") from exc
