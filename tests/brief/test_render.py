"""Rendered zh and en briefs: numbers equal the trend tables, pages are drawn, the CJK font is embedded."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from brief.data import FindingLine, load_brief_data
from brief.render import MAX_PAGES, MIN_PAGES, BriefError, BriefResult, load_strings, render_brief
from db import schema
from labourwatch.settings import get_settings
from tests.brief.conftest import LAST_MONTH, fill_metadata, fill_trend_tables

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@dataclass(frozen=True)
class Rendered:
    engine: Engine
    home: Path
    results: dict[str, BriefResult]
    cli_output: str


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """zh rendered through the API (default path), en through the CLI; both from one trend database."""
    from typer.testing import CliRunner

    from db.migrate import upgrade
    from db.session import get_engine
    from flows.cli import app

    home = tmp_path_factory.mktemp("brief-home")
    url = f"sqlite:///{(home / 'brief.db').as_posix()}"
    mp = pytest.MonkeyPatch()
    mp.setenv("LABOURWATCH_HOME", str(home))
    mp.setenv("LABOURWATCH_DB_URL", url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine(url)
    upgrade(engine)
    fill_trend_tables(engine)
    fill_metadata(engine)
    zh = render_brief(engine, LAST_MONTH, "zh")
    en_path = home / "out" / "brief-en.pdf"
    cli = CliRunner().invoke(app, ["brief", "--month", LAST_MONTH, "--lang", "en", "--output", str(en_path)])
    assert cli.exit_code == 0, cli.output
    with engine.connect() as c:
        row = c.execute(select(schema.Brief).where(schema.Brief.lang == "en")).one()
    en = BriefResult(en_path, row.pages, row.sha256, 0.0)
    try:
        yield Rendered(engine, home, {"zh": zh, "en": en}, cli.output)
    finally:
        mp.undo()
        get_settings.cache_clear()
        get_engine.cache_clear()


def pdftotext(path: Path, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    if layout:
        cmd.append("-layout")
    return subprocess.run([*cmd, str(path), "-"], capture_output=True, text=True, check=True).stdout


def squash(text: str) -> str:
    """Whitespace removed and minus signs unified, so wrapped lines compare equal to the source text."""
    return re.sub(r"\s+", "", text).replace("\u2212", "-")


def month_findings(engine: Engine, lang: str) -> tuple[FindingLine, ...]:
    return load_brief_data(engine, LAST_MONTH, lang, group_names=load_strings(lang)["groups"], min_cell_size=100,
                           baseline_year=2024).findings


def expected_numbers(engine: Engine, key: str) -> tuple[float, float | None, float | None, int, list[int]]:
    """(value, ci_low, ci_high, n, other counts printed) of a finding, computed here from the trend rows."""
    from db.stats import shift_share, wilson_interval
    from models.taxonomy import load_taxonomy

    D, S = schema.TrendDemand, schema.TrendShare
    prev = f"{int(LAST_MONTH[:4]) - 1}{LAST_MONTH[4:]}"

    def share(category: str, metric: str, period: str = LAST_MONTH):  # type: ignore[no-untyped-def]
        with engine.connect() as c:
            return c.execute(select(S.n, S.k, S.share, S.ci_low, S.ci_high).where(
                S.period_type == "month", S.period == period, S.dim == "all", S.category == category,
                S.metric == metric)).one()

    if key.startswith("demand_yoy."):
        with engine.connect() as c:
            r = c.execute(select(D.yoy_change, D.yoy_ci_low, D.yoy_ci_high, D.n, D.n_prev_year).where(
                D.period_type == "month", D.period == LAST_MONTH, D.dim == "all",
                D.category == key.split(".", 1)[1])).one()
        return r.yoy_change, r.yoy_ci_low, r.yoy_ci_high, r.n, [r.n_prev_year]
    if key == "ai_share.new_economy":
        r, p = share("new_economy", "references_ai"), share("new_economy", "references_ai", prev)
        return r.share, r.ci_low, r.ci_high, r.n, [p.n]
    if key == "ai_levels.new_economy":
        n = share("new_economy", "references_ai").n
        k = share("new_economy", "ai_tools").k + share("new_economy", "ai_skills").k
        lo, hi = wilson_interval(k, n)
        return k / n, lo, hi, n, []
    if key == "ai_share_shift.new_economy":
        members = load_taxonomy().groups["new_economy"]
        a = {c: (share(c, "references_ai", prev).n, share(c, "references_ai", prev).k) for c in members}
        b = {c: (share(c, "references_ai").n, share(c, "references_ai").k) for c in members}
        ss = shift_share(a, b)
        return ss.total, None, None, ss.n_b, [ss.within, ss.between]  # type: ignore[list-item]
    if key == "experience.requires_3plus.all":
        r = share("all", "requires_3plus")
        return r.share, r.ci_low, r.ci_high, r.n, []
    raise AssertionError(f"finding {key!r} has no known source in the trend tables; extend this test")


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def percentages(text: str) -> list[tuple[float, int]]:
    """Every percentage printed in ``text`` as (absolute value, decimals)."""
    return [(float(m), len(m.split(".")[1]) if "." in m else 0) for m in re.findall(r"(\d+(?:\.\d+)?)\s*%", text)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_count_and_brief_row(rendered: Rendered, lang: str) -> None:
    result = rendered.results[lang]
    info = subprocess.run(["pdfinfo", str(result.path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert MIN_PAGES <= pages <= MAX_PAGES
    assert pages == result.pages
    with rendered.engine.connect() as c:
        row = c.execute(select(schema.Brief).where(schema.Brief.month == LAST_MONTH, schema.Brief.lang == lang)).one()
    assert row.pages == pages
    assert Path(row.path) == result.path.resolve()
    assert row.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert row.model_version == "roles-test-1"


def test_default_output_path_and_cli_message(rendered: Rendered) -> None:
    assert rendered.results["zh"].path == rendered.home / "briefs" / f"brief-{LAST_MONTH}-zh.pdf"
    assert "pages" in rendered.cli_output and "brief-en.pdf" in rendered.cli_output.replace("\n", "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_first_page_shows_the_findings_with_the_trend_tables_numbers(rendered: Rendered, lang: str) -> None:
    page1 = squash(pdftotext(rendered.results[lang].path, 1, 1))
    findings = month_findings(rendered.engine, lang)
    assert len([f for f in findings if not f.suppressed]) >= 5, findings
    for f in findings:
        assert squash(f.text) in page1, f"finding not on page 1: {f.text}"
        if f.key == "market":  # which market: no figure of its own (the fixture records no country)
            assert "未记录" in f.text or "no country is recorded" in f.text
            continue
        value, lo, hi, n, others = expected_numbers(rendered.engine, f.key)
        assert close(f.value, value) and close(f.ci_low, lo) and close(f.ci_high, hi) and f.n == n, (f, value)
        text = f.text.replace("\u2212", "-")
        if f.key.startswith("ai_share_shift"):  # percentage points: total, within and between
            for x in (value, *others):
                assert f"{x * 100:+.1f}" in text, (x, f.text)
            continue
        for count in (n, *others):
            assert f"{count:,}" in text, f"n={count:,} not printed in {f.text}"
        printed = percentages(text)
        for x in (value, lo, hi):
            assert x is not None
            assert any(abs(p - round(abs(x) * 100, d)) < 1e-9 for p, d in printed), (
                f"{x:.4f} not printed (at the text's precision) in {f.text}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_movers_table_equals_trend_rows(rendered: Rendered, lang: str) -> None:
    from brief.data import category_names

    text = pdftotext(rendered.results[lang].path, 3, 3, layout=True).replace("\u2212", "-")
    names = {c.code: c.name for c in category_names(lang)}
    D = schema.TrendDemand
    with rendered.engine.connect() as c:
        rows = c.execute(select(D.category, D.n, D.n_prev_year, D.yoy_change).where(
            D.period_type == "month", D.period == LAST_MONTH, D.dim == "all",
            D.category.notin_(("all", "new_economy")))).all()
    assert len(rows) == 25
    lines = text.splitlines()
    for cat, n, prev, yoy in rows:
        name = names.get(cat, cat)
        line = next((ln for ln in lines if ln.strip().startswith(name + " ") or ln.strip().startswith(name + "\t")),
                    None)
        if line is None:  # a long English name may wrap: fall back to the line holding the count
            line = next(ln for ln in lines if f"{n:,}" in ln and f"{prev:,}" in ln)
        assert f"{n:,}" in line and f"{prev:,}" in line, (name, line)
        assert f"{yoy * 100:+.1f}%" in line, (name, yoy, line)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_are_drawn(rendered: Rendered, lang: str, tmp_path: Path) -> None:
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "30", "-gray", "-png", str(rendered.results[lang].path),
                    str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == rendered.results[lang].pages
    ink = []
    for img in images:
        im = Image.open(img).convert("L")
        hist = im.histogram()
        ink.append(sum(hist[:200]) / (im.width * im.height))
    assert all(x > 0.01 for x in ink), f"a page is (nearly) blank: ink per page {ink}"
    # chart pages (2, 4, 5) carry much more ink than a page of text alone
    assert min(ink[1], ink[3], ink[4]) > 0.04, ink


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cjk_font_embedded_and_every_glyph_present(rendered: Rendered, lang: str) -> None:
    from fontTools.ttLib import TTFont

    path = rendered.results[lang].path
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    fonts = [ln.split() for ln in out.splitlines()[2:] if ln.strip()]
    assert fonts, out
    # Only the brief's own (subset) CJK faces: any other font would be a fallback for a missing glyph.
    assert all("LW-Brief" in f[0] for f in fonts), out
    for f in fonts:
        emb = f[-5]
        assert emb == "yes", f"font {f[0]} not embedded:\n{out}"
    text = pdftotext(path)
    assert "\ufffd" not in text
    if lang == "zh":
        assert "劳动力市场与人工智能月度简报" in text
        assert "传统软件开发" in text
    subsets = list((rendered.home / "cache" / "brief-fonts").glob("*.otf"))
    assert subsets
    covered: set[int] = set()
    for s in subsets:
        covered |= set((TTFont(s).getBestCmap() or {}).keys())
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in covered}
    assert not missing, f"characters without a glyph in the embedded fonts: {sorted(missing)}"


def test_quality_page(rendered: Rendered) -> None:
    text = pdftotext(rendered.results["en"].path, layout=True)
    assert "Methods and data quality" in text
    assert re.search(r"demo-board\s+job board\s+40\s+40\s+0\.0%\s+3", text), text
    assert re.search(r"Total\s+80\s+72\s+10\.0%\s+8", text)
    # one row per evaluation set and label; the latest figures, not the older ones
    assert re.search(r"Role category\s+gold-v1\s+0\.871\s+0\.842\s+—\s+400", text), text
    assert re.search(r"References AI\s+gold-v1\s+0\.948\s+—\s+0\.931\s+350", text), text
    assert "0.771" not in text
    assert "roles-test-1" in text and "2026.1" in text


@pytest.mark.slow
def test_warm_render_is_fast(rendered: Rendered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's target: a brief in under 15 s on 2 cores (font subset cached, imports warm)."""
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(rendered.home / "cache"))
    get_settings.cache_clear()
    with rendered.engine.connect() as c:
        before = c.execute(select(schema.Brief.sha256).where(schema.Brief.lang == "zh")).scalar_one()
    import time

    cpu0 = time.process_time()
    result = render_brief(rendered.engine, LAST_MONTH, "zh", tmp_path / "again.pdf", record=False)
    cpu = time.process_time() - cpu0
    # CPU seconds are what an idle 2-core machine would take; the wall bound only catches a hang, since a
    # shared CI machine can stretch wall time several times over.
    assert cpu < 15, f"brief took {cpu:.1f} s of CPU"
    assert result.seconds < 60, f"brief took {result.seconds:.1f} s"
    assert result.pages == rendered.results["zh"].pages
    with rendered.engine.connect() as c:  # record=False leaves the recorded brief alone
        assert c.execute(select(schema.Brief.sha256).where(schema.Brief.lang == "zh")).scalar_one() == before


