"""Sources config: the shipped file loads, {demo_board} expands, bad entries name file and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from labourwatch.settings import get_settings
from scrapers.config import SourceConfigError, adhoc_source, get_source, load_sources


def test_shipped_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", "http://127.0.0.1:5555/")
    get_settings.cache_clear()
    sources = load_sources()
    assert {n for n, s in sources.items() if s.enabled} == {"demo_html", "demo_api"}
    assert {"lagou", "zhaopin", "job51", "boss", "liepin", "greenhouse", "lever", "ashby", "smartrecruiters",
            "workable", "recruitee", "personio", "remotive", "remoteok", "arbeitnow", "themuse"} <= set(sources)
    assert sources["demo_html"].sitemap_urls == ("http://127.0.0.1:5555/sitemap.xml",)
    assert sources["demo_api"].api.detail.url == "http://127.0.0.1:5555/api/positions/{id}"
    assert sources["demo_api"].domains() == ("127.0.0.1",)


def test_sources_file_setting_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("sources:\n  - name: x\n    spider: jobposting\n    start_urls: [http://a.test/jobs]\n"
                 "  - name: y\n    spider: nosuch\n", encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(f))
    get_settings.cache_clear()
    with pytest.raises(SourceConfigError, match=r"s\.yaml: sources\[1\] \(y\): spider 'nosuch' unknown"):
        load_sources()
    f.write_text("sources:\n  - name: x\n    spider: jobposting\n    start_urls: [http://a.test/jobs]\n",
                 encoding="utf-8")
    assert get_source("x").domains() == ("a.test",)
    with pytest.raises(SourceConfigError, match="'nope' is not in"):
        get_source("nope")
    f.write_text("sources:\n  - name: x\n    spider: json_api\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="needs an 'api' block"):
        load_sources()
    f.write_text("sources:\n  - name: x\n    spider: lever\n    start_urls: [u]\n    colour: red\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match=r"unknown keys \['colour'\]"):
        load_sources()


def test_adhoc_source_sitemap_or_listing() -> None:
    assert adhoc_source("s", "jobposting", "http://h/sitemap.xml").sitemap_urls == ("http://h/sitemap.xml",)
    assert adhoc_source("s", "jobposting", "http://h/jobs").start_urls == ("http://h/jobs",)


def test_resolve_source_configured_adhoc_and_url_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapers.config import resolve_source

    f = tmp_path / "s.yaml"
    f.write_text("sources:\n  - name: x\n    spider: jobposting\n    sitemap_urls: [http://a.test/sitemap.xml]\n"
                 "    download_delay: 2\n", encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(f))
    get_settings.cache_clear()
    assert resolve_source("x").sitemap_urls == ("http://a.test/sitemap.xml",)
    moved = resolve_source("x", url="http://b.test/jobs")
    assert moved.start_urls == ("http://b.test/jobs",) and moved.sitemap_urls == () and moved.download_delay == 2
    assert moved.domains() == ("b.test",)
    assert resolve_source("y", url="http://c.test/sitemap.xml", spider="jobposting").sitemap_urls == (
        "http://c.test/sitemap.xml",)
    with pytest.raises(SourceConfigError, match="configured for spider 'jobposting', not 'lever'"):
        resolve_source("x", spider="lever")
    with pytest.raises(SourceConfigError, match="'y' is not in"):
        resolve_source("y")


def _one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    f = tmp_path / "one.yaml"
    f.write_text("sources:\n  - name: x\n" + body, encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(f))
    get_settings.cache_clear()


API = ("    spider: json_api\n    api:\n      list_url: 'https://{token}.board.test/api?p={page}'\n"
       "      items_path: jobs\n      id_field: id\n      fields: {title: name}\n")


@pytest.mark.parametrize(("body", "error"), [
    ("    spider: jobposting\n    start_urls: [http://a.test]\n    country: Germany\n", "country 'Germany' is not"),
    ("    spider: jobposting\n    start_urls: [http://a.test]\n    country: de\n", "country 'de' is not"),
    (API, "list the company tokens"),
    (API + "    tokens: {acme: {company: Acme, country: XX}}\n", "country 'XX' is not"),
    (API + "    tokens: {acme: {name: Acme}}\n", "takes only 'company' and 'country'"),
    (API.replace("id_field: id", "id_field: id\n      method: PUT") + "    tokens: [a]\n", "api.method is 'PUT'"),
    ("    spider: jobposting\n    start_urls: [http://a.test]\n    render_with: chrome\n", "unknown keys"),
    (API + "    tokens: [a]\n    render: true\n", "render: true is for HTML pages"),
])
def test_catalogue_entry_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, error: str) -> None:
    _one(tmp_path, monkeypatch, body)
    with pytest.raises(SourceConfigError, match=r"one\.yaml: sources\[0\] \(x\): .*" + error.replace("(", "\\(")):
        load_sources()


def test_tokens_base_url_and_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapers.config import load_auth, with_base_url

    _one(tmp_path, monkeypatch, API + "    tokens: {acme: Acme, beta: {company: Beta, country: FR}}\n"
         "    needs_auth: true\n    headers: {Accept: application/json}\n")
    src = load_sources()["x"]
    assert src.tokens == {"acme": ("Acme", None), "beta": ("Beta", "FR")}
    assert src.domains() == ("acme.board.test", "beta.board.test")
    local = with_base_url(src, "http://127.0.0.1:8080")
    assert local.api.list_url == "http://127.0.0.1:8080/api?p={page}" and local.domains() == ("127.0.0.1",)
    assert local.tokens == src.tokens and local.headers == src.headers  # replace() keeps validated values
    with pytest.raises(SourceConfigError, match=r"source 'x' needs your own request headers/cookies.*x\.yaml"):
        load_auth(src)
    monkeypatch.setenv("LABOURWATCH_AUTH_DIR", str(tmp_path))
    get_settings.cache_clear()
    (tmp_path / "x.yaml").write_text("headers: {X-Token: t1}\ncookies: {sid: abc, uid: 7}\n", encoding="utf-8")
    assert load_auth(src) == {"Accept": "application/json", "X-Token": "t1", "Cookie": "sid=abc; uid=7"}
    (tmp_path / "x.yaml").write_text("token: t1\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="expected a mapping with 'headers' and/or 'cookies'"):
        load_auth(src)
    with pytest.raises(SourceConfigError, match="must be an absolute URL"):
        with_base_url(src, "localhost:8080")
