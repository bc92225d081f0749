"""Every catalogue source crawled for real (Scrapy in a subprocess) through its shipped config, against a
local server replaying recorded real responses or fixtures written from the boards' API documentation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from db import schema
from db.session import get_engine, session_scope
from labourwatch.settings import get_settings
from scrapers.config import SourceConfigError, load_sources
from scrapers.crawl import crawl, crawl_job
from tests.scrapers.conftest import StaticSite
from tests.scrapers.replay import FIXTURE_REPLAYS, RECORDED_REPLAYS, Replay, recorded_dir

RECORDED = recorded_dir()
pytestmark = pytest.mark.usefixtures("migrated_db")  # crawls need a migrated database
needs_recorded = pytest.mark.skipif(RECORDED is None, reason="../shared/data/real/recorded is not present")


def _stored(source: str) -> dict[str, schema.Posting]:
    with session_scope(get_engine()) as s:
        rows = s.scalars(select(schema.Posting).join(schema.Source).where(schema.Source.name == source)).all()
        s.expunge_all()
    return {r.external_id: r for r in rows}


def _write_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, auth: dict[str, object]) -> None:
    auth_dir = tmp_path / "auth"
    auth_dir.mkdir(exist_ok=True)
    (auth_dir / f"{source}.yaml").write_text(yaml.safe_dump(auth, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_AUTH_DIR", str(auth_dir))
    get_settings.cache_clear()


def _replay_and_check(replay: Replay, site: StaticSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if replay.auth:
        _write_auth(tmp_path, monkeypatch, replay.source, replay.auth)
    fast = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
    first = crawl(crawl_job(replay.source, base_url=site.url, extra_settings=fast))
    assert first.status == "succeeded", (first.error, first.stats, site.requests)
    stored = _stored(replay.source)
    assert len(stored) == replay.count and first.stats.inserted == replay.count, (sorted(stored), first.stats)
    e = replay.expect
    p = stored[e.external_id]
    assert (p.title, p.company, p.city, p.posted_at) == (e.title, e.company, e.city, e.posted_at)
    assert p.description and all(t in p.description for t in e.description_has), p.description
    assert "<" not in p.description  # HTML became text
    assert (p.board_category, p.experience_text, p.country) == (e.board_category, e.experience_text, e.country)
    if replay.auth:  # the user's cookies went with every request to the board
        board = [h for m, path, h, _ in site.seen if not path.endswith("/robots.txt")]
        assert board and all("cookie" in h for h in board)
    second = crawl(crawl_job(replay.source, base_url=site.url, extra_settings=fast))
    assert second.status == "succeeded", second.error
    assert second.stats.inserted == 0 and second.stats.updated == 0, second.stats
    assert len(_stored(replay.source)) == replay.count


@pytest.mark.slow
@needs_recorded
@pytest.mark.parametrize("name", sorted(RECORDED_REPLAYS))
def test_recorded_replay(name: str, static_site: Callable[..., StaticSite], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert RECORDED is not None
    replay = RECORDED_REPLAYS[name](RECORDED)
    _replay_and_check(replay, static_site({}, replay.handler), tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIXTURE_REPLAYS))
def test_fixture_replay(name: str, static_site: Callable[..., StaticSite], tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    replay = FIXTURE_REPLAYS[name]()
    _replay_and_check(replay, static_site({}, replay.handler), tmp_path, monkeypatch)


def test_every_catalogue_source_has_a_replay_and_a_country() -> None:
    sources = load_sources()
    catalogue = {n for n in sources if not n.startswith("demo_")}
    assert catalogue == set(FIXTURE_REPLAYS) | set(RECORDED_REPLAYS)
    for name in catalogue:
        src = sources[name]
        assert not src.enabled, f"{name} must ship disabled"
        assert src.country, f"{name} declares no country"
        assert src.download_delay and src.download_delay >= 1 and src.max_requests, f"{name}: politeness"
        assert src.robots_txt and src.autothrottle


def test_needs_auth_without_auth_file_is_a_clear_error() -> None:
    with pytest.raises(SourceConfigError, match=r"source 'boss' needs your own request headers/cookies.*boss\.yaml"):
        crawl(crawl_job("boss", base_url="http://127.0.0.1:9"))


@pytest.mark.slow
@pytest.mark.parametrize(("source", "body", "said"), [
    ("lagou", {"status": False, "msg": "您操作太频繁,请稍后再访问", "clientIp": "1.2.3.4", "state": 2402}, "您操作太频繁"),
    ("boss", {"code": 37, "message": "您的访问行为异常.", "zpData": {}}, "访问行为异常"),
])
def test_board_refusal_fails_the_crawl_naming_the_source(source: str, body: dict[str, object], said: str,
                                                         static_site: Callable[..., StaticSite], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    _write_auth(tmp_path, monkeypatch, source, {"cookies": "expired=1"})
    site = static_site({}, lambda p, b, h: None if p.endswith("robots.txt") else
                       (200, "application/json", json.dumps(body, ensure_ascii=False).encode()))
    report = crawl(crawl_job(source, base_url=site.url))
    assert report.status == "failed"
    assert report.error.startswith(f"{source} refused the crawl") and said in report.error
    assert len([p for p in site.requests if not p.endswith("robots.txt")]) == 1  # stopped, no retries
    assert _stored(source) == {}


@pytest.mark.slow
@pytest.mark.parametrize(("status", "body", "said"), [
    (403, b"Forbidden", "HTTP 403"),
    (200, b"<html><script src='https://passport.lagou.com/login/login.html'></script></html>", "login wall"),
])
def test_403_and_login_wall_stop_the_crawl(status: int, body: bytes, said: str,
                                           static_site: Callable[..., StaticSite], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _write_auth(tmp_path, monkeypatch, "lagou", {"cookies": "expired=1"})
    site = static_site({}, lambda p, b, h: None if p.endswith("robots.txt") else (status, "text/html", body))
    report = crawl(crawl_job("lagou", base_url=site.url))
    assert report.status == "failed" and said in report.error and "lagou refused" in report.error, report.error


@pytest.mark.slow
def test_cli_crawl_source_with_base_url(static_site: Callable[..., StaticSite]) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    site = static_site({}, FIXTURE_REPLAYS["workable"]().handler)
    result = CliRunner().invoke(app, ["crawl", "--source", "workable", "--base-url", site.url,
                                      "--set", "DOWNLOAD_DELAY=0"])
    assert result.exit_code == 0, result.output
    assert "workable: succeeded" in result.output and "2 new" in result.output
    assert "/api/v1/widget/accounts/workable?details=true" in site.requests
    missing = CliRunner().invoke(app, ["crawl", "--source", "boss", "--base-url", site.url])
    assert missing.exit_code == 1 and "needs your own request headers/cookies" in missing.output