def test_month_without_a_year_earlier(rendered: Rendered, tmp_path: Path) -> None:
    """The first months of data have no year-on-year change: the brief says so instead of failing."""
    result = render_brief(rendered.engine, "2024-02", "en", tmp_path / "early.pdf", record=False)
    assert MIN_PAGES <= result.pages <= MAX_PAGES
    text = pdftotext(result.path)
    assert "no year-earlier data" in text
    # No base period is named as such (not "too few postings"), and the change since the first month is offered.
    flat = re.sub(r"\s+", " ", text)
    assert "No base period: there are no postings in 2023-02" in flat
    assert "since the first month, 2024-01" in flat and "since 2024-01 (the first month" in flat
    with rendered.engine.connect() as c:
        assert c.execute(select(schema.Brief).where(schema.Brief.month == "2024-02")).first() is None


def test_restyled_templates_replace_the_packaged_ones(rendered: Rendered, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst's folder with a stylesheet and reworded strings changes the brief without touching code."""
    import yaml

    from brief.render import TEMPLATES

    custom = tmp_path / "style"
    custom.mkdir()
    css = (TEMPLATES / "brief.css").read_text(encoding="utf-8").replace("--accent: #0f7b6c", "--accent: #7b0f3c")
    (custom / "brief.css").write_text(css, encoding="utf-8")
    words = yaml.safe_load((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))
    words["en"]["title"] = 'Jobs & AI "Monitor" </style>'
    (custom / "strings.yaml").write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LABOURWATCH_BRIEF_TEMPLATES", str(custom))
    get_settings.cache_clear()
    result = render_brief(rendered.engine, LAST_MONTH, "en", tmp_path / "restyled.pdf", record=False)
    text = pdftotext(result.path, 2, 2)
    assert 'Jobs & AI "Monitor" </style>' in text  # the running head, escaped into CSS intact
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "20", "-f", "1", "-l", "1", "-png", str(result.path), str(tmp_path / "c")],
                   check=True)
    im = Image.open(next(tmp_path.glob("c-*.png"))).convert("RGB")
    r, g, b = im.getpixel((im.width // 2, int(im.height * 0.12)))  # inside the title band
    assert r > g and r > 90, (r, g, b)

    del words["en"]["movers_title"]
    (custom / "strings.yaml").write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BriefError, match="movers_title"):
        render_brief(rendered.engine, LAST_MONTH, "en", tmp_path / "broken.pdf", record=False)
