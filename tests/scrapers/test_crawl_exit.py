"""`labourwatch crawl` exit codes: a crawl that lost pages is not a success (real crawl on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import CliRunner

from flows.cli import app
from tests.scrapers.conftest import StaticSite
from tests.scrapers.test_crawl_static import _routes


def test_partial_crawl_exits_3(db_url: str, static_site: Callable[..., StaticSite]) -> None:
    """Issue point 11: a crawl that lost detail pages exited 0."""
    site = static_site({})
    site.routes.update(_routes(site.url))
    site.routes["/jobs/a.html"] = (500, "text/html", b"down")  # lost after all retries
    res = CliRunner().invoke(app, ["crawl", "--spider", "jobposting", "--url", f"{site.url}/listing",
                                   "--source", "lossy", "--set", "RETRY_TIMES=0", "--set", "DOWNLOAD_DELAY=0"])
    assert res.exit_code == 3, res.output
    assert "partial" in res.output
    ok = CliRunner().invoke(app, ["crawl", "--spider", "jobposting", "--url", f"{site.url}/listing2",
                                  "--source", "fine", "--set", "DOWNLOAD_DELAY=0"])
    assert ok.exit_code == 0, ok.output
