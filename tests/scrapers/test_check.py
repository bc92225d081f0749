"""`labourwatch sources check`: one listing and one detail page fetched live from a local server that answers
200, 403, a login wall and malformed JSON; fields found and missing, and why a request failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from labourwatch.settings import get_settings
from scrapers.check import check_source
from scrapers.config import load_sources, with_base_url
from tests.scrapers.conftest import FIXTURES, StaticSite
from tests.scrapers.replay import FIXTURE_REPLAYS

runner = CliRunner()


def _source(name: str, site: StaticSite):  # noqa: ANN202
    return with_base_url(load_sources()[name], site.url)


def _lagou_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "lagou.yaml").write_text("cookies: {JSESSIONID: abc}\n", encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_AUTH_DIR", str(tmp_path / "auth"))
    get_settings.cache_clear()


def test_200_listing_and_detail_report_found_and_missing_fields(static_site: Callable[..., StaticSite]) -> None:
    replay = FIXTURE_REPLAYS["smartrecruiters"]()
    site = static_site({}, replay.handler)
    report = check_source(_source("smartrecruiters", site))
    assert [(s.what, s.status, s.ok) for s in report.steps] == [("listing", 200, True), ("detail", 200, True)]
    assert report.ok and report.listed == 2
    f = report.fields
    assert (f["title"], f["company"], f["location"], f["country"]) == ("Data Engineer", "SmartRecruiters", "Kraków", "PL")
    assert "data warehouse" in f["description"] and f["board_category"] == "Information Technology"
    assert f["experience_text"] == "Mid-Senior Level" and f["salary_text"] is None
    assert "/robots.txt" in site.requests  # robots.txt asked first


def test_cli_prints_fields_and_exit_code(static_site: Callable[..., StaticSite]) -> None:
    site = static_site({}, FIXTURE_REPLAYS["greenhouse"]().handler)
    result = runner.invoke(app, ["sources", "check", "greenhouse", "--base-url", site.url])
    assert result.exit_code == 0, result.output
    assert "found   title            Machine Learning Engineer, Search" in result.output
    assert "missing experience_text" in result.output and "greenhouse: works" in result.output


def test_403_says_refused_and_where_the_auth_goes(static_site: Callable[..., StaticSite], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _lagou_auth(tmp_path, monkeypatch)
    site = static_site({}, lambda p, b, h: None if p.endswith("robots.txt") else (403, "text/html", b"Forbidden"))
    report = check_source(_source("lagou", site))
    assert not report.ok and report.posting is None
    step = report.steps[0]
    assert (step.what, step.status, step.ok) == ("listing", 403, False)
    assert "refused (HTTP 403)" in step.message and str(tmp_path / "auth" / "lagou.yaml") in step.message
    # the user's cookie was sent
    assert any("jsessionid=abc" in h.get("cookie", "").lower() for _, _, h, _ in site.seen)
    result = runner.invoke(app, ["sources", "check", "lagou", "--base-url", site.url])
    assert result.exit_code == 1 and "refused (HTTP 403)" in result.output and "lagou: does not work" in result.output


def test_login_wall_page_is_named(static_site: Callable[..., StaticSite], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _lagou_auth(tmp_path, monkeypatch)
    wall = (b"<html><head><title>\xe7\x99\xbb\xe5\xbd\x95</title></head><body>"
            b"<script>location.href='https://passport.lagou.com/login/login.html'</script></body></html>")
    site = static_site({}, lambda p, b, h: None if p.endswith("robots.txt") else (200, "text/html", wall))
    report = check_source(_source("lagou", site))
    step = report.steps[0]
    assert step.status == 200 and not step.ok
    assert "login wall or human check" in step.message and "passport.lagou.com/login" in step.message


def test_malformed_json_is_named(static_site: Callable[..., StaticSite]) -> None:
    site = static_site({"/v1/boards/gitlab/jobs?content=true": (200, "application/json", b'{"jobs": [{"id": 1,')})
    report = check_source(_source("greenhouse", site))
    step = report.steps[0]
    assert not step.ok and step.message.startswith("the answer is not valid JSON")


def test_board_message_on_refusal(static_site: Callable[..., StaticSite], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _lagou_auth(tmp_path, monkeypatch)
    body = '{"status": false, "msg": "您操作太频繁,请稍后再访问", "state": 2402}'.encode()
    site = static_site({}, lambda p, b, h: None if p.endswith("robots.txt") else (200, "application/json", body))
    step = check_source(_source("lagou", site)).steps[0]
    assert not step.ok and "the board refused the request" in step.message and "您操作太频繁" in step.message


def test_robots_disallow_is_obeyed(static_site: Callable[..., StaticSite]) -> None:
    site = static_site({"/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /v1/\n"),
                        "/v1/boards/gitlab/jobs?content=true": (200, "application/json",
                                                                (FIXTURES / "greenhouse/jobs.json").read_bytes())})
    step = check_source(_source("greenhouse", site)).steps[0]
    assert not step.ok and "robots.txt" in step.message
    assert "/v1/boards/gitlab/jobs?content=true" not in site.requests


def test_sources_list_and_show() -> None:
    out = runner.invoke(app, ["sources", "list"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "zhaopin" in out.output and "MISSING" in out.output
    shown = runner.invoke(app, ["sources", "show", "recruitee"])
    assert shown.exit_code == 0 and '"https://recruitee.recruitee.com/api/offers/"' in shown.output
    assert runner.invoke(app, ["sources", "show", "nope"]).exit_code == 2


def test_sitemap_source_check_and_missing_auth(static_site: Callable[..., StaticSite]) -> None:
    replay = FIXTURE_REPLAYS["careers_jobposting"]()
    site = static_site({}, replay.handler)
    src = load_sources()["careers_jobposting"]
    local = with_base_url(src, site.url)
    report = check_source(local)
    assert [(s.what, s.ok) for s in report.steps] == [("listing", True), ("detail", True)]
    assert report.listed == 2 and report.fields["title"] == "Senior Data Engineer"
    assert report.fields["experience_text"] == "3+ years of experience" and report.fields["country"] == "GB"
    result = runner.invoke(app, ["sources", "check", "boss", "--base-url", site.url])
    assert result.exit_code == 2 and "boss.yaml" in result.output
