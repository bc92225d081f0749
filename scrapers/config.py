"""The sources catalogue (scrapers/sources.yaml or LABOURWATCH_SOURCES_FILE): typed, validated, with {demo_board}."""

from __future__ import annotations

from dataclasses import field, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import (
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass

from labourwatch.settings import get_settings
from scrapers.country import normalise_country

DEFAULT_SOURCES_FILE = Path(__file__).resolve().parent / "sources.yaml"
SPIDER_NAMES = ("jobposting", "json_api", "greenhouse", "lever")

# Unknown keys are errors (a misspelt key must not be silently ignored); instances are immutable.
_STRICT = ConfigDict(extra="forbid")


class SourceConfigError(ValueError):
    """The sources file is missing, unreadable or has an invalid entry (the message names file and source)."""


def _tuple(value: Any) -> tuple[Any, ...]:
    """A YAML scalar or list as a tuple (``start_urls: http://x`` means one URL)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    raise ValueError(f"expected a list, got {type(value).__name__}")


Strings = Annotated[tuple[str, ...], BeforeValidator(_tuple)]
Values = Annotated[tuple[Any, ...], BeforeValidator(_tuple)]


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{key} is {value!r}; use one of {allowed}")
    return value


@dataclass(frozen=True, config=_STRICT)
class DetailConfig:
    """How a JSON API's detail endpoint (or detail page) is followed for each listed posting."""

    url: str  # template: {id}, {token}, params and any list field name, e.g. "{demo_board}/api/positions/{id}"
    path: str = ""  # dotted path to the posting object inside the detail JSON
    # item field -> dotted path in the detail object (a list of paths is joined), or a CSS selector (html)
    fields: dict[str, Any] = field(default_factory=dict)
    ok_path: str | None = None  # dotted path that must be truthy (e.g. "success"), or equal one of ok_values
    ok_values: Values = ()
    message_path: str | None = None  # the board's error message when ok_path fails (a refusal)
    format: str = "json"  # json | embedded_json (a JSON state object inside an HTML page) | html (CSS)
    script: str | None = None  # embedded_json: the variable assigned in the page, e.g. __INITIAL_STATE__

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        return _one_of("api.detail.format", v, ("json", "embedded_json", "html"))

    @model_validator(mode="after")
    def _script(self) -> DetailConfig:
        if self.format == "embedded_json" and not self.script:
            raise ValueError("api.detail.format embedded_json needs api.detail.script (the page variable, e.g. "
                             "__INITIAL_STATE__)")
        return self


@dataclass(frozen=True, config=_STRICT)
class JsonApiConfig:
    """A paginated JSON search API described as data: URL template, pagination and field mapping."""

    list_url: str  # template with {page}, {offset}, {page_size}, {token} and any params
    items_path: str  # dotted path to the list of postings ("" = the body is the list)
    id_field: str
    # item field (title, company, location, board_category, ...) -> dotted path in a list entry; a list
    # of paths is joined ("/" for board_category, blank lines for description, ", " otherwise); "*"
    # in a path maps over a list (departments.*.name)
    fields: dict[str, Any]
    pagination: str = "page"  # page | offset | none
    first_page: int = 1
    page_size: int = 50
    total_path: str | None = None  # dotted path to the total count: lets every page be scheduled at once
    pages_path: str | None = None  # dotted path to the number of pages, when the API states that instead
    ok_path: str | None = None
    ok_values: Values = ()  # ok_path must equal one of these (default: be truthy)
    message_path: str | None = None  # the board's message when ok_path fails: the crawl stops as refused
    method: str = "GET"  # GET | POST
    body: str | None = None  # POST body template (form-encoded or JSON text), same placeholders as list_url
    body_type: str = "form"  # form | json
    format: str = "json"  # json | xml (an XML feed read as nested mappings, e.g. Personio)
    require_id: bool = False  # entries without an id are not postings (RemoteOK's legal notice)
    updated_field: str | None = None  # entry field compared with the stored copy for incremental crawls
    url_template: str | None = None  # the posting's public URL; default: the detail URL (or list URL)
    detail: DetailConfig | None = None

    @field_validator("pagination")
    @classmethod
    def _pagination(cls, v: str) -> str:
        return _one_of("api.pagination", v, ("page", "offset", "none"))

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return _one_of("api.method", v, ("GET", "POST"))

    @field_validator("body_type")
    @classmethod
    def _body_type(cls, v: str) -> str:
        return _one_of("api.body_type", v, ("form", "json"))

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        return _one_of("api.format", v, ("json", "xml"))


_COUNTRY_ERROR = "country {!r} is not an ISO 3166-1 alpha-2 code (upper case, e.g. CN, DE) or 'multi'"


def _country_code(value: Any) -> str | None:
    """An upper-case ISO alpha-2 code as written (a code, not a name), or a ValueError."""
    from scrapers.countries import country_code

    if value is None:
        return None
    given = str(value).strip()
    if not (len(given) == 2 and given.isupper() and normalise_country(given) is not None
            and country_code(given) == given):
        raise ValueError(_COUNTRY_ERROR.format(value))
    return given


def _tokens(value: Any) -> dict[str, tuple[str | None, str | None]]:
    """``tokens``: a list of company tokens, or token -> company name or {company, country}."""
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        value = {str(t): None for t in value}
    if not isinstance(value, dict):
        raise ValueError("tokens must be a list of company tokens or a token: company mapping")
    out: dict[str, tuple[str | None, str | None]] = {}
    for tok, val in value.items():
        if isinstance(val, tuple) and len(val) == 2:  # already validated (dataclasses.replace validates again)
            out[str(tok)] = (val[0], _country_code(val[1]))
        elif isinstance(val, dict):
            if set(val) - {"company", "country"}:
                raise ValueError(f"token {tok!r} takes only 'company' and 'country'")
            company = val.get("company")
            out[str(tok)] = (str(company) if company is not None else None, _country_code(val.get("country")))
        else:
            out[str(tok)] = (str(val) if val is not None else None, None)
    return out


def _str_mapping(key: str) -> BeforeValidator:
    def check(value: Any) -> dict[str, str]:
        if not isinstance(value or {}, dict):
            raise ValueError(f"{key} must be a mapping")
        return {str(k): str(v) for k, v in (value or {}).items()}

    return BeforeValidator(check)


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value or {}, dict):
        raise ValueError("settings must be a mapping")
    return dict(value or {})


