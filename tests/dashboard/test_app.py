"""The dashboard's server side without a browser: start-up errors, basic authentication, URL prefix, local
assets, downloads' encodings, and the typed reads it relies on (zero-filled series)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from dashboard import export
from dashboard.app import create_app
from db import dashboard as data
from db.migrate import upgrade
from db.session import get_engine
from flows.cli import app as cli
from labourwatch.settings import get_settings
from tests.dashboard.conftest import build_demo_db


@pytest.fixture
def sqlite_demo(lw_home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Engine]:
    url = f"sqlite:///{(lw_home / 'd.db').as_posix()}"
    monkeypatch.setenv("LABOURWATCH_DB_URL", url)
    get_settings.cache_clear()
    eng = get_engine(url)
    upgrade(eng)
    build_demo_db(eng, n=2000, brief_dir=lw_home / "briefs")
    return url, eng


def test_cli_refuses_a_missing_unmigrated_or_empty_database(lw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    url = f"sqlite:///{(lw_home / 'x.db').as_posix()}"
    monkeypatch.setenv("LABOURWATCH_DB_URL", url)
    get_settings.cache_clear()
    r = runner.invoke(cli, ["dashboard", "--port", "0"])
    assert r.exit_code == 1 and "does not exist" in r.output and "Traceback" not in r.output
    get_engine(url).connect().close()
    r = runner.invoke(cli, ["dashboard", "--port", "0"])
    assert r.exit_code == 1 and "labourwatch db upgrade" in r.output
    upgrade(get_engine(url))
    r = runner.invoke(cli, ["dashboard", "--port", "0"])
    assert r.exit_code == 1 and "no trend rows" in r.output
    r = runner.invoke(cli, ["bench", "dashboard"])
    assert r.exit_code == 1 and "no trend rows" in r.output


def test_bench_prints_a_timing_per_page(sqlite_demo: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    r = CliRunner().invoke(cli, ["bench", "dashboard", "--repeat", "1"])
    assert r.exit_code == 0, r.output
    for page in ("overview", "demand", "ai", "experience", "postings behind a figure", "sources and quality",
                 "audit"):
        assert re.search(rf"{page}\s+[\d.]+ ms", r.output), (page, r.output)
    monkeypatch.setenv("LABOURWATCH_DASHBOARD_USER", "ana")  # a user without a password is refused
    get_settings.cache_clear()
    r = CliRunner().invoke(cli, ["dashboard", "--port", "0"])
    assert r.exit_code == 1 and "LABOURWATCH_DASHBOARD_PASSWORD" in r.output


def test_basic_authentication_and_url_prefix(sqlite_demo: tuple[str, Engine]) -> None:
    url, eng = sqlite_demo
    web = create_app(data.readonly_engine(url), eng, user="ana", password="s3cret", url_prefix="/lw/")
    client = web.server.test_client()
    assert client.get("/lw/").status_code == 401
    assert client.get("/lw/", headers={"Authorization": "Basic YW5hOndyb25n"}).status_code == 401  # ana:wrong
    ok = {"Authorization": "Basic YW5hOnMzY3JldA=="}  # ana:s3cret
    page = client.get("/lw/", headers=ok)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # every script and stylesheet is served by the dashboard itself, under its prefix
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/lw/") for s in srcs), srcs
    assert "cdn" not in html.lower() and "https://" not in html
    assert client.get("/lw/_dash-layout", headers=ok).status_code == 200
    pdf = client.get("/lw/brief/2026-03/zh.pdf", headers=ok)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/lw/brief/2019-01/zh.pdf", headers=ok).status_code == 404
    assert client.get("/", headers=ok).status_code == 404


def test_downloads_are_utf8_bom_csv_and_xlsx() -> None:
    rows = [{"category": "传统软件开发", "n": 12, "share": 0.25, "ci_low": 0.1, "ci_high": 0.4}]
    raw = export.csv_bytes(rows, ["category", "n", "share", "ci_low", "ci_high"])
    assert raw.startswith(b"\xef\xbb\xbf")
    back = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert back == [{"category": "传统软件开发", "n": "12", "share": "0.25", "ci_low": "0.1", "ci_high": "0.4"}]
    ws = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(rows, ["n", "category"], sheet="demand"))).active
    assert ws.title == "demand" and [c.value for c in ws[1]] == ["n", "category"]
    assert [c.value for c in ws[2]] == [12, "传统软件开发"]


def test_zero_filled_series_show_periods_without_postings(sqlite_demo: tuple[str, Engine]) -> None:
    url, _ = sqlite_demo
    ro = data.readonly_engine(url)
    sparse = data.demand_points(ro, dim="city", dim_value="北京", categories=["ai_ml"])
    filled = data.demand_points(ro, dim="city", dim_value="北京", categories=["ai_ml"], fill_missing=True)
    months = data.trend_filters(ro).periods["month"]
    assert len(sparse) < len(months)  # 2,000 postings leave Beijing's AI roles without postings some months
    assert [p.period for p in filled] == list(months)
    added = [p for p in filled if p not in sparse]
    assert added and all(p.n == 0 and p.suppressed and p.index_value == 0.0 for p in added)


def _text(component) -> str:  # type: ignore[no-untyped-def]
    import json

    import plotly.utils

    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_overview_has_tiles_per_country_when_the_trend_tables_have_countries(
        sqlite_demo: tuple[str, Engine]) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from dashboard.app import Pages
    from db import schema

    url, eng = sqlite_demo
    pages = Pages(data.readonly_engine(url), eng, cache_seconds=0)
    pooled = _text(pages.overview_body("2026-03", "en"))
    assert "all countries pooled" in pooled and "New postings" in pooled
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with eng.begin() as c:
        for country, n in (("CN", 1234), ("GB", 56)):
            c.execute(insert(schema.TrendDemand).values(
                period_type="month", period="2026-03", dim="country", dim_value=country, category="all", n=n,
                suppressed=n < 100, model_version="m", taxonomy_version="1.0", computed_at=now))
    body = _text(pages.overview_body("2026-03", "en"))
    assert "all countries pooled" not in body
    assert body.index('"CN"') < body.index("1,234") < body.index('"GB"')  # one set of tiles per country
    assert "tile faded" in body  # GB's 56 postings are a small cell: its tile is faded, not hidden


def test_only_web_links_are_clickable() -> None:
    from dashboard.app import _safe_url

    assert _safe_url("https://jobs.example.com/1") and _safe_url("http://127.0.0.1:8765/jobs/2")
    assert not _safe_url("javascript:alert(1)") and not _safe_url(None) and not _safe_url("")
