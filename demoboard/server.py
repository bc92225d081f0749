"""The demo job board on localhost: schema.org HTML pages with sitemaps, a JSON search API, and fault injection."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from demoboard.generator import DemoDataset, DemoPosting

logger = logging.getLogger(__name__)

LISTING_PAGE_SIZE = 50
SITEMAP_SIZE = 5000
API_PAGE_SIZE = 15
API_MAX_PAGE_SIZE = 100
# Request kinds that faults may hit; robots.txt, the home page and /private/ always answer normally.
FAULTABLE = frozenset({"sitemap_index", "sitemap", "listing", "detail", "api_list", "api_detail"})
_FAULT_KEYS = {"500": "rate_500", "429": "rate_429", "slow": "slow_rate", "truncate": "truncate_rate",
               "encoding": "bad_encoding_rate", "bad_encoding": "bad_encoding_rate", "burst": "burst",
               "slow_seconds": "slow_seconds", "seed": "seed", "retry_after": "retry_after",
               "rate_500": "rate_500", "rate_429": "rate_429", "slow_rate": "slow_rate",
               "truncate_rate": "truncate_rate", "bad_encoding_rate": "bad_encoding_rate"}
_SPEC_NAMES = {"rate_500": "500", "rate_429": "429", "slow_rate": "slow", "truncate_rate": "truncate",
               "bad_encoding_rate": "encoding"}


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which URLs misbehave and how; deterministic per URL and ``seed``.

    A URL picked for a failure (500, 429, slow, truncated) fails on its first ``burst`` requests and is served
    correctly afterwards, so a crawler that retries loses nothing. A URL picked for ``bad_encoding`` is always
    served as GBK bytes with a header and meta tag that declare GBK (a legacy-site quirk, not a failure).
    """

    rate_500: float = 0.0
    rate_429: float = 0.0
    burst: int = 3
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    truncate_rate: float = 0.0
    bad_encoding_rate: float = 0.0
    seed: int = 0
    retry_after: int = 1  # seconds, sent in the Retry-After header of 429 responses

    def __post_init__(self) -> None:
        for name in ("rate_500", "rate_429", "slow_rate", "truncate_rate", "bad_encoding_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} must be between 0 and 1, got {value!r}")
        if self.rate_500 + self.rate_429 + self.slow_rate + self.truncate_rate > 1.0:
            raise ValueError("FaultConfig: rate_500 + rate_429 + slow_rate + truncate_rate must not exceed 1")
        if self.burst < 0 or self.slow_seconds < 0 or self.retry_after < 0:
            raise ValueError(f"FaultConfig: burst, slow_seconds and retry_after must be >= 0, got {self!r}")

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse ``"500=0.05,429=0.05,slow=0.01,truncate=0.01,encoding=0.01,burst=3,seed=7"``."""
        if not spec or not spec.strip():
            return cls()
        values: dict[str, float | int] = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in _FAULT_KEYS:
                raise ValueError(f"bad fault spec item {part.strip()!r} in {spec!r}: expected KEY=VALUE with KEY "
                                 "one of 500, 429, slow, truncate, encoding, burst, slow_seconds, seed, retry_after")
            name = _FAULT_KEYS[key]
            try:
                values[name] = int(raw) if name in ("burst", "seed", "retry_after") else float(raw)
            except ValueError:
                raise ValueError(f"bad fault spec item {part.strip()!r}: {raw.strip()!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]

    @property
    def active(self) -> bool:
        return any((self.rate_500, self.rate_429, self.slow_rate, self.truncate_rate, self.bad_encoding_rate))

    def _unit(self, salt: str, key: str) -> float:
        digest = hashlib.blake2b(f"{self.seed}:{salt}:{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def fault_for(self, key: str) -> str | None:
        """The failure a URL (path with query) gets on its first ``burst`` requests: '500', '429', 'slow',
        'truncate' or None."""
        u = self._unit("fault", key)
        for name, rate in (("500", self.rate_500), ("429", self.rate_429), ("truncate", self.truncate_rate),
                           ("slow", self.slow_rate)):
            if u < rate:
                return name
            u -= rate
        return None

    def gbk_for(self, key: str) -> bool:
        """Whether a URL is always served GBK-encoded."""
        return self._unit("encoding", key) < self.bad_encoding_rate

    def spec(self) -> str:
        """The CLI spelling of this configuration."""
        return ",".join(f"{_SPEC_NAMES.get(f.name, f.name)}={getattr(self, f.name)}" for f in fields(self))


_HEADINGS = {"岗位职责", "工作职责", "职位描述", "任职要求", "任职资格", "岗位要求", "福利待遇", "福利", "公司介绍",
             "温馨提示", "Responsibilities", "What you'll do", "Requirements", "Benefits", "About us"}
_ITEM = re.compile(r"^(?:\d+\s*[、.]\s*|[-•]\s+)")


def description_html(text: str, variant: int = 0) -> str:
    """Render a plain-text description as board HTML: variant 0 uses <h3>/<ul>, 1 uses <p> per line,
    2 uses <br> line breaks (the shape many Chinese boards' APIs return)."""
    lines = [x for x in text.split("\n") if x.strip()]
    if variant == 1:
        return "".join(f"<p>{html.escape(x)}</p>" for x in lines)
    if variant == 2:
        return "<br>".join(html.escape(x) for x in lines)
    out: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in lines:
        head = line.rstrip("：:").strip()
        if head in _HEADINGS:
            flush()
            out.append(f"<h3>{html.escape(head)}</h3>")
        elif _ITEM.match(line):
            items.append(_ITEM.sub("", line, count=1))
        else:
            flush()
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "".join(out)


def _variant(p: DemoPosting, salt: int = 0) -> int:
    return (int(p.external_id) // 7 + salt) % 3 if p.external_id.isdigit() else salt % 3


def _tz(p: DemoPosting) -> str:
    return "+08:00" if p.country == "CN" else "+00:00"


def job_posting_jsonld(p: DemoPosting) -> dict[str, object]:
    """The schema.org JobPosting object of a well-formed page."""
    v = _variant(p)
    date_posted = p.posted_at.isoformat() if v != 1 else f"{p.posted_at.isoformat()}T{p.posted_time}{_tz(p)}"
    jp: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": p.title,
        "description": description_html(p.description, 0 if v != 2 else 1),
        "datePosted": date_posted,
        "validThrough": f"{(p.posted_at + timedelta(days=60)).isoformat()}T23:59:59{_tz(p)}",
        "employmentType": p.employment_type,
        "hiringOrganization": {"@type": "Organization", "name": p.company},
        "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": p.city,
                                                      "addressCountry": p.country}},
        "identifier": {"@type": "PropertyValue", "name": "demo board", "value": p.external_id},
        "inLanguage": "zh-CN" if p.lang == "zh" else "en-GB",
    }
    if p.salary_currency and (p.salary_min is not None or p.salary_max is not None):
        value: dict[str, object] = {"@type": "QuantitativeValue", "unitText": p.salary_unit}
        if p.salary_min is not None:
            value["minValue"] = p.salary_min
        if p.salary_max is not None:
            value["maxValue"] = p.salary_max
        jp["baseSalary"] = {"@type": "MonetaryAmount", "currency": p.salary_currency, "value": value}
    if p.experience_text is not None:
        if p.experience_max_years is None and p.experience_min_years is not None and v == 2:
            jp["experienceRequirements"] = {"@type": "OccupationalExperienceRequirements",
                                            "monthsOfExperience": p.experience_min_years * 12}
        else:
            jp["experienceRequirements"] = p.experience_text
    if p.education_text is not None:
        jp["educationRequirements"] = p.education_text if v != 1 else {
            "@type": "EducationalOccupationalCredential", "credentialCategory": p.education_text}
    return jp