def _country_by_lang(value: Any) -> dict[str, str]:
    by_lang = value or {}
    if not isinstance(by_lang, dict) or any(normalise_country(str(v)) is None for v in by_lang.values()):
        raise ValueError(f"country_by_lang must map languages to ISO alpha-2 codes, got {by_lang!r}")
    return {str(k): str(normalise_country(str(v))) for k, v in by_lang.items()}


def _source_country(value: Any) -> str | None:
    return value if value in (None, "multi") else _country_code(value)


@dataclass(frozen=True, config=_STRICT)
class SourceConfig:
    """One configured source: which spider crawls it, where it starts and how politely."""

    name: str
    spider: str
    enabled: bool = True
    lang: str | None = None
    # ISO 3166-1 alpha-2 market of every posting without an address country, or "multi": each posting's own
    country: Annotated[str | None, BeforeValidator(_source_country)] = None
    # fallback per language (bilingual boards)
    country_by_lang: Annotated[dict[str, str], BeforeValidator(_country_by_lang)] = field(default_factory=dict)
    start_urls: Strings = ()
    sitemap_urls: Strings = ()
    allowed_domains: Strings = ()
    download_delay: float | None = None
    concurrency: int | None = None  # per domain
    max_requests: int | None = None
    timezone: str = "Asia/Shanghai"
    company: str | None = None  # employer name for single-company boards (Greenhouse, Lever)
    country_from_location: bool = False  # a posting's location naming one country wins (implied by "multi")
    # politeness: robots.txt, AutoThrottle (download_delay, concurrency and max_requests above)
    robots_txt: bool = True
    autothrottle: bool = True
    render: bool = False  # fetch pages through headless chromium (scrapy-playwright)
    render_wait: str | None = None  # CSS selector the rendered page must show before it is read
    needs_auth: bool = False  # the board wants the user's own headers/cookies (auth file) before a crawl
    # sent with every request (no secrets here)
    headers: Annotated[dict[str, str], _str_mapping("headers")] = field(default_factory=dict)
    blocked_markers: Strings = ()  # body text meaning a login wall or human check: the crawl stops
    # ATS company token -> (company name, country) for postings that name neither
    tokens: Annotated[dict[str, tuple[str | None, str | None]], BeforeValidator(_tokens)] = field(
        default_factory=dict)
    # more URL placeholders ({keyword}, {city})
    params: Annotated[dict[str, str], _str_mapping("params")] = field(default_factory=dict)
    notes: str | None = None  # what the user must supply, shown by `labourwatch sources show`
    # jobposting listing mode: CSS selectors of detail links and of the next-page link.
    link_selector: str = "a.job-link::attr(href)"
    next_selector: str = "a[rel=next]::attr(href)"
    sitemap_follow: Strings = ()  # regexes a sitemap URL (in an index) must match; empty = all
    sitemap_rules: Strings = ()  # regexes a page URL must match to be fetched; empty = all
    api: JsonApiConfig | None = None
    # extra Scrapy settings for this source
    settings: Annotated[dict[str, Any], BeforeValidator(_mapping)] = field(default_factory=dict)

    @field_validator("spider")
    @classmethod
    def _spider(cls, v: str) -> str:
        if v not in SPIDER_NAMES:
            raise ValueError(f"spider {v!r} unknown; use one of {SPIDER_NAMES}")
        return v

    @field_serializer("tokens")
    def _dump_tokens(self, tokens: dict[str, tuple[str | None, str | None]]) -> dict[str, dict[str, str | None]]:
        # the file's own form, so a dumped source (the crawl job) validates back to itself
        return {t: {"company": c, "country": k} for t, (c, k) in tokens.items()}

    @model_validator(mode="after")
    def _spider_needs(self) -> SourceConfig:
        if self.api is not None:
            if "{token}" in self.api.list_url and not self.tokens:
                raise ValueError("api.list_url has {token}: list the company tokens in 'tokens'")
        elif self.spider == "json_api":
            raise ValueError("spider json_api needs an 'api' block (list_url, items_path, ...)")
        if self.render and self.spider != "jobposting":
            raise ValueError("render: true is for HTML pages (spider jobposting); a JSON API needs no browser")
        if self.spider == "jobposting" and not (self.start_urls or self.sitemap_urls):
            raise ValueError("spider jobposting needs start_urls (listing pages) or sitemap_urls")
        if self.spider in ("greenhouse", "lever") and not self.start_urls:
            raise ValueError(f"spider {self.spider} needs start_urls (the board's API URL)")
        return self

    def domains(self) -> tuple[str, ...]:
        """``allowed_domains`` or, when not given, the hosts of the start and sitemap URLs."""
        if self.allowed_domains:
            return self.allowed_domains
        hosts = set()
        for u in self.urls():
            for token in list(self.tokens) or [""]:
                hosts.add(urlsplit(fill_params(u, self, token)).hostname)
        return tuple(sorted(h for h in hosts if h and "{" not in h))

    def urls(self) -> list[str]:
        """Every URL (or URL template) of the source."""
        urls = [*self.start_urls, *self.sitemap_urls]
        if self.api is not None:
            urls.append(self.api.list_url)
            if self.api.detail is not None:
                urls.append(self.api.detail.url)
            if self.api.url_template:
                urls.append(self.api.url_template)
        return urls


