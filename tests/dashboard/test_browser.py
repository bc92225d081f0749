"""The dashboard in a real browser (Debian chromium, headless, driven by Playwright): every page opens, a
filter changes a chart's data and a table, CSV and XLSX downloads hold the rows with n and intervals, a click
on a bar opens the postings behind it, a label marked wrong shows in the audit view, and nothing is fetched
from outside 127.0.0.1. Screenshots of every page go to LABOURWATCH_TEST_SCREENSHOTS (default: tmp dir)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from sqlalchemy import Engine

from dashboard.i18n import category_name
from db import dashboard as data
from db.audit import latest_audit
from db.migrate import upgrade
from db.session import get_engine
from labourwatch.settings import get_settings
from tests.dashboard.conftest import build_demo_db

CHROMIUM = os.environ.get("LABOURWATCH_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def served(request: pytest.FixtureRequest, lw_home: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Engine]]:
    """`labourwatch dashboard` serving a small demo database (minimum cell size 30) on each backend."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}; `make system-deps` installs Debian's chromium")
        pytest.skip("chromium not installed")
    pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("LABOURWATCH_MIN_CELL_SIZE", "30")
    get_settings.cache_clear()
    url = (f"sqlite:///{(lw_home / 'dash.db').as_posix()}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    monkeypatch.setenv("LABOURWATCH_DB_URL", url)
    get_settings.cache_clear()
    engine = get_engine(url)
    upgrade(engine)
    build_demo_db(engine, brief_dir=lw_home / "briefs")
    port = _free_port()
    env = {**os.environ, "LABOURWATCH_DB_URL": url, "LABOURWATCH_HOME": str(lw_home)}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "dashboard", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base, timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"dashboard exited: {proc.stdout.read() if proc.stdout else ''}") from None
                time.sleep(0.2)
        else:
            raise AssertionError("dashboard did not answer within 30 s")
        yield base, engine
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        engine.dispose()


def _plot(page, block: str) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate(f"""() => {{ const g = document.querySelector('#block-{block} .js-plotly-plot');
        return g && g.data ? g.data.map(t => ({{x: t.x, y: t.y, customdata: t.customdata}})) : null; }}""")


def _column(page, block: str, col: str) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(f"#block-{block} td[data-dash-column='{col}']").all_inner_texts()