def _jsonld_block(p: DemoPosting) -> str:
    """The <script type=application/ld+json> text; shapes vary (object, @graph, array) as on real sites."""
    jp = job_posting_jsonld(p)
    if p.malformed and _variant(p, 1) != 0:
        jp.pop("title")
    crumbs = {"@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Jobs", "item": "/jobs"},
        {"@type": "ListItem", "position": 2, "name": p.city}]}
    shape = _variant(p, 2)
    if shape == 1:
        context = jp.pop("@context")
        doc: object = {"@context": context, "@graph": [{"@type": "WebPage", "name": p.title}, jp]}
    elif shape == 2:
        doc = [{"@context": "https://schema.org", **crumbs}, jp]
    else:
        doc = jp
    text = json.dumps(doc, ensure_ascii=False, indent=1 if shape == 0 else None)
    if p.malformed and _variant(p, 1) == 0:
        text = text[: len(text) // 2]  # a template bug cut the JSON-LD off mid-object
    return text.replace("</", "<\\/")


_CSS = ("body{font-family:sans-serif;max-width:52em;margin:auto}.job-meta span{margin-right:1em}"
        ".job-item{margin:.4em 0}")


def _page(title: str, body: str, lang: str = "zh-CN", charset: str = "utf-8", head: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="{charset}">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style>{head}</head>\n<body>"
            '<header><a href="/">Demo Jobs 演示招聘</a> · <a href="/jobs">全部职位 All jobs</a></header>\n'
            f"{body}\n<footer><a href=\"/private/admin\">管理后台</a> · <a href=\"/robots.txt\">robots</a></footer>"
            "</body></html>\n")


def detail_page(p: DemoPosting, charset: str = "utf-8") -> str:
    """The HTML detail page of an html-style posting (broken when the posting is malformed)."""
    zh = p.lang == "zh"
    meta = [("company", p.company), ("city", p.city), ("salary", p.salary_text),
            ("experience", p.experience_text), ("education", p.education_text)]
    spans = "".join(f'<span class="{k}">{html.escape(v)}</span>' for k, v in meta if v)
    title = "" if p.malformed else p.title
    body = (f'<main class="job-detail" data-job-id="{p.external_id}">'
            f'<h1 class="job-title">{html.escape(title)}</h1>'
            f'<div class="job-meta">{spans}<time class="posted" datetime="{p.posted_at}">{p.posted_at}</time></div>'
            f'<section class="job-description">{description_html(p.description, _variant(p, 1) % 2)}</section>'
            f'<a class="apply" rel="nofollow" href="/private/apply?job={p.external_id}">'
            f'{"申请职位" if zh else "Apply"}</a></main>')
    head = f'<script type="application/ld+json">{_jsonld_block(p)}</script>'
    page_title = f"{title} - {p.company}" if title else p.company
    return _page(page_title, body, lang="zh-CN" if zh else "en-GB", charset=charset, head=head)


def api_item(p: DemoPosting) -> dict[str, object]:
    """One entry of the JSON search API's result list."""
    created = f"{p.posted_at.isoformat()} {p.posted_time}"
    return {
        "positionId": int(p.external_id),
        "positionName": None if (p.malformed and _variant(p, 1) != 0) else p.title,
        "companyFullName": p.company,
        "city": p.city,
        "workYear": p.experience_text,
        "education": p.education_text,
        "salary": p.salary_text,
        "jobNature": "兼职" if p.employment_type == "PART_TIME" else "全职",
        "createTime": created,
        "updateTime": created,
    }


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], board: DemoBoard) -> None:
        self.board = board
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoBoard/1.0"
    # Headers and body go out in separate writes; without TCP_NODELAY a keep-alive client waits ~40 ms
    # (Nagle + delayed ACK) on every response.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.board._handle(self)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)


