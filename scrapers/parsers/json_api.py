"""Config-driven parser for paginated JSON search APIs: list pages and detail payloads to postings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from xml.etree import ElementTree

from parsel import Selector

from scrapers.config import JsonApiConfig
from scrapers.countries import country_of_place
from scrapers.items import RawPosting
from scrapers.parsers import ParseError, as_text, get_path, sha256

# How the values of a field mapped from several paths (or a list) are joined.
_JOIN = {"board_category": "/", "description": "\n\n"}

ITEM_FIELDS = {f for f in RawPosting.__dataclass_fields__ if f not in ("source", "external_id", "url", "raw_hash")}


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a search API: its entries (raw dicts) and the total count when the API states it."""

    entries: tuple[dict[str, Any], ...]
    total: int | None


def _element(el: ElementTree.Element) -> Any:
    children = list(el)
    if not children:
        return (el.text or "").strip() or None
    out: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in out:
            prev = out[child.tag]
            out[child.tag] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[child.tag] = value
    return out


def load_xml(body: str, url: str) -> Any:
    """An XML feed as nested mappings (repeated tags become lists), e.g. Personio's ``/xml``."""
    try:
        root = ElementTree.fromstring(body.lstrip("\ufeff").encode("utf-8"))
    except ElementTree.ParseError as exc:
        raise ParseError("invalid_xml", f"{url}: {exc}") from exc
    return _element(root)


def _is_ok(data: Any, ok_path: str | None, ok_values: tuple[Any, ...]) -> bool:
    if not ok_path:
        return True
    value = get_path(data, ok_path)
    if ok_values:
        return value in ok_values or str(value) in {str(v) for v in ok_values}
    return bool(value)


def load_json(body: str, url: str, ok_path: str | None = None, ok_values: tuple[Any, ...] = (),
              message_path: str | None = None) -> Any:
    """Decode a JSON body; ParseError ``invalid_json``, or when the ``ok_path`` flag is not ok ``refused``
    (when the board states a message at ``message_path``: it refused the request) or ``api_error``."""
    try:
        data = json.loads(body.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"{url}: {exc}") from exc
    if not _is_ok(data, ok_path, ok_values):
        flag = f"{ok_path} is {get_path(data, ok_path)!r}"
        if message_path:
            raise ParseError("refused", f"{url}: {flag}, the board says {as_text(get_path(data, message_path))!r}")
        raise ParseError("api_error", f"{url}: {flag}")
    return data


def parse_list(body: str, url: str, api: JsonApiConfig) -> ListPage:
    """Entries and total of one list page, as configured by ``api`` (items_path, total_path, ok_path)."""
    if api.format == "xml":
        data = load_xml(body, url)
    else:
        data = load_json(body, url, api.ok_path, api.ok_values, api.message_path)
    entries = get_path(data, api.items_path)
    if entries is None:
        entries = []
    if isinstance(entries, dict) and api.format == "xml":
        entries = [entries]  # one repeated element: XML cannot tell a list of one
    if not isinstance(entries, list):
        raise ParseError("api_error", f"{url}: {api.items_path or 'the body'} is not a list")
    total = get_path(data, api.total_path) if api.total_path else None
    try:
        total = int(total) if total is not None else None
        if total is None and api.pages_path and get_path(data, api.pages_path) is not None:
            total = int(get_path(data, api.pages_path)) * api.page_size
    except (TypeError, ValueError):
        total = None
    rows = [e for e in entries if isinstance(e, dict)]
    if api.require_id:
        rows = [e for e in rows if get_path(e, api.id_field) not in (None, "")]
    return ListPage(tuple(rows), total)


def entry_id(entry: dict[str, Any], api: JsonApiConfig) -> str | None:
    value = get_path(entry, api.id_field)
    return None if value in (None, "") else str(value)


def _join(field: str, values: list[Any]) -> str | None:
    sep = _JOIN.get(field, ", ")
    parts: list[str] = []
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            t = as_text(item)
            if t and t not in parts:
                parts.append(t)
    return sep.join(parts) or None


def map_fields(obj: dict[str, Any], mapping: dict[str, Any]) -> dict[str, str | None]:
    """Item fields from a JSON object through a {item field: dotted path or list of paths} mapping."""
    out: dict[str, str | None] = {}
    for field, path in mapping.items():
        if field not in ITEM_FIELDS:
            raise ValueError(f"field mapping names {field!r}, which is not a posting field: {sorted(ITEM_FIELDS)}")
        paths = path if isinstance(path, list) else [path]
        out[field] = _join(field, [get_path(obj, p) for p in paths])
    return out


