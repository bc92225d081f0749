"""Fixtures for scraper tests: recorded pages and a local HTTP server that serves them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


Route = tuple[int, str, bytes]  # status, content type, body
# A dynamic route: (path with query, request body, request headers) -> Route, or None for 404.
RouteHandler = Callable[[str, bytes, dict[str, str]], "Route | None"]


class StaticSite:
    """A tiny HTTP server on 127.0.0.1 serving fixed routes (GET and POST), then ``handler`` for any other
    path; records every path requested, and the headers and body of each request in ``seen``."""

    def __init__(self, routes: dict[str, Route], handler: RouteHandler | None = None) -> None:
        self.routes = routes
        self.handler = handler
        self.requests: list[str] = []
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []  # method, path, headers, body
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.do_GET()

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                site.seen.append((self.command, self.path, headers, body_in))
                route = site.routes.get(self.path)
                if route is None and site.handler is not None:
                    route = site.handler(self.path, body_in, headers)
                status, ctype, body = route or (404, "text/plain", b"not found")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def migrated_db(request: pytest.FixtureRequest, lw_home: Path) -> None:
    """The database crawls store into (``db_url``'s when the test uses it), migrated as the ``labourwatch crawl``
    command and the flows do before crawling (``scrapers.crawl.crawl`` does not migrate)."""
    if "db_url" in request.fixturenames:
        request.getfixturevalue("db_url")
    from db.migrate import upgrade
    from db.session import get_engine

    upgrade(get_engine())


@pytest.fixture
def static_site() -> Iterator[Callable[..., StaticSite]]:
    sites: list[StaticSite] = []

    def make(routes: dict[str, Route], handler: RouteHandler | None = None) -> StaticSite:
        site = StaticSite(routes, handler).__enter__()
        sites.append(site)
        return site

    yield make
    for s in sites:
        s.__exit__()
