"""Render the monthly brief: trend tables → charts + HTML template → PDF (WeasyPrint), recorded in ``briefs``."""

from __future__ import annotations

import hashlib
import html
import logging
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from brief.data import GROUPS, BriefData, DemandRow, EvaluationRow, load_brief_data, validate_month
from db.briefs import record_brief
from db.session import Engine

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGS = ("zh", "en")
MIN_PAGES, MAX_PAGES = 4, 8
MAX_SOURCE_ROWS = 12
MAX_EVALUATION_ROWS = 12
MAX_ADJUSTED_ROWS = 6  # largest role categories on the measured-error page; the CLI prints them all
FONT_FAMILY = "LW Brief"  # the name brief.css uses; bound to the subset font files at render time
MINUS = "\u2212"
# Characters that may appear in numbers, dates and punctuation whatever the data: always in the subset.
EXTRA_CHARS = "0123456789+-−–—%‰.,:;·•…×±≈≤≥→←↑↓（）()【】《》“”‘’、，。：；！？0123456789年月日第页共"
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


class BriefError(RuntimeError):
    """The brief could not be rendered (bad arguments, no data, a font problem, or a page count out of range)."""


@dataclass(frozen=True)
class BriefResult:
    """A rendered brief: where it is, its page count and checksum, and how long it took."""

    path: Path
    pages: int
    sha256: str
    seconds: float


def template_file(name: str) -> Path:
    """``name`` from LABOURWATCH_BRIEF_TEMPLATES when that folder has it, else the packaged template."""
    from labourwatch.settings import get_settings

    custom = get_settings().brief_templates
    if custom is not None:
        if not custom.is_dir():
            raise BriefError(f"LABOURWATCH_BRIEF_TEMPLATES={custom} is not a folder.")
        if (custom / name).is_file():
            return custom / name
    return TEMPLATES / name


def load_strings(lang: str) -> Mapping[str, Any]:
    """The brief's words in ``lang`` from strings.yaml (restyled or packaged)."""
    if lang not in LANGS:
        raise BriefError(f"Language {lang!r} is not supported; use one of {', '.join(LANGS)}.")
    path = template_file("strings.yaml")
    data = _read_yaml(path, path.stat().st_mtime_ns)
    if not isinstance(data, Mapping) or not isinstance(data.get(lang), Mapping):
        raise BriefError(f"{path} has no '{lang}:' section of brief words.")
    missing = set(_read_yaml(TEMPLATES / "strings.yaml", 0)[lang]) - set(data[lang])
    if missing:
        raise BriefError(f"{path} lacks these '{lang}' keys: {', '.join(sorted(missing))}.")
    return data[lang]


@cache
def _read_yaml(path: Path, _mtime: int) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- formatting (numbers arrive from the trend tables; this only prints them) -------------------------------

def fmt_int(n: int | None, na: str = "—") -> str:
    return na if n is None else f"{n:,}"


def fmt_pct(x: float | None, digits: int = 1, na: str = "—") -> str:
    return na if x is None else f"{x * 100:.{digits}f}%"


def fmt_signed_pct(x: float | None, digits: int = 1, na: str = "—") -> str:
    if x is None:
        return na
    text = f"{x * 100:+.{digits}f}%"
    return text.replace("-", MINUS)


def fmt_ci(lo: float | None, hi: float | None, signed: bool, digits: int = 1) -> str:
    if lo is None or hi is None:
        return "—"
    f = fmt_signed_pct if signed else fmt_pct
    return f"{f(lo, digits)} – {f(hi, digits)}"