def fill_params(template: str, source: SourceConfig, token: str | None = None) -> str:
    """``{token}`` and the source's ``params`` filled in; other placeholders ({page}, {id}) are kept."""
    out = template
    values = {**source.params, **({"token": token} if token is not None else {})}
    for key, value in values.items():
        out = out.replace("{" + key + "}", str(value))
    return out


def replace_base(url: str, base_url: str) -> str:
    """``url`` (or a URL template) with its scheme and host replaced by those of ``base_url``."""
    base = urlsplit(base_url)
    if not base.scheme or not base.netloc:
        raise SourceConfigError(f"--base-url {base_url!r} must be an absolute URL like http://127.0.0.1:8080")
    parts = urlsplit(url)
    prefix = base.path.rstrip("/")
    return urlunsplit((base.scheme, base.netloc, prefix + parts.path, parts.query, parts.fragment))


def with_base_url(source: SourceConfig, base_url: str) -> SourceConfig:
    """The source with scheme and host of every URL replaced (to replay recorded responses locally)."""
    rb = lambda u: replace_base(u, base_url)  # noqa: E731
    api = source.api
    if api is not None:
        detail = replace(api.detail, url=rb(api.detail.url)) if api.detail else None
        # a public URL taken whole from the entry ("{absolute_url}") stays the board's
        public = api.url_template
        api = replace(api, list_url=rb(api.list_url), detail=detail,
                      url_template=rb(public) if public and not public.startswith("{") else public)
    return replace(source, start_urls=tuple(map(rb, source.start_urls)),
                   sitemap_urls=tuple(map(rb, source.sitemap_urls)), allowed_domains=(), api=api)


