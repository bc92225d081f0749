"""`labourwatch sources check NAME`: fetch one listing and one detail page of a source live, parse them with
the source's own parser, and say which posting fields were found, which are missing and why a request failed."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from labourwatch.settings import get_settings
from scrapers.config import SourceConfig, SourceConfigError, auth_path, fill_params, load_auth
from scrapers.items import RawPosting
from scrapers.middlewares import HUMAN_CHECK_MARKERS
from scrapers.parsers import ParseError, get_path
from scrapers.spiders.base import decode_body

# The posting fields a check reports on, in the order people read them.
CHECK_FIELDS = ("title", "company", "location", "country", "date_posted", "description", "board_category",
                "experience_text", "education_text", "salary_text", "employment_type")
REQUIRED = ("title",)


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int | None  # None: no HTTP answer at all
    body: bytes = b""
    error: str | None = None  # why the request failed, for people


@dataclass
class Step:
    """One request of the check: what was fetched and how it went."""

    what: str  # listing | detail | robots.txt
    url: str
    status: int | None
    ok: bool
    message: str


@dataclass
class CheckReport:
    source: str
    steps: list[Step] = field(default_factory=list)
    listed: int | None = None  # postings on the listing page
    posting: RawPosting | None = None

    @property
    def fields(self) -> dict[str, str | None]:
        p = self.posting
        return {f: (getattr(p, f) if p is not None else None) for f in CHECK_FIELDS}

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps) and self.posting is not None and all(self.fields[f] for f in REQUIRED)


def _why(status: int, source: SourceConfig) -> str:
    if status in (401, 403):
        hint = (f"update your cookies/headers in {auth_path(source)}" if source.needs_auth or
                auth_path(source).exists() else "the board blocks this client, or the token/URL is private")
        return f"refused (HTTP {status}): a login wall, an expired cookie/token or a block; {hint}"
    if status == 404:
        return "not found (HTTP 404): check the company token, the params and the URL"
    if status == 429:
        return "rate limited (HTTP 429): wait, and raise download_delay"
    if status >= 500:
        return f"the board failed (HTTP {status}); try again later"
    return f"unexpected HTTP {status}"


def fetch(source: SourceConfig, url: str, *, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None, timeout: float = 30.0) -> Fetched:
    """One request with the source's headers, the user's auth and the crawler's user agent."""
    all_headers = {"User-Agent": get_settings().user_agent, **load_auth(source), **(headers or {})}
    url = safe_url_string(url)  # percent-encode non-ASCII, as Scrapy does
    req = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the user's own source
            return Fetched(resp.geturl(), resp.status, resp.read())
    except urllib.error.HTTPError as exc:
        return Fetched(url, exc.code, exc.read() or b"", _why(exc.code, source))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Fetched(url, None, b"", f"could not connect: {reason}")