class DemoBoard:
    """Serve a :class:`DemoDataset` on ``host:port`` (0 = any free port) from memory.

    Use as a context manager (``with DemoBoard(ds) as board: board.url``), or ``start()``/``stop()``, or
    ``serve_forever()`` in the foreground. ``requests`` counts requests per kind (robots, sitemap_index,
    sitemap, listing, detail, api_list, api_detail, private, home, not_found); ``faults_served`` counts
    injected faults per kind; ``hits(path)`` gives the requests one URL got.
    """

    def __init__(self, dataset: DemoDataset, host: str = "127.0.0.1", port: int = 0,
                 faults: FaultConfig | None = None, *, listing_page_size: int = LISTING_PAGE_SIZE,
                 sitemap_size: int = SITEMAP_SIZE, cache_limit: int = 50_000) -> None:
        if listing_page_size < 1 or sitemap_size < 1:
            raise ValueError("listing_page_size and sitemap_size must be positive")
        self.dataset = dataset
        self.host = host
        self.port = port
        self.faults = faults or FaultConfig()
        self.listing_page_size = listing_page_size
        self.sitemap_size = sitemap_size
        self.cache_limit = cache_limit  # rendered responses kept; beyond it pages are rendered per request

        def newest_first(ps: list[DemoPosting]) -> list[DemoPosting]:
            return sorted(ps, key=lambda p: (p.posted_at, p.posted_time, p.external_id), reverse=True)

        self.html_postings = newest_first([p for p in dataset.postings if p.style == "html"])
        self.api_postings = newest_first([p for p in dataset.postings if p.style == "api"])
        self.html_by_id = {p.external_id: p for p in self.html_postings}
        self.api_by_id = {p.external_id: p for p in self.api_postings}
        self._sitemap_order = sorted(self.html_postings, key=lambda p: (p.posted_at, p.external_id))
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], _Response] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8765 (raises if the board is not started)."""
        if self._server is None:
            raise RuntimeError("DemoBoard is not started: use it as a context manager or call start()")
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self._server.server_address[1]}"

    def _bind(self) -> _Server:
        if self._server is None:
            try:
                self._server = _Server((self.host, self.port), self)
            except OSError as exc:
                raise OSError(exc.errno, f"demo board cannot listen on {self.host}:{self.port}: {exc.strerror}"
                              ) from exc
        return self._server

    def start(self) -> DemoBoard:
        """Start serving in a background thread."""
        server = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                            name="demo-board", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        server = self._bind()
        try:
            server.serve_forever(poll_interval=0.5)
        finally:
            server.server_close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoBoard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hits(self, path: str) -> int:
        """How many requests the URL ``path`` (with its query string) has received."""
        with self._lock:
            return self._hits[path]

    # ---- request handling ----------------------------------------------------------------------------------
    def _route(self, path: str, query: dict[str, list[str]], base: str
               ) -> tuple[str, Callable[[], _Response], DemoPosting | None]:
        if path == "/robots.txt":
            return "robots", lambda: self._robots(base), None
        if path == "/sitemap.xml":
            return "sitemap_index", lambda: self._cached(("index", base), lambda: self._sitemap_index(base)), None
        m = re.fullmatch(r"/sitemaps/jobs-(\d+)\.xml", path)
        if m:
            k = int(m.group(1))
            return "sitemap", lambda: self._cached((f"sitemap{k}", base), lambda: self._sitemap(k, base)), None
        if path in ("/jobs", "/jobs/"):
            return "listing", lambda: self._listing(query), None
        m = re.fullmatch(r"/jobs/([^/]+)\.html", path)
        if m:
            page = self.html_by_id.get(m.group(1))
            if page is None:
                return "not_found", lambda: self._not_found(path), None
            return "detail", lambda: self._cached(("detail", page.external_id), lambda: self._detail(page)), page
        if path == "/api/positions":
            return "api_list", lambda: self._api_list(query), None
        m = re.fullmatch(r"/api/positions/([^/]+)", path)
        if m:
            p = self.api_by_id.get(m.group(1))
            if p is None:
                return "not_found", lambda: self._json(404, {"success": False, "msg": "职位不存在",
                                                             "content": None}), None
            return "api_detail", lambda: self._cached(("api", p.external_id), lambda: self._api_detail(p)), p
        if path.startswith("/private/"):
            return "private", self._private, None
        if path in ("/", "/index.html"):
            return "home", self._home, None
        return "not_found", lambda: self._not_found(path), None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        host = h.headers.get("Host") or urlsplit(self.url).netloc
        base = f"http://{host}"
        kind, respond, posting = self._route(split.path, parse_qs(split.query), base)
        key = h.path
        with self._lock:
            self.requests[kind] += 1
            self._hits[key] += 1
            n = self._hits[key]
        fault = self.faults.fault_for(key) if (kind in FAULTABLE and self.faults.active) else None
        if fault is not None and n <= self.faults.burst:
            with self._lock:
                self.faults_served[fault] += 1
            if fault == "500":
                self._send(h, _Response(500, "text/html; charset=utf-8",
                                        b"<html><body><h1>500 Internal Server Error</h1></body></html>"))
                return
            if fault == "429":
                self._send(h, _Response(429, "text/html; charset=utf-8",
                                        b"<html><body><h1>429 Too Many Requests</h1></body></html>",
                                        (("Retry-After", str(self.faults.retry_after)),)))
                return
            if fault == "slow":
                time.sleep(self.faults.slow_seconds)
        try:
            response = respond()
        except ValueError as exc:
            response = _Response(400, "text/plain; charset=utf-8", str(exc).encode())
        if (posting is not None and posting.lang == "zh" and response.status == 200 and self.faults.active
                and self.faults.gbk_for(key)):
            gbk = self._gbk(kind, posting)
            if gbk is not None:
                with self._lock:
                    self.faults_served["bad_encoding"] += 1
                response = gbk
        self._send(h, response, truncate=fault == "truncate" and n <= self.faults.burst)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, r: _Response, truncate: bool = False) -> None:
        try:
            h.send_response(r.status)
            h.send_header("Content-Type", r.content_type)
            h.send_header("Content-Length", str(len(r.body)))
            for k, v in r.headers:
                h.send_header(k, v)
            if truncate:
                h.send_header("Connection", "close")
            h.end_headers()
            if truncate:
                # The connection drops mid-body: the client gets fewer bytes than Content-Length promised.
                h.wfile.write(r.body[: max(1, len(r.body) // 2)])
                h.wfile.flush()
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            h.wfile.write(r.body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _cached(self, key: tuple[str, str], make: Callable[[], _Response]) -> _Response:
        r = self._cache.get(key)
        if r is None:
            r = make()
            if len(self._cache) < self.cache_limit:
                self._cache[key] = r
        return r

    @staticmethod
    def _html(status: int, text: str, charset: str = "utf-8") -> _Response:
        encoded = text.encode(charset, errors="xmlcharrefreplace")
        return _Response(status, f"text/html; charset={charset}", encoded)

    @staticmethod
    def _json(status: int, payload: object) -> _Response:
        return _Response(status, "application/json; charset=utf-8",
                         json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())

    def _not_found(self, path: str) -> _Response:
        return self._html(404, _page("404", f"<h1>404</h1><p>{html.escape(path)} not found</p>"))

    def _robots(self, base: str) -> _Response:
        text = f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n"
        return _Response(200, "text/plain; charset=utf-8", text.encode())

    def _home(self) -> _Response:
        body = ("<h1>Demo Jobs 演示招聘</h1><ul><li><a href=\"/jobs\">全部职位 (HTML)</a></li>"
                "<li><a href=\"/api/positions?pageNo=1&amp;pageSize=15\">职位搜索 API (JSON)</a></li>"
                f"<li><a href=\"/sitemap.xml\">sitemap.xml</a></li></ul><p>{len(self.html_postings)} HTML "
                f"postings, {len(self.api_postings)} API postings.</p>")
        return self._html(200, _page("Demo Jobs", body))

    def _private(self) -> _Response:
        body = "<h1>管理后台 Admin</h1><p>Applicants and internal notes. Crawlers must not fetch this area.</p>" + \
            "".join(f'<a href="/private/applicant/{i}">applicant {i}</a> ' for i in range(1, 6))
        return self._html(200, _page("Admin", body))

    # ---- html style ----------------------------------------------------------------------------------------
    def _sitemap_chunks(self) -> int:
        return max(1, -(-len(self._sitemap_order) // self.sitemap_size))

    def _sitemap_index(self, base: str) -> _Response:
        parts = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for k in range(1, self._sitemap_chunks() + 1):
            chunk = self._sitemap_order[(k - 1) * self.sitemap_size: k * self.sitemap_size]
            lastmod = max((p.posted_at for p in chunk), default=None)
            parts.append(f"<sitemap><loc>{base}/sitemaps/jobs-{k}.xml</loc>"
                         + (f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else "") + "</sitemap>")
        parts.append("</sitemapindex>")
        return _Response(200, "application/xml; charset=utf-8", "\n".join(parts).encode())

    def _sitemap(self, k: int, base: str) -> _Response:
        if not 1 <= k <= self._sitemap_chunks():
            return self._not_found(f"/sitemaps/jobs-{k}.xml")
        chunk = self._sitemap_order[(k - 1) * self.sitemap_size: k * self.sitemap_size]
        parts = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        parts += [f"<url><loc>{base}/jobs/{p.external_id}.html</loc><lastmod>{p.posted_at.isoformat()}</lastmod>"
                  "</url>" for p in chunk]
        parts.append("</urlset>")
        return _Response(200, "application/xml; charset=utf-8", "\n".join(parts).encode())

    def _listing(self, query: dict[str, list[str]]) -> _Response:
        page = _int_param(query, "page", 1)
        size = self.listing_page_size
        pages = max(1, -(-len(self.html_postings) // size))
        if not 1 <= page <= pages:
            return self._not_found(f"/jobs?page={page}")
        chunk = self.html_postings[(page - 1) * size: page * size]
        items = "".join(
            f'<li class="job-item"><a class="job-link" href="/jobs/{p.external_id}.html">{html.escape(p.title)}</a>'
            f' <span class="company">{html.escape(p.company)}</span> <span class="city">{html.escape(p.city)}</span>'
            + (f' <span class="salary">{html.escape(p.salary_text)}</span>' if p.salary_text else "")
            + f' <time datetime="{p.posted_at}">{p.posted_at}</time></li>'
            for p in chunk)
        nav = []
        if page > 1:
            nav.append(f'<a rel="prev" href="/jobs?page={page - 1}">上一页 Previous</a>')
        if page < pages:
            nav.append(f'<a rel="next" href="/jobs?page={page + 1}">下一页 Next</a>')
        body = (f"<h1>全部职位 All jobs</h1><p class=\"count\">{len(self.html_postings)} jobs, page {page} of "
                f"{pages}</p><ul class=\"job-list\">{items}</ul><nav class=\"pagination\">{' '.join(nav)}</nav>")
        return self._html(200, _page(f"Jobs page {page}", body))

    def _detail(self, p: DemoPosting) -> _Response:
        return self._html(200, detail_page(p))

    # ---- api style -----------------------------------------------------------------------------------------
    def _api_list(self, query: dict[str, list[str]]) -> _Response:
        try:
            page = _int_param(query, "pageNo", 1)
            size = _int_param(query, "pageSize", API_PAGE_SIZE)
        except ValueError as exc:
            return self._json(400, {"success": False, "msg": str(exc), "content": None})
        if page < 1 or size < 1:
            return self._json(400, {"success": False, "msg": "pageNo and pageSize must be positive",
                                    "content": None})
        size = min(size, API_MAX_PAGE_SIZE)
        chunk = self.api_postings[(page - 1) * size: page * size]
        return self._json(200, {"success": True, "msg": None, "content": {
            "pageNo": page, "pageSize": size, "totalCount": len(self.api_postings),
            "result": [api_item(p) for p in chunk]}})

    def _api_detail(self, p: DemoPosting) -> _Response:
        content = api_item(p)
        content["positionDetail"] = description_html(p.description, _variant(p, 2) % 2 + 1)
        r = self._json(200, {"success": True, "msg": None, "content": content})
        if p.malformed and _variant(p, 1) == 0:
            # A gateway cut the body short: valid UTF-8, but the JSON does not parse.
            text = r.body.decode()
            return _Response(200, r.content_type, text[: len(text) // 2].encode())
        return r

    def _gbk(self, kind: str, p: DemoPosting) -> _Response | None:
        if kind == "detail":
            return self._html(200, detail_page(p, charset="gbk"), charset="gbk")
        if kind == "api_detail":
            if p.malformed:
                return None
            content = api_item(p)
            content["positionDetail"] = description_html(p.description, _variant(p, 2) % 2 + 1)
            text = json.dumps({"success": True, "msg": None, "content": content}, ensure_ascii=False,
                              separators=(",", ":"))
            try:
                return _Response(200, "application/json; charset=GBK", text.encode("gbk"))
            except UnicodeEncodeError:
                return None
        return None


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = query.get(name)
    if not raw or raw[0] == "":
        return default
    try:
        return int(raw[0])
    except ValueError:
        raise ValueError(f"query parameter {name}={raw[0]!r} is not an integer") from None


# ---- serving speed (``labourwatch bench demo``; the unit tests check behaviour, not speed) -------------------


@dataclass(frozen=True, slots=True)
class ServeBenchmark:
    """Detail pages served per second over ``clients`` keep-alive connections."""

    requests: int
    clients: int
    ok: int
    seconds: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"served {self.requests:,} detail pages ({self.ok:,} with 200) over {self.clients} keep-alive "
                f"connections in {self.seconds:.2f} s = {self.requests_per_s:,.0f} requests/s")


def serve_benchmark(dataset: DemoDataset, requests: int = 2000, clients: int = 4) -> ServeBenchmark:
    """Start a board on ``dataset`` without faults and fetch ``requests`` detail pages (cycling through the
    postings) from ``clients`` threads, each over one persistent HTTP/1.1 connection."""
    import http.client

    paths = [p.path for p in dataset.postings]
    if not paths or requests <= 0 or clients <= 0:
        raise ValueError(f"serve_benchmark needs postings, requests > 0 and clients > 0 (got {len(paths)} postings, "
                         f"{requests} requests, {clients} clients)")
    wanted = [paths[i % len(paths)] for i in range(requests)]
    statuses: list[int] = []
    lock = threading.Lock()
    with DemoBoard(dataset) as board:
        host, port = board.url.removeprefix("http://").split(":")

        def client(chunk: list[str]) -> None:
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            got = []
            try:
                for path in chunk:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    resp.read()
                    got.append(resp.status)
            finally:
                conn.close()
            with lock:
                statuses.extend(got)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(wanted[i::clients],)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
    return ServeBenchmark(len(statuses), clients, statuses.count(200), seconds)