def _expand(value: Any, demo_board: str) -> Any:
    if isinstance(value, str):
        return value.replace("{demo_board}", demo_board.rstrip("/"))
    if isinstance(value, list):
        return [_expand(v, demo_board) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, demo_board) for k, v in value.items()}
    return value


_SOURCE_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


def _describe(exc: ValidationError) -> str:
    """The errors of one entry as sentences naming the field: unknown keys, missing keys, wrong values."""
    unknown: dict[tuple[str, ...], list[str]] = {}
    messages: list[str] = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        kind = err["type"]
        if kind in ("unexpected_keyword_argument", "extra_forbidden"):
            unknown.setdefault(loc[:-1], []).append(loc[-1])
        elif kind in ("missing", "missing_argument"):
            messages.append(f"missing {'.'.join(loc)!r}")
        elif kind == "value_error" and "error" in (err.get("ctx") or {}):
            messages.append(str(err["ctx"]["error"]))  # our validators' messages name their field
        else:
            messages.append(f"{'.'.join(loc) or 'entry'}: {err['msg']} (got {err.get('input')!r})")
    allowed: dict[tuple[str, ...], Any] = {(): SourceConfig, ("api",): JsonApiConfig,
                                           ("api", "detail"): DetailConfig}
    for parent, keys in unknown.items():
        cls = allowed.get(parent)
        where = f"{'.'.join(parent)}: " if parent else ""
        names = f"; allowed: {sorted(cls.__dataclass_fields__)}" if cls is not None else ""
        messages.insert(0, f"{where}unknown keys {sorted(keys)}{names}")
    return "; ".join(messages)


def parse_source(raw: Any, where: str) -> SourceConfig:
    """One entry of the sources file as a SourceConfig; a SourceConfigError naming ``where`` and the field."""
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where}: expected a mapping")
    try:
        return _SOURCE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise SourceConfigError(f"{where}: {_describe(exc)}") from None


def source_to_json(source: SourceConfig) -> str:
    """``source`` as JSON that ``source_from_json`` reads back to an equal SourceConfig."""
    return _SOURCE_ADAPTER.dump_json(source).decode()


def source_from_json(text: str | bytes) -> SourceConfig:
    return _SOURCE_ADAPTER.validate_json(text)


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
        src = parse_source(_expand(raw, base), where)
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
                   path: Path | None = None, base_url: str | None = None) -> SourceConfig:
    """The source a crawl runs: a configured one (its start URL replaced by ``url`` when given, scheme and
    host of every URL by ``base_url``), or an ad hoc one when ``name`` is not configured and ``url`` is
    given (spider default ``jobposting``)."""
    src = _resolve(name, url, spider, path)
    return with_base_url(src, base_url) if base_url else src


def _resolve(name: str, url: str | None, spider: str | None, path: Path | None) -> SourceConfig:
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


def auth_path(source: SourceConfig) -> Path:
    """``<auth_dir>/<source>.yaml``: the user's own headers and cookies for a board (never in the repo)."""
    return get_settings().auth_path / f"{source.name}.yaml"


def load_auth(source: SourceConfig) -> dict[str, str]:
    """Request headers for ``source``: its configured headers, then the auth file's ``headers`` and
    ``cookies`` (a mapping or one ``Cookie`` string). A source with ``needs_auth`` and no auth file is
    an error naming the file to write."""
    headers = dict(source.headers)
    path = auth_path(source)
    if not path.exists():
        if source.needs_auth:
            raise SourceConfigError(
                f"source {source.name!r} needs your own request headers/cookies from a logged-in browser "
                f"session: write them to {path} (keys: headers, cookies); see docs/scrapers.md")
        return headers
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourceConfigError(f"auth file {path} of source {source.name!r} is not readable YAML: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) - {"headers", "cookies"}:
        raise SourceConfigError(f"auth file {path}: expected a mapping with 'headers' and/or 'cookies' only")
    headers.update({str(k): str(v) for k, v in (doc.get("headers") or {}).items()})
    cookies = doc.get("cookies")
    if isinstance(cookies, dict):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    elif cookies:
        headers["Cookie"] = str(cookies)
    return headers