def _choose(page, dropdown: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.click(f"#{dropdown}")
    page.get_by_role("option", name=option, exact=True).click()


def test_dashboard_in_a_real_browser(served: tuple[str, Engine], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, engine = served
    shots = Path(os.environ.get("LABOURWATCH_TEST_SCREENSHOTS") or tmp_path / "screens")
    shots.mkdir(parents=True, exist_ok=True)
    ro = data.readonly_engine(engine.url.render_as_string(hide_password=False))
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname != "127.0.0.1" else None)
        page.set_default_timeout(60_000)  # a loaded CI machine, not a budget
        expect.set_options(timeout=60_000)  # expect() has its own wait (5 s by default), not the page's

        # Overview: the month's key figures and the recorded brief, served as a PDF
        page.goto(base)
        expect(page.locator("#block-overview td[data-dash-column='month']").first).to_have_text("2026-03")
        n_all = data.demand_points(ro, period="2026-03", categories=["all"])[0].n
        assert _column(page, "overview", "n_postings") == [f"{n_all:,}"]
        href = page.get_by_role("link", name="2026-03 (zh, 4 p.)").get_attribute("href")
        assert page.request.get(base.rstrip("/") + href).body().startswith(b"%PDF")
        page.screenshot(path=str(shots / "overview.png"), full_page=True)
        with page.expect_download() as dl:  # the findings list downloads with values, intervals and n
            page.locator("#block-findings-all button.dl").nth(0).click()
        found = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
        shown = page.locator(".findings li").all_inner_texts()
        assert [r["text"] for r in found] == shown and all(r["n"] for r in found if r["suppressed"] == "False")

        # Demand: the YoY chart and table follow the breakdown filter
        page.click("#nav-demand")
        page.wait_for_selector("#block-demand-yoy .js-plotly-plot")
        before = _plot(page, "demand-yoy")[0]
        assert {cd[2] for cd in before["customdata"]} == {"all"}
        table_before = _column(page, "demand-yoy", "n")
        _choose(page, "dm-dim", "城市")
        _choose(page, "dm-value", "北京")
        page.wait_for_function("""() => { const g = document.querySelector('#block-demand-yoy .js-plotly-plot');
            return g && g.data && g.data[0].customdata && g.data[0].customdata[0][3] === '北京'; }""")
        after = _plot(page, "demand-yoy")[0]
        want = {p.category: p for p in data.demand_points(ro, dim="city", dim_value="北京", period="2026-03")
                if p.yoy_change is not None}
        got = {cd[4]: y for cd, y in zip(after["customdata"], after["y"], strict=True)}
        assert got.keys() == want.keys()
        assert all(got[c] == pytest.approx(want[c].yoy_change) for c in got)
        expect(page.locator("#block-demand-yoy td[data-dash-column='n']").first).not_to_have_text(table_before[0])
        table_after = _column(page, "demand-yoy", "n")
        assert table_after != table_before
        assert {int(x.replace(",", "")) for x in table_after} <= {p.n for p in want.values()}
        page.screenshot(path=str(shots / "demand.png"), full_page=True)
        # ISO weeks: the index chart switches to weekly periods
        page.get_by_text("ISO 周", exact=True).click()
        page.wait_for_function("""() => { const g = document.querySelector('#block-demand-index .js-plotly-plot');
            return g && g.data && g.data.length && String(g.data[0].x[0]).includes('-W'); }""")
        weekly = _plot(page, "demand-index")
        assert all(str(x).count("-W") == 1 for t in weekly for x in t["x"])
        page.get_by_text("月", exact=True).click()
        page.wait_for_function("""() => { const g = document.querySelector('#block-demand-yoy .js-plotly-plot');
            return g && g.data && g.data[0].customdata && g.data[0].customdata[0][0] === 'month'; }""")

        # Downloads: CSV (UTF-8 with BOM) and XLSX of the filtered table, with n and intervals
        with page.expect_download() as dl:
            page.locator("#block-demand-yoy button.dl").nth(0).click()
        raw = Path(dl.value.path()).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert {"n", "ci_low", "ci_high", "yoy_change", "suppressed"} <= set(rows[0])
        assert {r["code"]: int(r["n"]) for r in rows} == {c: p.n for c, p in want.items()}
        assert all(r["category"] == category_name(r["code"], "zh") != r["code"] for r in rows)
        with page.expect_download() as dl:
            page.locator("#block-demand-yoy button.dl").nth(1).click()
        assert dl.value.suggested_filename.endswith(".xlsx")
        ws = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
        header = [c.value for c in ws[1]]
        assert "ci_low" in header and ws.max_row == len(want) + 1
        xl = {r[header.index("code")]: r[header.index("ci_high")] for r in ws.iter_rows(min_row=2, values_only=True)}
        assert all(xl[c] == pytest.approx(want[c].yoy_ci_high, abs=1e-4) for c in want)

        # Click a bar: the postings behind that cell
        bar = page.locator("#block-demand-yoy .trace.bars .point path").last
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        assert box is not None
        # plotly's drag layer lies over the bars: move there and click as a user would
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_url("**/postings?*")
        q = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
        assert (q["dim"], q["v"], q["p"]) == ("city", "北京", "2026-03")
        expect(page.locator("#cell-label")).to_contain_text("北京")
        first = page.locator("table.postings tbody tr").first
        pid = int(first.locator("td").first.inner_text())
        sample = data.cell_postings(ro, period_type="month", period="2026-03", dim="city", dim_value="北京",
                                    roles=None if q["cat"] in ("all", "new_economy") else [q["cat"]])
        assert pid in {s.posting_id for s in sample} or q["cat"] in ("all", "new_economy")
        page.screenshot(path=str(shots / "postings.png"), full_page=True)
        first.locator("button.mark.bad").first.click()  # the role label is wrong
        expect(page.locator("#mark-status")).to_contain_text(f"#{pid}")
        expect(first.locator(".verdict").first).to_have_text("✗")
        stored = [a for a in latest_audit(engine) if a.posting_id == pid]
        assert [(a.field, a.correct, a.origin) for a in stored] == [("role_category", False, "dashboard")]

        # Audit view shows the verdict and the measured accuracy
        page.click("#nav-audit")
        expect(page.locator("#block-verdicts td[data-dash-column='posting_id']").first).to_have_text(str(pid))
        assert _column(page, "verdicts", "verdict")[0] == "wrong"
        acc = dict(zip(_column(page, "accuracy", "code"), _column(page, "accuracy", "n"), strict=True))
        assert acc["role_category"] == "1"
        page.screenshot(path=str(shots / "audit.png"), full_page=True)

        # AI, experience, quality pages; then the whole dashboard in English
        page.click("#nav-ai")
        page.wait_for_selector("#block-ai-levels .js-plotly-plot")
        expect(page.locator("#ss-summary")).to_contain_text("→")
        page.screenshot(path=str(shots / "ai.png"), full_page=True)
        page.click("#nav-experience")
        page.wait_for_selector("#block-exp-city .js-plotly-plot")
        cities = {cd[3] for t in _plot(page, "exp-city") for cd in t["customdata"]}
        assert "上海" in cities and len(cities) == 8
        page.screenshot(path=str(shots / "experience.png"), full_page=True)
        page.click("#nav-quality")
        expect(page.locator("#block-sources td[data-dash-column='duplicates']")).to_have_count(3)
        page.screenshot(path=str(shots / "quality.png"), full_page=True)
        page.get_by_text("English", exact=True).click()
        expect(page.locator("#nav-demand")).to_have_text("Demand")
        page.click("#nav-demand")
        page.wait_for_selector("#block-demand-yoy .js-plotly-plot")
        en = _plot(page, "demand-yoy")[0]
        assert {cd[3] for cd in en["customdata"]} == {"北京"}  # the filters survive the language switch
        assert en["x"] == [category_name(cd[4], "en") for cd in en["customdata"]]
        assert "New-economy roles" in en["x"]
        page.screenshot(path=str(shots / "demand-en.png"), full_page=True)
        browser.close()
    assert outside == [], f"requests left 127.0.0.1: {outside[:5]}"
    for name in ("overview", "demand", "postings", "audit", "ai", "experience", "quality", "demand-en"):
        assert (shots / f"{name}.png").stat().st_size > 20_000