def fetch_rendered(source: SourceConfig, url: str, timeout: float = 30.0) -> Fetched:
    """One page rendered by headless chromium (sources with ``render: true``)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from scrapers.crawl_process import CHROMIUM_ARGS, chromium_path

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(user_agent=get_settings().user_agent, extra_http_headers=load_auth(source))
                resp = page.goto(url, timeout=timeout * 1000)
                if source.render_wait:
                    page.wait_for_selector(source.render_wait, timeout=timeout * 1000)
                status = resp.status if resp is not None else None
                html = page.content().encode("utf-8")
            finally:
                browser.close()
    except (PlaywrightError, FileNotFoundError) as exc:
        return Fetched(url, None, b"", f"the browser could not load the page: {str(exc).splitlines()[0]}")
    if status is not None and status >= 400:
        return Fetched(url, status, html, _why(status, source))
    return Fetched(url, status, html)


def _blocked(source: SourceConfig, body: bytes) -> str | None:
    head = body[:200_000].decode("utf-8", errors="ignore")
    for marker in (*source.blocked_markers, *HUMAN_CHECK_MARKERS):
        if marker and marker in head:
            return (f"a login wall or human check (found {marker!r}): no CAPTCHA solving; refresh your cookies in "
                    f"{auth_path(source)} or try later")
    return None


class _Check:
    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.report = CheckReport(source.name)
        self.robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def allowed(self, url: str) -> bool:
        if not self.source.robots_txt:
            return True
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self.robots:
            got = fetch(self.source, root + "/robots.txt")
            rp: urllib.robotparser.RobotFileParser | None = None
            if got.status == 200:
                rp = urllib.robotparser.RobotFileParser()
                rp.parse(decode_body(got.body, None)[0].splitlines())
            self.robots[root] = rp
        rp = self.robots[root]
        return rp is None or rp.can_fetch(get_settings().user_agent, url)

    def get(self, what: str, url: str, **kwargs: object) -> str | None:
        """The decoded body of ``url``, or None after recording why it failed."""
        if not self.allowed(url):
            self.report.steps.append(Step(what, url, None, False, "robots.txt of the board disallows this URL"))
            return None
        got = fetch_rendered(self.source, url) if self.source.render else fetch(self.source, url, **kwargs)  # type: ignore[arg-type]
        if got.error:
            self.report.steps.append(Step(what, url, got.status, False, got.error))
            return None
        if why := _blocked(self.source, got.body):
            self.report.steps.append(Step(what, url, got.status, False, why))
            return None
        self.report.steps.append(Step(what, url, got.status, True, f"{len(got.body):,} bytes"))
        return decode_body(got.body, None)[0]

    def parsed(self, what: str, exc: ParseError) -> None:
        step = self.report.steps[-1]
        step.ok = False
        step.message = {
            "invalid_json": "the answer is not valid JSON (a login page or an error page instead?): ",
            "refused": "the board refused the request: ",
            "api_error": "the answer is not what the config expects: ",
        }.get(exc.reason, f"{exc.reason}: ") + exc.detail[:300]

    # --- per spider ------------------------------------------------------------------------------

    def json_api(self) -> None:
        from scrapers.parsers.json_api import fill_template, merge_detail, parse_list, posting_from_entry
        from scrapers.spiders.json_api import list_request

        src, api = self.source, self.source.api
        assert api is not None
        token = next(iter(src.tokens), None)
        req = list_request(src, token, api.first_page)
        body = self.get("listing", req.url, method=req.method, body=req.body, headers=req.headers)
        if body is None:
            return
        try:
            listing = parse_list(body, req.url, api)
        except ParseError as exc:
            self.parsed("listing", exc)
            return
        self.report.listed = len(listing.entries)
        if not listing.entries:
            self.report.steps[-1].message += f"; but no postings at {api.items_path or 'the top level'}"
            self.report.steps[-1].ok = False
            return
        entry = listing.entries[0]
        ext = get_path(entry, api.id_field)
        ext = None if ext in (None, "") else str(ext)
        company, country = src.tokens.get(token, (None, None)) if token is not None else (None, None)
        raw = posting_from_entry(entry, api, source=src.name, url=req.url, lang=src.lang,
                                 company=company or src.company, country=country)
        self.report.posting = raw
        if api.detail is None or ext is None:
            return
        extra = {**src.params, **({"token": token} if token is not None else {})}
        detail_url = fill_template(api.detail.url, entry, ext, extra)
        body = self.get("detail", detail_url)
        if body is None:
            return
        try:
            self.report.posting = merge_detail(raw, body, detail_url, api)
        except ParseError as exc:
            self.parsed("detail", exc)

    def jobposting(self) -> None:
        from scrapers.parsers.jobposting import listing_links, parse_page
        from scrapers.parsers.sitemap import parse_sitemap

        src = self.source
        detail_url = None
        if src.sitemap_urls:
            url = src.sitemap_urls[0]
            for _ in range(3):  # a sitemap index, then its first sitemap
                body = self.get("listing", url)
                if body is None:
                    return
                try:
                    sm = parse_sitemap(body.encode("utf-8"), url)
                except ParseError as exc:
                    self.parsed("listing", exc)
                    return
                if sm.kind == "urlset":
                    pages = [e.loc for e in sm.entries
                             if not src.sitemap_rules or any(re.search(r, e.loc) for r in src.sitemap_rules)]
                    self.report.listed = len(pages)
                    detail_url = pages[0] if pages else None
                    break
                subs = [e.loc for e in sm.entries
                        if not src.sitemap_follow or any(re.search(r, e.loc) for r in src.sitemap_follow)]
                if not subs:
                    break
                url = subs[0]
        else:
            url = src.start_urls[0]
            body = self.get("listing", url)
            if body is None:
                return
            links, _ = listing_links(body, url, src.link_selector, src.next_selector)
            self.report.listed = len(links)
            detail_url = links[0] if links else None
        if detail_url is None:
            self.report.steps[-1].ok = False
            self.report.steps[-1].message += "; but it lists no job page (check sitemap_rules / link_selector)"
            return
        body = self.get("detail", urljoin(url, detail_url))
        if body is None:
            return
        try:
            self.report.posting = parse_page(body, detail_url, src.name, src.lang)[0]
        except ParseError as exc:
            self.parsed("detail", exc)

    def single_request(self, parse: str) -> None:
        src = self.source
        url = src.start_urls[0]
        body = self.get("listing", url)
        if body is None:
            return
        try:
            if parse == "greenhouse":
                from scrapers.parsers.greenhouse import parse_jobs

                postings = parse_jobs(body, url, src.name, src.company, src.lang)
            else:
                from scrapers.parsers.lever import parse_postings

                postings = parse_postings(body, url, src.name, src.company, src.lang)
        except ParseError as exc:
            self.parsed("listing", exc)
            return
        self.report.listed = len(postings)
        self.report.posting = postings[0] if postings else None


def check_source(source: SourceConfig) -> CheckReport:
    """Fetch one listing and one detail page of ``source`` live and parse them (robots.txt obeyed).
    Raises SourceConfigError when the source needs an auth file that is missing."""
    load_auth(source)
    c = _Check(source)
    if source.spider == "json_api":
        c.json_api()
    elif source.spider == "jobposting":
        c.jobposting()
    elif source.spider in ("greenhouse", "lever"):
        c.single_request(source.spider)
    else:  # pragma: no cover - config validation knows every spider
        raise SourceConfigError(f"source {source.name}: no check for spider {source.spider!r}")
    if c.report.posting is not None:
        from scrapers.pipelines.posting import PostingRules, normalise

        n = normalise(c.report.posting, PostingRules.of(source))
        c.report.posting = replace(c.report.posting, country=n.country)
    return c.report


def describe_source(source: SourceConfig) -> dict[str, object]:
    """What ``sources show`` prints: the config, with the URLs filled in for the first token."""
    token = next(iter(source.tokens), None)
    urls = [fill_params(u, source, token) for u in source.urls()]
    out: dict[str, object] = {
        "name": source.name, "spider": source.spider, "enabled": source.enabled, "country": source.country,
        "lang": source.lang, "urls": urls, "needs_auth": source.needs_auth, "auth_file": str(auth_path(source)),
        "auth_file_present": auth_path(source).exists(), "render": source.render,
        "politeness": {"robots_txt": source.robots_txt, "autothrottle": source.autothrottle,
                       "download_delay": source.download_delay, "concurrency": source.concurrency,
                       "max_requests": source.max_requests},
        "tokens": {t: {"company": c, "country": k} for t, (c, k) in source.tokens.items()},
        "params": source.params, "notes": source.notes,
    }
    if source.api is not None:
        out["fields"] = source.api.fields
        if source.api.detail is not None:
            out["detail_fields"] = source.api.detail.fields
    return out