def month_label(month: str, lang: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    s = load_strings(lang)
    return s["month"].format(year=year, month=m, month_name=MONTHS_EN[m - 1])


def _flatten(value: Any) -> str:
    if isinstance(value, Mapping):
        return "".join(_flatten(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "".join(_flatten(v) for v in value)
    return str(value)


def _html_text(markup: str) -> str:
    body = re.sub(r"<style.*?</style>", " ", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def css_string(text: str) -> Any:
    """``text`` as a quoted CSS string, safe inside a <style> element (no quote or ``</style>`` escapes)."""
    from markupsafe import Markup

    escaped = "".join(ch if ch.isprintable() and ch not in "\"'\\<>&" else f"\\{ord(ch):x} " for ch in str(text))
    return Markup(f'"{escaped}"')


def _page_counter_css(template: str) -> Any:
    """'第 {page} 页，共 {pages} 页' → CSS content with counter(page) and counter(pages)."""
    from markupsafe import Markup

    parts = re.split(r"(\{page\}|\{pages\})", template)
    out = []
    for p in parts:
        if p == "{page}":
            out.append("counter(page)")
        elif p == "{pages}":
            out.append("counter(pages)")
        elif p:
            out.append(css_string(p))
    return Markup(" ".join(out))


# --- template context ------------------------------------------------------------------------------------

def _demand_row_view(r: DemandRow, name: str, css: str) -> dict[str, str]:
    return {"name": name, "n": fmt_int(r.n), "prev": fmt_int(r.n_prev_year),
            "yoy": fmt_signed_pct(r.yoy_change), "ci": fmt_ci(r.yoy_ci_low, r.yoy_ci_high, signed=True),
            "index": "—" if r.index_value is None else f"{r.index_value:.1f}", "css": css}


def build_context(data: BriefData, s: Mapping[str, Any], generated: datetime) -> dict[str, Any]:
    """Everything the template prints, formatted; all values come from ``data``."""
    month = data.month
    falling, rising = data.movers(3)
    css_of = {r.category: "falling" for r in falling} | {r.category: "rising" for r in rising}
    mover_rows = [_demand_row_view(r, data.name(r.category),
                                   "suppressed" if r.suppressed else css_of.get(r.category, ""))
                  for r in data.demand_month]
    group_rows = []
    for g in GROUPS:
        row = next((r for r in data.demand.get(g, ()) if r.period == month), None)
        if row is not None:
            group_rows.append(_demand_row_view(row, data.name(g), "suppressed" if row.suppressed else "group"))

    key_figures = []
    total = next((r for r in data.demand.get("all", ()) if r.period == month), None)
    if total is not None:
        key_figures.append({"label": s["key_postings"], "value": fmt_int(total.n),
                            "note": s["prev_year"].format(n=fmt_int(total.n_prev_year))})
        key_figures.append({"label": s["key_yoy"] + f" · {data.name('all')}",
                            "value": fmt_signed_pct(None if total.suppressed else total.yoy_change),
                            "note": s["ci"].format(low=fmt_signed_pct(total.yoy_ci_low),
                                                   high=fmt_signed_pct(total.yoy_ci_high))
                            if total.yoy_ci_low is not None and not total.suppressed else s["no_prior"]})
    for label, key in ((s["key_ai"], ("new_economy", "references_ai")), (s["key_exp"], ("all", "requires_3plus"))):
        sh = data.shares_month.get(key)
        if sh is None:
            continue
        key_figures.append({"label": label, "value": fmt_pct(None if sh.suppressed else sh.share),
                            "note": s["ci"].format(low=fmt_pct(sh.ci_low), high=fmt_pct(sh.ci_high))
                            + f" · n={fmt_int(sh.n)}"})

    # Findings resting on a cell under the minimum size are not headlined; their text still says so.
    # The market is in the masthead; the findings list starts with the figures.
    shown_findings = [f for f in data.findings if f.key != "market"]
    findings = [{"text": f.text} for f in shown_findings if not f.suppressed]
    withheld = [{"text": f.text} for f in shown_findings if f.suppressed]
    finding_notes = [{"base": f.base or "—", "method": _without_versions(f.method, data) or "—"}
                     for f in shown_findings if not f.suppressed]

    q = data.quality
    srcs = sorted(q.sources, key=lambda r: -r.postings)
    shown, rest = srcs[:MAX_SOURCE_ROWS], srcs[MAX_SOURCE_ROWS:]
    source_rows = [{
        "name": r.name, "kind": s["kinds"].get(r.kind, r.kind), "postings": fmt_int(r.postings),
        "canonical": fmt_int(r.canonical), "dup_rate": fmt_pct(r.duplicate_rate), "rejects": fmt_int(r.rejects),
        "last_run": (f"{r.last_run:%Y-%m-%d} {s['statuses'].get(r.last_status or '', r.last_status or '')}".strip()
                     if r.last_run else "—"),
    } for r in shown]
    if rest:
        n, c = sum(r.postings for r in rest), sum(r.canonical for r in rest)
        source_rows.append({"name": f"+{len(rest)}", "kind": "", "postings": fmt_int(n), "canonical": fmt_int(c),
                            "dup_rate": fmt_pct((n - c) / n if n else None),
                            "rejects": fmt_int(sum(r.rejects for r in rest)), "last_run": ""})
    evaluation_rows, evaluations_more = _evaluation_rows(q.evaluations, s)
    methods = [m.format(baseline=q.baseline_year, min=q.min_cell_size) for m in s["methods"]]

    def cells(supp: int, total_cells: int) -> str:
        return f"{fmt_int(supp)} / {fmt_int(total_cells)}" + (
            f" ({fmt_pct(supp / total_cells)})" if total_cells else "")

    generated_text = s["generated"].format(date=f"{generated:%Y-%m-%d}")
    from brief.findings import country_name, holiday_name

    m = data.market
    market_finding = next((f.text for f in data.findings if f.key == "market"), None)
    if market_finding:  # the same sentence `labourwatch findings` prints
        market_text = market_finding
    elif m is None or m.country:
        market_text = s["market_country"].format(country=country_name(m.country if m else None, data.lang))
    else:
        market_text = s["market_pooled_asked"] if m.pooled_reason == "asked" else s["market_pooled_none"]
    others = [ms for ms in data.markets if not m or ms.country != m.country]
    other_markets = s["other_markets"].format(markets=", ".join(
        f"{country_name(ms.country, data.lang)} n={fmt_int(ms.postings)}" for ms in others)) if others else ""
    sa = data.seasonal
    if sa is not None and sa.adjusted:
        hol = next((h for h in data.holidays.values()), "spring_festival")
        seasonal_text = s["seasonal_adjusted"].format(method=sa.method, holiday=holiday_name(hol, data.lang))
    else:
        seasonal_text = s["seasonal_short"].format(months=sa.history_months if sa else len(data.periods))
    holiday_text = ""
    if data.holidays:
        by_h: dict[str, list[str]] = {}
        for mo, h in sorted(data.holidays.items()):
            by_h.setdefault(h, []).append(mo)
        holiday_text = " ".join(s["holiday_note"].format(months=", ".join(ms), holiday=holiday_name(h, data.lang))
                                for h, ms in by_h.items())
    audit_rows = []
    if data.audit is not None:
        for fa in data.audit.fields:
            audit_rows.append({"field": s["fields"].get(fa.field, fa.field), "n": fmt_int(fa.n),
                               "accuracy": fmt_pct(fa.accuracy), "ci": f"{fmt_pct(fa.ci_low)}–{fmt_pct(fa.ci_high)}",
                               "date": f"{fa.last_at:%Y-%m-%d}",
                               "origin": ", ".join(s["audit_origins"].get(o, o) for o in fa.origins)})
    adjusted_rows, adjusted_text = _adjusted_rows(data, s)
    countries = ", ".join(f"{country_name(ms.country, data.lang)} ({fmt_int(ms.postings)})" for ms in data.markets)
    caveats = [c.format(sources=", ".join(r.name for r in q.sources) or "—", countries=countries or market_text)
               for c in s["caveats"]]
    return {
        "s": s, "lang": data.lang, "html_lang": "zh-CN" if data.lang == "zh" else "en",
        "month_label": month_label(month, data.lang), "generated": generated_text,
        "generated_iso": generated.isoformat(timespec="seconds"),
        "page_counter_css": _page_counter_css(s["page"]),
        "baseline_year": q.baseline_year, "min_cell_size": q.min_cell_size,
        "key_figures": key_figures, "findings": findings, "withheld": withheld,
        "finding_notes": finding_notes,
        "group_rows": group_rows, "mover_rows": mover_rows,
        "source_rows": source_rows,
        "totals": {"postings": fmt_int(q.postings), "canonical": fmt_int(q.canonical),
                   "dup_rate": fmt_pct(q.duplicate_rate), "rejects": fmt_int(q.rejects)},
        "cells": {"demand": cells(q.suppressed_demand, q.cells_demand),
                  "shares": cells(q.suppressed_shares, q.cells_shares)},
        "versions": {"model": q.model_version or "—", "taxonomy": q.taxonomy_version or "—"},
        "evaluation_rows": evaluation_rows, "evaluations_more": evaluations_more,
        "methods": methods,
        "market_text": market_text, "other_markets": other_markets, "seasonal_text": seasonal_text,
        "holiday_text": holiday_text, "audit_rows": audit_rows, "caveats": caveats,
        "adjusted_rows": adjusted_rows, "adjusted_text": adjusted_text,
    }


def _adjusted_rows(data: BriefData, s: Mapping[str, Any]) -> tuple[list[dict[str, str]], str]:
    """The largest role categories of the month, observed share vs share corrected for the audit's measured
    labelling error (``db.audit.category_adjustment``), and the sentence naming the audit behind it."""
    from brief.findings import country_name

    adj = data.category_adjustment
    if adj is None:
        return [], ""
    market = country_name(adj.country, data.lang)
    if not adj.adjusted:
        return [], s["adjusted_short"].format(n=fmt_int(adj.n_audit), min=fmt_int(adj.min_audit), market=market)
    shown = [r for r in adj.rows if r.n][:MAX_ADJUSTED_ROWS]
    rows = [{"name": data.name(r.code), "n": fmt_int(r.n), "observed": fmt_pct(r.observed),
             "adjusted": fmt_pct(r.adjusted), "ci": fmt_ci(r.ci_low, r.ci_high, signed=False),
             "audited": fmt_int(r.audited)} for r in shown]
    count = sum(1 for r in adj.rows if r.n)
    cmd = f"labourwatch audit report --month {adj.month} --country {adj.country or 'all'}"
    full = (s["adjusted_more"] if count > len(shown) else s["adjusted_all"]).format(shown=len(shown), count=count,
                                                                                    cmd=cmd)
    text = s["adjusted_text"].format(n=fmt_int(adj.n_audit), market=market, month=adj.month,
                                     total=fmt_int(adj.total), full=full)
    return rows, text


def _evaluation_rows(evaluations: Sequence[EvaluationRow], s: Mapping[str, Any]) -> tuple[list[dict[str, str]], int]:
    """One row per (evaluation set, label) with accuracy, macro-F1 and F1; newest sets first, at most
    ``MAX_EVALUATION_ROWS`` (the number left out is returned too)."""
    by_key: dict[tuple[str, str], dict[str, EvaluationRow]] = {}
    for e in evaluations:
        by_key.setdefault((e.dataset, e.field), {})[e.metric] = e
    newest = {k: max(m.values(), key=lambda e: e.created_at).created_at for k, m in by_key.items()}
    order = list(s["fields"])
    keys = sorted(by_key, key=lambda k: (-newest[k].timestamp(), k[0],
                                         order.index(k[1]) if k[1] in order else len(order), k[1]))
    rows = []
    for dataset, field in keys[:MAX_EVALUATION_ROWS]:
        metrics = by_key[(dataset, field)]
        rows.append({
            "field": s["fields"].get(field, field), "dataset": dataset,
            "accuracy": f"{metrics['accuracy'].value:.3f}" if "accuracy" in metrics else "—",
            "macro_f1": f"{metrics['macro_f1'].value:.3f}" if "macro_f1" in metrics else "—",
            "f1": f"{metrics['f1'].value:.3f}" if "f1" in metrics else "—",
            "n": fmt_int(max(e.n for e in metrics.values())), "date": f"{newest[(dataset, field)]:%Y-%m-%d}",
        })
    return rows, max(0, len(keys) - MAX_EVALUATION_ROWS)


def _without_versions(method: str | None, data: BriefData) -> str | None:
    """A finding's method without its trailing "; model X, taxonomy Y" (the versions table shows them)."""
    q = data.quality
    if not method or not q.model_version:
        return method
    for suffix in (f"; model {q.model_version}, taxonomy {q.taxonomy_version}",
                   f"；模型 {q.model_version}，分类体系 {q.taxonomy_version}"):
        if method.endswith(suffix):
            return method[: -len(suffix)]
    return method


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader([template_file("brief.html").parent, TEMPLATES]),
                      autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    return env


def render_html(context: Mapping[str, Any], charts: Mapping[str, Any]) -> str:
    """The brief as HTML; ``charts`` maps a chart name to a ``Chart`` (or None while collecting text)."""
    from markupsafe import Markup

    def chart(name: str) -> Markup:
        c = charts.get(name)
        if c is None:
            return Markup("")
        return Markup('<img src="{}" alt="{}" style="width: {:.1f}mm; height: {:.1f}mm">').format(
            c.path.resolve().as_uri(), name, c.width_mm, c.height_mm)

    return _environment().get_template("brief.html").render(**context, chart=chart)


# --- the brief --------------------------------------------------------------------------------------------

def default_output(month: str, lang: str, country: str | None = None) -> Path:
    from labourwatch.settings import get_settings

    suffix = f"-{country.lower()}" if country else ""
    return get_settings().home / "briefs" / f"brief-{month}-{lang}{suffix}.pdf"


def render_brief(engine: Engine, month: str, lang: str = "zh", output: Path | None = None, *,
                 record: bool = True, country: str | None = None) -> BriefResult:
    """Render the brief of ``month`` (YYYY-MM) in ``lang`` (zh|en) to ``output`` and record it in ``briefs``.

    Default output: ``<home>/briefs/brief-YYYY-MM-<lang>.pdf``. Reads only the trend and metadata tables;
    ``record=False`` (benchmarks) leaves the ``briefs`` table alone. ``country`` picks the market (ISO code,
    ``all`` for every country pooled); default the largest. A country asked for by name is in the file name.
    Raises ``BriefError`` for a bad month or language, a month without trend rows, a missing CJK font
    (naming fonts-noto-cjk) or a page count outside 4–8.
    """
    from brief.charts import draw_all
    from brief.data import BriefDataError
    from brief.fonts import FontError, find_cjk_fonts, subset_fonts
    from labourwatch.settings import get_settings

    t0, cpu0 = time.perf_counter(), time.process_time()
    settings = get_settings()
    try:
        validate_month(month)
    except BriefDataError as exc:
        raise BriefError(str(exc)) from exc
    s = load_strings(lang)
    output = Path(output) if output is not None else default_output(month, lang, country)
    try:
        fonts = find_cjk_fonts(settings.brief_font, settings.brief_font_bold)
        data = load_brief_data(engine, month, lang, group_names=s["groups"],
                               min_cell_size=settings.min_cell_size, baseline_year=settings.baseline_year,
                               country=country)
    except (BriefDataError, FontError) as exc:
        raise BriefError(str(exc)) from exc
    generated = datetime.now(ZoneInfo(settings.timezone))
    context = build_context(data, s, generated)
    # Cut the font to exactly what will be printed: the page text, every word of strings.yaml and the names
    # charts use. Anything outside it would make WeasyPrint fall back to (and subset) the full system font.
    chars = set(_html_text(render_html(context, {})))
    chars |= set(_flatten(s)) | set(EXTRA_CHARS)
    chars |= set("".join(c.name for c in data.categories)) | set("".join(data.group_names.values()))
    try:
        subset = subset_fonts(fonts, "".join(sorted(chars)), settings.cache_path / "brief-fonts")
    except FontError as exc:
        raise BriefError(str(exc)) from exc
    t_data = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="lw-brief-") as tmp:
        try:
            charts = draw_all(data, s, Path(tmp), family=subset.family, font_files=(subset.regular, subset.bold))
        except FontError as exc:
            raise BriefError(str(exc)) from exc
        t_charts = time.perf_counter()
        markup = render_html(context, charts)
        pages, pdf = _write_pdf(markup, subset.regular, subset.bold)
    t_pdf = time.perf_counter()
    if not MIN_PAGES <= pages <= MAX_PAGES:
        raise BriefError(f"The brief for {month} ({lang}) has {pages} pages, outside {MIN_PAGES}–{MAX_PAGES}; "
                         "check brief.css page breaks and the table sizes.")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = output.with_name(output.name + ".part")
    tmp_out.write_bytes(pdf)
    tmp_out.replace(output)
    digest = hashlib.sha256(pdf).hexdigest()
    if record:
        market = data.market.country if data.market is not None and data.market.country else "all"
        record_brief(engine, month, lang, output, digest, pages, data.quality.model_version, country=market)
    seconds = time.perf_counter() - t0
    # CPU seconds beside wall seconds: on a shared machine the wall time mostly measures the neighbours.
    log.info("brief %s %s: %d pages in %.1f s, %.1f s CPU (data+font %.1f s, charts %.1f s, pdf %.1f s) -> %s",
             month, lang, pages, seconds, time.process_time() - cpu0, t_data - t0, t_charts - t_data,
             t_pdf - t_charts, output)
    return BriefResult(output, pages, digest, seconds)


def _write_pdf(markup: str, regular: Path, bold: Path) -> tuple[int, bytes]:
    progress = logging.getLogger("weasyprint.progress")
    if progress.level == logging.NOTSET:  # its per-step INFO lines drown the CLI's output
        progress.setLevel(logging.WARNING)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    faces = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{path.resolve().as_uri()}"); '
        f"font-weight: {weight}; font-style: normal; }}"
        for path, weight in ((regular, 400), (bold, 700))
    )
    stylesheets = [CSS(string=faces, font_config=font_config)]
    # brief.html links brief.css relatively: resolve it where the (restyled or packaged) stylesheet is.
    document = HTML(string=markup, base_url=str(template_file("brief.css").parent) + "/").render(
        stylesheets=stylesheets, font_config=font_config)
    # WeasyPrint subsets again, cheaply now that the font is small; full_fonts=True would skip that but loses
    # the text mapping of some digits (pdftotext then reads "n=" for "n=114").
    pdf = document.write_pdf()
    return len(document.pages), pdf
