"""The sources config (scrapers/sources.yaml or LABOURWATCH_SOURCES_FILE): typed, validated, with {demo_board}."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from labourwatch.settings import get_settings
from scrapers.country import normalise_country

DEFAULT_SOURCES_FILE = Path(__file__).resolve().parent / "sources.yaml"
SPIDER_NAMES = ("jobposting", "json_api", "greenhouse", "lever")


class SourceConfigError(ValueError):
    """The sources file is missing, unreadable or has an invalid entry (the message names file and source)."""


@dataclass(frozen=True, slots=True)
class DetailConfig:
    """How a JSON API's detail endpoint is followed for each listed posting."""

    url: str  # template: {id} and any list field name, e.g. "{demo_board}/api/positions/{id}"
    path: str = ""  # dotted path to the posting object inside the detail JSON
    fields: dict[str, str] = field(default_factory=dict)  # item field -> dotted path in the detail object
    ok_path: str | None = None  # dotted path that must be truthy (e.g. "success")


@dataclass(frozen=True, slots=True)
class JsonApiConfig:
    """A paginated JSON search API described as data: URL template, pagination and field mapping."""

    list_url: str  # template with {page}, {offset} and/or {page_size}
    items_path: str  # dotted path to the list of postings
    id_field: str
    fields: dict[str, str]  # item field (title, company, location, ...) -> dotted path in a list entry
    pagination: str = "page"  # page | offset | none
    first_page: int = 1
    page_size: int = 50
    total_path: str | None = None  # dotted path to the total count: lets every page be scheduled at once
    ok_path: str | None = None
    updated_field: str | None = None  # entry field compared with the stored copy for incremental crawls
    url_template: str | None = None  # the posting's public URL; default: the detail URL (or list URL)
    detail: DetailConfig | None = None


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured source: which spider crawls it, where it starts and how politely."""

    name: str
    spider: str
    enabled: bool = True
    lang: str | None = None
    country: str | None = None  # ISO alpha-2 market of every posting without an address country
    country_by_lang: dict[str, str] = field(default_factory=dict)  # fallback per language (bilingual boards)
    start_urls: tuple[str, ...] = ()
    sitemap_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    download_delay: float | None = None
    concurrency: int | None = None  # per domain
    max_requests: int | None = None
    timezone: str = "Asia/Shanghai"
    company: str | None = None  # employer name for single-company boards (Greenhouse, Lever)
    # jobposting listing mode: CSS selectors of detail links and of the next-page link.
    link_selector: str = "a.job-link::attr(href)"
    next_selector: str = "a[rel=next]::attr(href)"
    sitemap_follow: tuple[str, ...] = ()  # regexes a sitemap URL (in an index) must match; empty = all
    sitemap_rules: tuple[str, ...] = ()  # regexes a page URL must match to be fetched; empty = all
    api: JsonApiConfig | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # extra Scrapy settings for this source

    def domains(self) -> tuple[str, ...]:
        """``allowed_domains`` or, when not given, the hosts of the start and sitemap URLs."""
        if self.allowed_domains:
            return self.allowed_domains
        urls = [*self.start_urls, *self.sitemap_urls]
        if self.api is not None:
            urls.append(self.api.list_url)
        hosts = {urlsplit(u.replace("{", "").replace("}", "")).hostname for u in urls}
        return tuple(sorted(h for h in hosts if h))


def _expand(value: Any, demo_board: str) -> Any:
    if isinstance(value, str):
        return value.replace("{demo_board}", demo_board.rstrip("/"))
    if isinstance(value, list):
        return [_expand(v, demo_board) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, demo_board) for k, v in value.items()}
    return value


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _source_from_dict(raw: dict[str, Any], where: str) -> SourceConfig:
    known = set(SourceConfig.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise SourceConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    for key in ("name", "spider"):
        if not raw.get(key):
            raise SourceConfigError(f"{where}: missing {key!r}")
    if raw["spider"] not in SPIDER_NAMES:
        raise SourceConfigError(f"{where}: spider {raw['spider']!r} unknown; use one of {SPIDER_NAMES}")
    data = dict(raw)
    if raw.get("country") is not None and normalise_country(str(raw["country"])) is None:
        raise SourceConfigError(f"{where}: country {raw['country']!r} is not an ISO 3166 alpha-2 code (e.g. CN, GB)")
    by_lang = raw.get("country_by_lang") or {}
    if not isinstance(by_lang, dict) or any(normalise_country(str(v)) is None for v in by_lang.values()):
        raise SourceConfigError(f"{where}: country_by_lang must map languages to ISO alpha-2 codes, got {by_lang!r}")
    data["country_by_lang"] = {str(k): str(normalise_country(str(v))) for k, v in by_lang.items()}
    if raw.get("country") is not None:
        data["country"] = normalise_country(str(raw["country"]))
    for key in ("start_urls", "sitemap_urls", "allowed_domains", "sitemap_follow", "sitemap_rules"):
        data[key] = _tuple(raw.get(key))
    if raw.get("api") is not None:
        api = dict(raw["api"])
        try:
            if api.get("detail") is not None:
                api["detail"] = DetailConfig(**api["detail"])
            data["api"] = JsonApiConfig(**api)
        except TypeError as exc:
            raise SourceConfigError(f"{where}: invalid 'api' block: {exc}") from exc
        if data["api"].pagination not in ("page", "offset", "none"):
            raise SourceConfigError(f"{where}: api.pagination must be page, offset or none")
    elif raw["spider"] == "json_api":
        raise SourceConfigError(f"{where}: spider json_api needs an 'api' block (list_url, items_path, ...)")
    if raw["spider"] == "jobposting" and not (data["start_urls"] or data["sitemap_urls"]):
        raise SourceConfigError(f"{where}: spider jobposting needs start_urls (listing pages) or sitemap_urls")
    if raw["spider"] in ("greenhouse", "lever") and not data["start_urls"]:
        raise SourceConfigError(f"{where}: spider {raw['spider']} needs start_urls (the board's API URL)")
    return SourceConfig(**data)


def sources_path() -> Path:
    """The sources file in use: LABOURWATCH_SOURCES_FILE or the bundled scrapers/sources.yaml."""
    return get_settings().sources_file or DEFAULT_SOURCES_FILE


def load_sources(path: Path | None = None, demo_board: str | None = None) -> dict[str, SourceConfig]:
    """Every source of the config file by name, ``{demo_board}`` expanded to ``settings.demo_board_url``."""
    path = path or sources_path()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceConfigError(f"sources file {path} not found (set LABOURWATCH_SOURCES_FILE)") from exc
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"sources file {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
        raise SourceConfigError(f"sources file {path}: expected a top-level 'sources:' list")
    base = demo_board or get_settings().demo_board_url
    out: dict[str, SourceConfig] = {}
    for i, raw in enumerate(doc["sources"]):
        where = f"{path}: sources[{i}]" + (f" ({raw.get('name')})" if isinstance(raw, dict) else "")
        if not isinstance(raw, dict):
            raise SourceConfigError(f"{where}: expected a mapping")
        src = _source_from_dict(_expand(raw, base), where)
        if src.name in out:
            raise SourceConfigError(f"{where}: duplicate source name {src.name!r}")
        out[src.name] = src
    return out


def get_source(name: str, path: Path | None = None) -> SourceConfig:
    """The configured source called ``name``; the error lists the names that exist."""
    sources = load_sources(path)
    if name not in sources:
        raise SourceConfigError(f"source {name!r} is not in {path or sources_path()}; known: {sorted(sources)}")
    return sources[name]


def adhoc_source(name: str, spider: str, url: str, **overrides: Any) -> SourceConfig:
    """A source for ``labourwatch crawl --spider S --url U --source NAME``: a sitemap URL (ending in .xml or
    .xml.gz, or robots.txt) is crawled as a sitemap, anything else as a start/listing URL."""
    if spider not in SPIDER_NAMES:
        raise SourceConfigError(f"spider {spider!r} unknown; use one of {SPIDER_NAMES}")
    if spider == "json_api":
        raise SourceConfigError("spider json_api needs a field mapping: declare the source in the sources file")
    is_sitemap = spider == "jobposting" and (url.endswith((".xml", ".xml.gz")) or url.endswith("/robots.txt"))
    src = SourceConfig(name=name, spider=spider, start_urls=() if is_sitemap else (url,),
                       sitemap_urls=(url,) if is_sitemap else ())
    return replace(src, **overrides) if overrides else src


def resolve_source(name: str, url: str | None = None, spider: str | None = None,
                   path: Path | None = None) -> SourceConfig:
    """The source a crawl runs: a configured one (its start URL replaced by ``url`` when given), or an ad
    hoc one when ``name`` is not configured and ``url`` is given (spider default ``jobposting``)."""
    sources = load_sources(path)
    if name not in sources:
        if url is None:
            raise SourceConfigError(f"source {name!r} is not in {path or sources_path()}; known: {sorted(sources)}"
                                    " (or give --url and --spider for an ad hoc crawl)")
        return adhoc_source(name, spider or "jobposting", url)
    src = sources[name]
    if spider and spider != src.spider:
        raise SourceConfigError(f"source {name!r} is configured for spider {src.spider!r}, not {spider!r}")
    if url is None:
        return src
    if src.spider == "json_api":
        raise SourceConfigError(f"source {name!r} (json_api) takes its URLs from its api block, not --url")
    adhoc = adhoc_source(name, src.spider, url)
    return replace(src, start_urls=adhoc.start_urls, sitemap_urls=adhoc.sitemap_urls,
                   allowed_domains=() if not src.allowed_domains else src.allowed_domains)