def map_css(body: str, mapping: dict[str, Any]) -> dict[str, str | None]:
    """Item fields from an HTML page through a {item field: CSS selector} mapping (inner HTML kept)."""
    sel = Selector(text=body)
    out: dict[str, str | None] = {}
    for field, css in mapping.items():
        if field not in ITEM_FIELDS:
            raise ValueError(f"field mapping names {field!r}, which is not a posting field: {sorted(ITEM_FIELDS)}")
        found = [t for c in (css if isinstance(css, list) else [css]) for t in sel.css(c).getall()]
        out[field] = _join(field, [f.strip() for f in found])
    return out


def embedded_json(body: str, url: str, script: str) -> Any:
    """The JSON object a page assigns to ``script`` (``window.__INITIAL_STATE__ = {...}``); a body that is
    itself JSON is accepted as the object."""
    text = body.lstrip("\ufeff").lstrip()
    if text.startswith("{"):
        return load_json(text, url)
    m = re.search(re.escape(script) + r"\s*=\s*", body)
    if m is None:
        raise ParseError("no_state", f"{url}: the page assigns no {script}")
    try:
        obj, _ = json.JSONDecoder().raw_decode(body, m.end())
    except json.JSONDecodeError as exc:
        raise ParseError("invalid_json", f"{url}: {script} is not valid JSON: {exc}") from exc
    return obj


def posting_from_entry(entry: dict[str, Any], api: JsonApiConfig, *, source: str, url: str | None,
                       lang: str | None, company: str | None = None, country: str | None = None) -> RawPosting:
    """A RawPosting from one list entry (before any detail follow-up); ``company`` when the entry names none
    (one company's ATS board)."""
    values: dict[str, Any] = map_fields(entry, api.fields)
    values.setdefault("lang", lang)
    if values.get("lang") is None:
        values["lang"] = lang
    if not values.get("company"):
        values["company"] = company
    if not values.get("country") and country:  # the token's country, unless the location names another
        values["country"] = country_of_place(values.get("location")) or country
    payload = json.dumps(entry, sort_keys=True, ensure_ascii=False)
    return RawPosting(source=source, external_id=entry_id(entry, api), url=url, raw_hash=sha256(payload),
                      **values)


def merge_detail(base: RawPosting, body: str, url: str, api: JsonApiConfig) -> RawPosting:
    """The list-level posting completed with the detail payload's mapped fields (detail wins when set)."""
    det = api.detail
    assert det is not None
    if det.format == "html":
        values: dict[str, Any] = {k: v for k, v in map_css(body, det.fields).items() if v is not None}
        if not values:
            raise ParseError("no_detail", f"{url}: none of the detail selectors matched")
        return replace(base, raw_hash=sha256(body), **values)
    if det.format == "embedded_json":
        data = embedded_json(body, url, det.script or "")
        if not _is_ok(data, det.ok_path, det.ok_values):
            raise ParseError("api_error", f"{url}: {det.ok_path} is {get_path(data, det.ok_path)!r}")
    else:
        data = load_json(body, url, det.ok_path, det.ok_values, det.message_path)
    obj = get_path(data, det.path)
    if not isinstance(obj, dict):
        raise ParseError("api_error", f"{url}: {det.path or 'the body'} is not an object")
    fields: dict[str, Any] = {k: v for k, v in map_fields(obj, det.fields).items() if v is not None}
    detail_hash = sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False))
    return replace(base, raw_hash=detail_hash, **fields)


def fill_template(template: str, entry: dict[str, Any], ext_id: str, extra: dict[str, Any] | None = None) -> str:
    """A URL template with ``{id}``, ``extra`` values (token, params) and any entry field by dotted path
    (``{refs.landing_page}``) filled in."""
    values = {**(extra or {}), "id": ext_id}

    def fill(m: re.Match[str]) -> str:
        key = m[1]
        value = values[key] if key in values else get_path(entry, key)
        if value is None or isinstance(value, dict | list):
            raise ParseError("api_error", f"URL template {template!r} names {key!r}, missing from the entry")
        return str(value)

    return re.sub(r"\{([A-Za-z_][\w.]*)\}", fill, template)
