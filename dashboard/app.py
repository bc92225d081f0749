"""The Dash application: pages, filters, charts with intervals, downloads, click-through and audit marks.

All data comes from ``db.dashboard`` (typed reads; no SQL here). Pages read through a read-only engine; only
marking a label right or wrong uses the writable engine. Every asset is served by this process
(``serve_locally``): no CDN, no network.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlparse

import plotly.graph_objects as go
from dash import ALL, MATCH, Dash, Input, Output, State, ctx, dash_table, dcc, html, no_update
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format
from flask import Response, abort, request, send_file

from dashboard import export
from dashboard.i18n import (
    AI_METRICS,
    LEVEL_METRICS,
    PERCENT_COLUMNS,
    bucket_name,
    category_name,
    category_order,
    column_name,
    dim_name,
    field_name,
    group_members,
    level_name,
    metric_name,
    t,
)
from db import dashboard as data

FADED, SOLID = 0.3, 1.0
PERIOD_TYPES = ("month", "week")
# Filters kept per browser tab across pages and language switches (server-side initial values).
SAVED_FILTERS = (("dm-dim", "dm-value", "dm-pt", "dm-start", "dm-end"), ("ai-dim", "ai-value"))
PAGES = ("overview", "demand", "ai", "experience", "postings", "quality", "audit")
DEFAULT_CATEGORIES = ("all", "new_economy", "software_dev", "design_basic", "supply_chain_repetitive", "ai_ml")
COUNT_COLUMNS = {"n", "k", "n_prev_year", "n_postings", "ai_n", "n_stated", "postings", "canonical", "duplicates",
                 "rejects", "items", "right"}
GRAPH_CONFIG: Any = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


# --- small helpers -----------------------------------------------------------------------------------------


def pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def interval(lo: float | None, hi: float | None, signed: bool = False) -> str:
    return "–" if lo is None or hi is None else f"[{pct(lo, signed)}, {pct(hi, signed)}]"


def _sorted_categories(codes: Sequence[str]) -> list[str]:
    order = {c: i for i, c in enumerate(category_order())}
    return sorted(codes, key=lambda c: (order.get(c, len(order)), c))


def _column(col: str, lang: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": column_name(col, lang), "id": col}
    if col in PERCENT_COLUMNS:
        spec |= {"type": "numeric", "format": FormatTemplate.percentage(1)}
    elif col in COUNT_COLUMNS:
        spec |= {"type": "numeric", "format": Format().group(True)}
    return spec


def block(name: str, lang: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
          figure: go.Figure | None = None, title: str | None = None, page_size: int = 12,
          show_table: bool = True) -> html.Div:
    """A chart and/or table with CSV and XLSX downloads of its rows (which carry n and intervals)."""
    children: list[Any] = []
    if title:
        children.append(html.H3(title))
    if figure is not None:
        children.append(dcc.Graph(id={"type": "graph", "block": name}, figure=figure, config=GRAPH_CONFIG))
    children.append(html.Div([
        html.Button(t(lang, "csv"), id={"type": "csv", "block": name}, className="dl"),
        html.Button(t(lang, "xlsx"), id={"type": "xlsx", "block": name}, className="dl"),
        dcc.Download(id={"type": "download", "block": name}),
    ], className="downloads"))
    children.append(dash_table.DataTable(  # type: ignore[attr-defined]  # exported at import time
        id={"type": "table", "block": name}, data=[dict(r) for r in rows],
        columns=[_column(c, lang) for c in columns], page_size=page_size, sort_action="native",
        style_table={"overflowX": "auto", **({} if show_table else {"display": "none"})}, style_cell={"fontSize": 13, "textAlign": "left", "maxWidth": 360,
                                                       "whiteSpace": "normal"},
        style_data_conditional=[{"if": {"filter_query": "{suppressed} = true"}, "opacity": 0.45}],
    ))
    return html.Div(children, className="block", id=f"block-{name}")


def _empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(height=200, xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def _layout(fig: go.Figure, yformat: str | None = None, height: int = 420) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 50, "b": 120},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      font={"family": "Noto Sans CJK SC, Noto Sans SC, sans-serif"}, plot_bgcolor="#fafafa")
    if yformat:
        fig.update_yaxes(tickformat=yformat)
    return fig


def cell_href(period_type: str, period: str, dim: str, dim_value: str, category: str) -> str:
    return "/postings?" + urlencode({"pt": period_type, "p": period, "dim": dim, "v": dim_value, "cat": category})


# --- pages ---------------------------------------------------------------------------------------------------


class Pages:
    """Builds each page from ``db.dashboard`` reads on the read-only engine."""

    def __init__(self, ro: Any, rw: Any, prefix: str = "/", cache_seconds: float = 60.0) -> None:
        self.ro, self.rw, self.prefix = ro, rw, prefix
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: str, fn: Any) -> Any:
        """``fn()``, kept for ``cache_seconds``: what every callback asks (filters) and the costliest read."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self.cache_seconds:
                return hit[1]
        value = fn()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    # filters shared by the pages
    def filters(self) -> data.TrendFilters:
        return self._cached("filters", lambda: data.trend_filters(self.ro))

    def _dim_controls(self, prefix: str, lang: str, f: data.TrendFilters,
                      saved: Mapping[str, Any]) -> list[Any]:
        dims = ["all", *sorted(f.dims)]
        dim = str(saved.get(f"{prefix}-dim")) if saved.get(f"{prefix}-dim") in dims else "all"
        values = list(f.dims.get(dim, ())) if dim != "all" else []
        value = saved.get(f"{prefix}-value") if saved.get(f"{prefix}-value") in values else (
            values[0] if values else "")
        return [
            html.Label([t(lang, "breakdown"), dcc.Dropdown(
                id=f"{prefix}-dim", options=[{"label": dim_name(d, lang), "value": d} for d in dims], value=dim,
                clearable=False)], className="ctl"),
            html.Label([t(lang, "value"), dcc.Dropdown(
                id=f"{prefix}-value", options=[{"label": v, "value": v} for v in values] or [
                    {"label": "–", "value": ""}], value=value, clearable=False)], className="ctl"),
        ]

    # Overview ------------------------------------------------------------------------------------------------
    def overview(self, lang: str) -> html.Div:
        f = self.filters()
        months = list(f.periods.get("month", ()))
        return html.Div([
            html.H2(t(lang, "overview")),
            html.Div([html.Label([t(lang, "month"), dcc.Dropdown(
                id="ov-month", persistence=True, persistence_type="session", options=[{"label": m, "value": m} for m in reversed(months)],
                value=months[-1] if months else None, clearable=False)], className="ctl")], className="controls"),
            html.Div(id="ov-body"),
        ])

    def overview_body(self, month: str, lang: str) -> list[Any]:
        rows = []
        for k in data.key_figures(self.ro, month):
            d, ai, ai0, r3, un = k.postings, k.ai_share, k.ai_share_prev_year, k.requires_3plus, k.unstated
            rows.append({
                "country": k.country or t(lang, "pooled"), "month": month,
                "n_postings": d.n if d else None, "n_prev_year": d.n_prev_year if d else None,
                "yoy_change": _round(d.yoy_change, 4) if d else None,
                "yoy_ci_low": _round(d.yoy_ci_low, 4) if d else None,
                "yoy_ci_high": _round(d.yoy_ci_high, 4) if d else None,
                "ai_share": _round(ai.share, 4) if ai else None, "ai_n": ai.n if ai else None,
                "ai_ci_low": _round(ai.ci_low, 4) if ai else None, "ai_ci_high": _round(ai.ci_high, 4) if ai else None,
                "ai_share_prev_year": _round(ai0.share, 4) if ai0 else None,
                "share_3plus": _round(r3.share, 4) if r3 else None, "n_stated": r3.n if r3 else None,
                "ci_3plus_low": _round(r3.ci_low, 4) if r3 else None,
                "ci_3plus_high": _round(r3.ci_high, 4) if r3 else None,
                "unstated_share": _round(un.share, 4) if un else None,
                "suppressed": bool(d.suppressed) if d else True,
            })
        cols = list(rows[0]) if rows else []
        figures = data.key_figures(self.ro, month)
        out: list[Any] = [html.H3(t(lang, "key_figures")), *[self._cards(k, lang) for k in figures],
                          block("overview", lang, rows, cols)]
        # The month's findings as the brief words them: per country when the findings take one.
        for country in [k.country or None for k in figures]:
            findings = self._findings(month, lang, country)
            if findings:
                head = t(lang, "findings") + (f" — {country}" if country else "")
                rows = [{"country": country or "", "key": f.get("key"), "text": f["text"], "value": f.get("value"),
                         "ci_low": f.get("ci_low"), "ci_high": f.get("ci_high"), "n": f.get("n"),
                         "suppressed": f["suppressed"]} for f in findings]
                out.append(html.Div([html.H3(head), html.Ul(
                    [html.Li(f["text"], style={"opacity": FADED + 0.3} if f["suppressed"] else {})
                     for f in findings]),
                    block(f"findings-{country or 'all'}", lang, rows, list(rows[0]), show_table=False)],
                    className="block findings"))
        bs = data.briefs(self.ro)
        brief_rows = [{"month": b.month, "lang": b.lang, "country": b.country, "pages": b.pages,
                       "sha256": b.sha256[:12], "created_at": b.created_at.isoformat(timespec="seconds")} for b in bs]
        links = [html.Li(html.A(f"{b.month} ({b.lang}{', ' + b.country if b.country else ''}, {b.pages} p.)",
                                href=f"{self.prefix}brief/{b.month}/{b.lang}.pdf"
                                     + (f"?country={quote(b.country)}" if b.country else ""),
                                target="_blank")) for b in bs]
        out.append(html.Div([html.H3(t(lang, "briefs")), html.Ul(links) if links else html.P(t(lang, "no_briefs")),
                             block("briefs", lang, brief_rows, ["month", "lang", "country", "pages", "sha256", "created_at"])],
                            className="block"))
        return out

    def _cards(self, k: data.KeyFigures, lang: str) -> html.Div:
        """Tiles with the month's key figures of one country; a small cell's tile is faded."""
        d, ai, ai0, r3, un = k.postings, k.ai_share, k.ai_share_prev_year, k.requires_3plus, k.unstated

        def tile(label: str, big: str, sub: str, small: bool) -> html.Div:
            return html.Div([html.Div(label, className="tile-label"), html.Div(big, className="tile-big"),
                             html.Div(sub, className="tile-sub")], className="tile" + (" faded" if small else ""))

        tiles = [
            tile(t(lang, "postings_n"), f"{d.n:,}" if d else "–",
                 f"{t(lang, 'yoy')} {pct(d.yoy_change, True)} {interval(d.yoy_ci_low, d.yoy_ci_high, True)}"
                 if d else "", bool(d and d.suppressed)),
            tile(f"{t(lang, 'ai_share')} · {category_name(ai.category if ai else 'new_economy', lang)}",
                 pct(ai.share) if ai else "–",
                 (f"{interval(ai.ci_low, ai.ci_high)} n={ai.n:,}; {int(k.month[:4]) - 1}{k.month[4:]}: "
                  f"{pct(ai0.share) if ai0 else '–'}") if ai else "", bool(ai and ai.suppressed)),
            tile(t(lang, "share_3plus"), pct(r3.share) if r3 else "–",
                 f"{interval(r3.ci_low, r3.ci_high)} n={r3.n:,}" if r3 else "", bool(r3 and r3.suppressed)),
            tile(t(lang, "unstated"), pct(un.share) if un else "–", f"n={un.n:,}" if un else "",
                 bool(un and un.suppressed)),
        ]
        return html.Div([html.H4(k.country or t(lang, "pooled")), html.Div(tiles, className="tiles")],
                        className="country")

    def _findings(self, month: str, lang: str, country: str | None = None) -> list[dict[str, Any]]:
        """The brief's findings (text, value, interval, n, withheld) — for ``country`` when they take one."""
        from brief.data import load_findings

        try:
            found = load_findings(self.ro, month, lang, country=country)
        except ValueError as exc:
            return [{"text": str(exc), "suppressed": True}]
        return [{"key": f.key, "text": f.text, "value": f.value, "ci_low": f.ci_low, "ci_high": f.ci_high,
                 "n": f.n, "suppressed": f.suppressed} for f in found]

    # Demand --------------------------------------------------------------------------------------------------
    def demand(self, lang: str, saved: Mapping[str, Any]) -> html.Div:
        f = self.filters()
        pt = str(saved.get("dm-pt")) if saved.get("dm-pt") in PERIOD_TYPES else "month"
        periods = list(f.periods.get(pt, ()))
        start = saved.get("dm-start") if saved.get("dm-start") in periods else (periods[0] if periods else None)
        end = saved.get("dm-end") if saved.get("dm-end") in periods else (periods[-1] if periods else None)
        cats = _sorted_categories(f.categories)
        default = [c for c in DEFAULT_CATEGORIES if c in cats] or cats[:5]
        return html.Div([
            html.H2(t(lang, "demand")),
            html.Div([
                *self._dim_controls("dm", lang, f, saved),
                html.Label([t(lang, "period_type"), dcc.RadioItems(
                    id="dm-pt", options=[{"label": t(lang, "by_month"), "value": "month"},
                                         {"label": t(lang, "by_week"), "value": "week"}], value=pt,
                    inline=True)], className="ctl"),
                html.Label([t(lang, "from"), dcc.Dropdown(id="dm-start", options=_opts(periods), value=start,
                                                          clearable=False)], className="ctl"),
                html.Label([t(lang, "to"), dcc.Dropdown(id="dm-end", options=_opts(periods), value=end,
                                                        clearable=False)], className="ctl"),
                html.Label([t(lang, "categories"), dcc.Dropdown(
                    id="dm-cats", persistence=True, persistence_type="session", options=[{"label": category_name(c, lang), "value": c} for c in cats],
                    value=default, multi=True)], className="ctl wide"),
            ], className="controls"),
            html.P(t(lang, "faded_note"), className="note"),
            html.Div(id="dm-body"),
        ])

    def demand_body(self, lang: str, dim: str, value: str, pt: str, start: str, end: str,
                    cats: Sequence[str]) -> list[Any]:
        series = data.demand_points(self.ro, period_type=pt, dim=dim, dim_value=value, start=start, end=end,
                                    categories=list(cats) or None, fill_missing=True)
        fig = go.Figure()
        by_cat: dict[str, list[data.DemandPoint]] = {}
        for p in series:
            by_cat.setdefault(p.category, []).append(p)
        has_sa = any(p.index_sa is not None for p in series)
        for cat in _sorted_categories(list(by_cat)):
            pts = by_cat[cat]
            name = category_name(cat, lang)
            fig.add_trace(go.Scatter(
                x=[p.period for p in pts], y=[p.index_value for p in pts], mode="lines+markers", name=name,
                marker={"opacity": [FADED if p.suppressed else SOLID for p in pts], "size": 8},
                customdata=[[pt, p.period, dim, value, cat, p.n] for p in pts],
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.1f}}<br>n=%{{customdata[5]}}<extra></extra>"))
            if has_sa:
                fig.add_trace(go.Scatter(
                    x=[p.period for p in pts], y=[p.index_sa for p in pts], mode="lines",
                    name=f"{name} — {t(lang, 'index_sa')}", line={"dash": "dash"},
                    text=[p.holiday_shift or "" for p in pts],
                    hovertemplate=f"{name} SA<br>%{{x}}: %{{y:.1f}} %{{text}}<extra></extra>"))
        index_fig = _layout(fig) if series else _empty_figure("–")
        index_rows = [{"period": p.period, "category": category_name(p.category, lang), "code": p.category,
                       "dim": p.dim, "dim_value": p.dim_value, "n": p.n, "index": _round(p.index_value, 2),
                       **({"index_sa": _round(p.index_sa, 2), "holiday_shift": p.holiday_shift or ""} if has_sa
                          else {}), "suppressed": p.suppressed}
                      for p in series]
        index_cols = ["period", "category", "code", "dim", "dim_value", "n", "index",
                      *(["index_sa", "holiday_shift"] if has_sa else []), "suppressed"]

        # Year-on-year at the end of the range, every category, with intervals; small cells faded with their n.
        cross = [p for p in data.demand_points(self.ro, period_type=pt, dim=dim, dim_value=value, period=end)
                 if p.yoy_change is not None]
        cross = sorted(cross, key=lambda p: p.yoy_change or 0.0)
        yoy_fig = go.Figure(go.Bar(
            x=[category_name(p.category, lang) for p in cross], y=[p.yoy_change for p in cross],
            error_y={"type": "data", "symmetric": False,
                     "array": [(p.yoy_ci_high or 0) - (p.yoy_change or 0) for p in cross],
                     "arrayminus": [(p.yoy_change or 0) - (p.yoy_ci_low or 0) for p in cross]},
            marker={"opacity": [FADED if p.suppressed else SOLID for p in cross],
                    "color": ["#c0392b" if (p.yoy_change or 0) < 0 else "#2471a3" for p in cross]},
            text=[f"n={p.n}" for p in cross], textposition="outside",
            customdata=[[pt, p.period, dim, value, p.category, p.n] for p in cross],
            hovertemplate="%{x}<br>%{y:+.1%}<br>n=%{customdata[5]}<extra></extra>"))
        yoy_rows = [{"period": p.period, "category": category_name(p.category, lang), "code": p.category,
                     "n": p.n, "n_prev_year": p.n_prev_year, "yoy_change": _round(p.yoy_change, 4),
                     "ci_low": _round(p.yoy_ci_low, 4), "ci_high": _round(p.yoy_ci_high, 4),
                     "suppressed": p.suppressed} for p in cross]
        if cross:
            # Axis fitted to the changes, not to the widest interval of a tiny cell (its bar stays, clipped).
            ys = [p.yoy_change or 0.0 for p in cross]
            # Zero stays on the axis: a bar always starts at no change.
            yoy_fig.update_yaxes(range=[max(-1.2, min(0.0, min(ys)) - 0.35), max(0.3, max(ys) * 1.25 + 0.1)])
        return [
            block("demand-index", lang, index_rows, index_cols, index_fig, t(lang, "index")),
            block("demand-yoy", lang, yoy_rows, ["period", "category", "code", "n", "n_prev_year", "yoy_change",
                                                 "ci_low", "ci_high", "suppressed"],
                  _layout(yoy_fig, "+.0%", 480) if cross else _empty_figure("–"), f"{t(lang, 'yoy')} — {end}"),
        ]

    # AI ------------------------------------------------------------------------------------------------------
    def ai(self, lang: str, saved: Mapping[str, Any]) -> html.Div:
        f = self.filters()
        months = list(f.periods.get("month", ()))
        end = months[-1] if months else None
        start = _year_before(end, months) if end else None
        cats = _sorted_categories(f.categories)
        group_opts = [{"label": category_name(c, lang), "value": c} for c in ("new_economy", "all") if c in cats]
        return html.Div([
            html.H2(t(lang, "ai")),
            html.Div([
                *self._dim_controls("ai", lang, f, saved),
                html.Label([t(lang, "month"), dcc.Dropdown(id="ai-period", persistence=True, persistence_type="session", options=_opts(months), value=end,
                                                           clearable=False)], className="ctl"),
            ], className="controls"),
            html.P(t(lang, "faded_note"), className="note"),
            html.Div(id="ai-body"),
            html.H3(t(lang, "shift_share")),
            html.Div([
                html.Label([t(lang, "group"), dcc.Dropdown(id="ss-group", persistence=True, persistence_type="session", options=group_opts,
                                                           value=group_opts[0]["value"] if group_opts else None,
                                                           clearable=False)], className="ctl"),
                html.Label([t(lang, "from"), dcc.Dropdown(id="ss-from", persistence=True, persistence_type="session", options=_opts(months), value=start,
                                                          clearable=False)], className="ctl"),
                html.Label([t(lang, "to"), dcc.Dropdown(id="ss-to", persistence=True, persistence_type="session", options=_opts(months), value=end,
                                                        clearable=False)], className="ctl"),
            ], className="controls"),
            html.Div(id="ss-body"),
        ])

    def ai_body(self, lang: str, dim: str, value: str, period: str) -> list[Any]:
        pts = data.share_points(self.ro, metrics=list(AI_METRICS), dim=dim, dim_value=value, period=period)
        cats = _sorted_categories(sorted({p.category for p in pts}))
        # The three levels stack to the share referencing AI; its 95% interval is drawn on the total, each
        # level's interval is in the hover and the table.
        fig = go.Figure()
        for metric in LEVEL_METRICS:
            by = {p.category: p for p in pts if p.metric == metric}
            row = [by[c] for c in cats if c in by]
            bar = _share_bar(row, metric_name(metric, lang), lang, "month", dim, value)
            bar.error_y = None
            bar.customdata = [["month", p.period, dim, value, p.category, p.n, pct(p.ci_low), pct(p.ci_high)]
                              for p in row]
            bar.hovertemplate = ("%{x}<br>%{y:.1%} [%{customdata[6]}, %{customdata[7]}]<br>n=%{customdata[5]}"
                                 f"<extra>{metric_name(metric, lang)}</extra>")
            fig.add_trace(bar)
        total = [p for c in cats for p in pts if p.category == c and p.metric == "references_ai"]
        fig.add_trace(go.Scatter(
            x=[category_name(p.category, lang) for p in total], y=[p.share for p in total], mode="markers",
            name=metric_name("references_ai", lang), error_y=_err(total),
            marker={"color": "#222", "symbol": "line-ew-open", "size": 14,
                    "opacity": [FADED if p.suppressed else SOLID for p in total]},
            text=[f"n={p.n}" for p in total],
            customdata=[["month", p.period, dim, value, p.category, p.n] for p in total],
            hovertemplate="%{x}<br>%{y:.1%}<br>n=%{customdata[5]}<extra></extra>"))
        fig.update_layout(barmode="stack")
        rows = [_share_row(p, lang) for p in pts]
        # over time, for the two groups
        series = data.share_points(self.ro, metrics=["references_ai"], dim=dim, dim_value=value,
                                   categories=["all", "new_economy"])
        tfig = go.Figure()
        for cat in ("new_economy", "all"):
            ps = [p for p in series if p.category == cat]
            if not ps:
                continue
            tfig.add_trace(go.Scatter(
                x=[p.period for p in ps], y=[p.share for p in ps], name=category_name(cat, lang),
                mode="lines+markers", marker={"opacity": [FADED if p.suppressed else SOLID for p in ps]},
                error_y={"type": "data", "symmetric": False,
                         "array": [(p.ci_high or 0) - (p.share or 0) for p in ps],
                         "arrayminus": [(p.share or 0) - (p.ci_low or 0) for p in ps], "thickness": 1},
                customdata=[["month", p.period, dim, value, cat, p.n] for p in ps],
                hovertemplate="%{x}: %{y:.1%}<br>n=%{customdata[5]}<extra></extra>"))
        trows = [_share_row(p, lang) for p in series]
        cols = ["period", "category", "code", "metric", "n", "k", "share", "ci_low", "ci_high", "suppressed"]
        return [block("ai-levels", lang, rows, cols, _layout(fig, ".0%", 480) if pts else _empty_figure("–"),
                      f"{t(lang, 'ai_by_level')} — {period}"),
                block("ai-time", lang, trows, cols, _layout(tfig, ".0%") if series else _empty_figure("–"),
                      t(lang, "ai_over_time"))]

    def shift_share_body(self, lang: str, group: str, period_from: str, period_to: str) -> list[Any]:
        members = group_members(group)
        if members is None:
            f = self.filters()
            members = [c for c in f.categories if c not in ("all", "new_economy")]
        try:
            s = data.shift_share_split(self.ro, period_from, period_to, members)
        except ValueError as exc:
            return [html.P(str(exc), className="error")]
        rows = [{"category": category_name(c, lang), "code": c, "within": round(w, 5), "between": round(b, 5)}
                for c, (w, b) in sorted(s.by_category.items(), key=lambda kv: -abs(kv[1][0]) - abs(kv[1][1]))]
        summary = (f"{category_name(group, lang)}: {pct(s.share_a)} (n={s.n_a:,}, {period_from}) → {pct(s.share_b)} "
                   f"(n={s.n_b:,}, {period_to}); {t(lang, 'total')} {pct(s.total, True)} = "
                   f"{t(lang, 'within')} {pct(s.within, True)} + {t(lang, 'between')} {pct(s.between, True)}")
        fig = go.Figure(go.Bar(x=[t(lang, "within"), t(lang, "between"), t(lang, "total")],
                               y=[s.within, s.between, s.total], marker={"color": ["#2471a3", "#a569bd", "#555"]}))
        return [html.P(summary, id="ss-summary"),
                block("shift-share", lang, rows, ["category", "code", "within", "between"],
                      _layout(fig, "+.1%", 300))]

    # Experience ----------------------------------------------------------------------------------------------
    def experience(self, lang: str) -> html.Div:
        f = self.filters()
        months = list(f.periods.get("month", ()))
        cats = _sorted_categories(f.categories)
        return html.Div([
            html.H2(t(lang, "experience")),
            html.Div([
                html.Label([t(lang, "month"), dcc.Dropdown(id="ex-period", persistence=True, persistence_type="session", options=_opts(months),
                                                           value=months[-1] if months else None,
                                                           clearable=False)], className="ctl"),
                html.Label([t(lang, "category") + " (" + t(lang, "dim_city") + ")", dcc.Dropdown(
                    id="ex-cat", persistence=True, persistence_type="session", options=[{"label": category_name(c, lang), "value": c} for c in cats],
                    value="all" if "all" in cats else (cats[0] if cats else None), clearable=False)],
                    className="ctl"),
            ], className="controls"),
            html.P(t(lang, "faded_note"), className="note"),
            html.Div(id="ex-body"),
        ])

    def experience_body(self, lang: str, period: str, cat: str) -> list[Any]:
        metrics = ["requires_3plus", "experience_unstated"]
        pts = data.share_points(self.ro, metrics=metrics, period=period)
        cats = _sorted_categories(sorted({p.category for p in pts}))
        fig = go.Figure()
        for m in metrics:
            by = {p.category: p for p in pts if p.metric == m}
            fig.add_trace(_share_bar([by[c] for c in cats if c in by], metric_name(m, lang), lang, "month", "all",
                                     ""))
        fig.update_layout(barmode="group")
        city = data.share_points(self.ro, metrics=metrics, dim="city", dim_value=None, period=period,
                                 categories=[cat])
        cfig = go.Figure()
        for m in metrics:
            ps = sorted((p for p in city if p.metric == m), key=lambda p: -(p.n))
            cfig.add_trace(go.Bar(
                x=[p.dim_value for p in ps], y=[p.share for p in ps], name=metric_name(m, lang),
                error_y=_err(ps), marker={"opacity": [FADED if p.suppressed else SOLID for p in ps]},
                text=[f"n={p.n}" for p in ps], textposition="outside",
                customdata=[["month", p.period, "city", p.dim_value, cat, p.n] for p in ps],
                hovertemplate="%{x}: %{y:.1%}<br>n=%{customdata[5]}<extra></extra>"))
        cfig.update_layout(barmode="group")
        cols = ["period", "category", "code", "dim_value", "metric", "n", "k", "share", "ci_low", "ci_high",
                "suppressed"]
        return [block("exp-category", lang, [_share_row(p, lang) for p in pts], cols,
                      _layout(fig, ".0%", 480) if pts else _empty_figure("–"), f"{t(lang, 'exp_by_cat')} — {period}"),
                block("exp-city", lang, [_share_row(p, lang) for p in city], cols,
                      _layout(cfig, ".0%") if city else _empty_figure("–"),
                      f"{t(lang, 'exp_by_city')} — {category_name(cat, lang)}, {period}")]

    # Postings behind a figure ------------------------------------------------------------------------------
    def postings(self, lang: str, search: str) -> html.Div:
        q = {k: v[0] for k, v in parse_qs((search or "").lstrip("?"), keep_blank_values=True).items()}
        head = [html.H2(t(lang, "postings")), html.P(t(lang, "sample_note"), className="note")]
        if not q.get("p") or not q.get("cat"):
            return html.Div([*head, html.P(t(lang, "no_cell"))])
        pt, period, dim, value, cat = q.get("pt", "month"), q["p"], q.get("dim", "all"), q.get("v", ""), q["cat"]
        try:
            sample = data.cell_postings(self.ro, period_type=pt, period=period, dim=dim, dim_value=value,
                                        roles=group_members(cat))
        except ValueError as exc:
            return html.Div([*head, html.P(str(exc), className="error")])
        label = (f"{t(lang, 'cell')}: {category_name(cat, lang)} · {period}"
                 + (f" · {dim_name(dim, lang)} = {value}" if dim != "all" else ""))
        head.append(html.P(label, id="cell-label"))
        if not sample:
            return html.Div([*head, html.P(t(lang, "no_postings"))])
        rows = []
        for s in sample:
            rows.append(html.Tr([
                html.Td(s.posting_id),
                html.Td(html.A(s.title, href=s.url, target="_blank", rel="noopener noreferrer")
                        if _safe_url(s.url) else s.title),
                html.Td(s.company or ""), html.Td(s.city or ""), html.Td(s.source), html.Td(s.posted_at or ""),
                html.Td([category_name(s.role_category, lang), *_mark(s, "role_category", lang)]),
                html.Td(f"{s.role_confidence:.2f}"),
                html.Td([level_name(s.ai_level, lang), *_mark(s, "ai_level", lang)]),
                html.Td(", ".join(s.ai_terms)),
                html.Td([bucket_name(s.experience_bucket, lang), *_mark(s, "experience_bucket", lang)]),
            ], id=f"posting-{s.posting_id}"))
        header = html.Tr([html.Th(x) for x in ("id", t(lang, "title_col"), t(lang, "company"), t(lang, "city"),
                                                t(lang, "source"), column_name("posted_at", lang), t(lang, "role"), t(lang, "confidence"),
                                                t(lang, "ai_level"), t(lang, "ai_terms"), t(lang, "exp_bucket"))])
        table_rows = [{"posting_id": s.posting_id, "title": s.title, "company": s.company, "city": s.city,
                       "source": s.source, "url": s.url, "posted_at": s.posted_at, "role_category": s.role_category,
                       "role_name": category_name(s.role_category, lang), "role_confidence": round(s.role_confidence, 4),
                       "ai_level": s.ai_level, "ai_terms": ", ".join(s.ai_terms),
                       "experience_bucket": s.experience_bucket, "requires_3plus_years": s.requires_3plus_years,
                       "model_version": s.model_version} for s in sample]
        return html.Div([*head, html.Div(id="mark-status", className="note"),
                         html.Table([html.Thead(header), html.Tbody(rows)], className="postings"),
                         block("postings", lang, table_rows, list(table_rows[0]), show_table=False)])

    def mark(self, posting_id: int, field: str, correct: bool, auditor: str | None) -> None:
        data.record_verdict(self.rw, posting_id, field, correct, auditor=auditor)

    # Sources and quality ---------------------------------------------------------------------------------
    def quality(self, lang: str) -> html.Div:
        q = self._cached("quality", lambda: data.quality_report(self.ro))
        src_rows = [{"source": s.source, "kind": s.kind, "postings": s.postings, "canonical": s.canonical,
                     "duplicates": s.duplicates, "duplicate_rate": _round(s.duplicate_rate, 4),
                     "rejects": s.rejects, "runs": s.runs} for s in q.sources]
        fig = go.Figure([go.Bar(x=[s.source for s in q.sources], y=[s.canonical for s in q.sources],
                                name=column_name("canonical", lang)),
                         go.Bar(x=[s.source for s in q.sources], y=[s.duplicates for s in q.sources],
                                name=column_name("duplicates", lang),
                                text=[f"{pct(s.duplicate_rate)}" for s in q.sources], textposition="outside")])
        fig.update_layout(barmode="stack")
        run_rows = [{"run": r.run_id, "source": r.source, "kind": r.kind,
                     "started_at": r.started_at.isoformat(timespec="seconds") if r.started_at else None,
                     "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
                     "status": r.status, "items": r.items, "rejects": r.rejects, "error": (r.error or "")[:200]}
                    for r in q.runs]
        ver_rows = [{"model_version": v.model_version, "months": v.periods, "postings": v.postings,
                     **{f"{ds}:{fld}:{m}": f"{val:.3f} (n={n})" for ds, fld, m, val, n in v.evaluations}}
                    for v in q.versions]
        ver_cols = sorted({k for r in ver_rows for k in r}, key=lambda k: (k != "model_version", k != "months",
                                                                            k != "postings", k))
        return html.Div([
            html.H2(t(lang, "quality")),
            html.P(f"{t(lang, 'suppressed_cells')}: {q.suppressed_cells:,} / {q.cells:,}", className="note"),
            block("sources", lang, src_rows, ["source", "kind", "postings", "canonical", "duplicates",
                                              "duplicate_rate", "rejects", "runs"], _layout(fig, None, 320),
                  t(lang, "sources")),
            block("runs", lang, run_rows, ["run", "source", "kind", "started_at", "finished_at", "status", "items",
                                           "rejects", "error"], title=t(lang, "crawl_runs")),
            block("versions", lang, ver_rows, ver_cols, title=t(lang, "versions")),
        ])

    # Audit -------------------------------------------------------------------------------------------------
    def audit(self, lang: str) -> html.Div:
        r = data.audit_report(self.ro)
        acc_rows = [{"field": field_name(a.field, lang), "code": a.field, "n": a.n, "right": a.k,
                     "accuracy": _round(a.accuracy, 4), "ci_low": _round(a.ci_low, 4), "ci_high": _round(a.ci_high, 4)}
                    for a in r.accuracy]
        v_rows = [{"posting_id": v.posting_id, "title": v.title, "field": v.field, "predicted": v.predicted,
                   "predicted_name": _value_name(v.field, v.predicted, lang),
                   "true_value": v.true_value, "verdict": {True: "right", False: "wrong", None: ""}[v.correct],
                   "origin": v.origin, "auditor": v.auditor, "created_at": v.created_at.isoformat(timespec="seconds")}
                  for v in r.verdicts]
        return html.Div([
            html.H2(t(lang, "audit")),
            block("accuracy", lang, acc_rows, ["field", "code", "n", "right", "accuracy", "ci_low", "ci_high"],
                  title=t(lang, "accuracy")),
            block("verdicts", lang, v_rows, ["posting_id", "title", "field", "predicted", "predicted_name",
                                             "true_value", "verdict",
                                             "origin", "auditor", "created_at"], title=t(lang, "verdicts")),
        ])


def _safe_url(url: str | None) -> bool:
    """Only web links become clickable (a scraped ``javascript:`` URL stays text)."""
    return bool(url) and urlparse(url or "").scheme in ("http", "https")


def _mark(s: data.PostingSample, field: str, lang: str) -> list[Any]:
    verdict = s.audit.get(field)
    state = "" if verdict is None else (" ✓" if verdict else " ✗")
    return [html.Span(state, className="verdict", id={"type": "verdict", "pid": s.posting_id, "field": field}),
            html.Button(t(lang, "right"), id={"type": "mark", "pid": s.posting_id, "field": field, "ok": 1},
                        className="mark ok"),
            html.Button(t(lang, "wrong"), id={"type": "mark", "pid": s.posting_id, "field": field, "ok": 0},
                        className="mark bad")]


def _value_name(field: str, value: str | None, lang: str) -> str:
    if value is None:
        return ""
    if field == "role_category":
        return category_name(value, lang)
    if field == "ai_level":
        return level_name(value, lang)
    return bucket_name(value, lang) if field == "experience_bucket" else value


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def _opts(values: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in reversed(values)]


def _year_before(period: str, periods: Sequence[str]) -> str:
    prev = f"{int(period[:4]) - 1:04d}{period[4:]}"
    return prev if prev in periods else periods[0]


def _err(ps: Sequence[data.SharePoint]) -> dict[str, Any]:
    return {"type": "data", "symmetric": False, "array": [(p.ci_high or 0) - (p.share or 0) for p in ps],
            "arrayminus": [(p.share or 0) - (p.ci_low or 0) for p in ps], "thickness": 1}


def _share_bar(ps: Sequence[data.SharePoint], name: str, lang: str, pt: str, dim: str, value: str) -> go.Bar:
    return go.Bar(x=[category_name(p.category, lang) for p in ps], y=[p.share for p in ps], name=name,
                  error_y=_err(ps), marker={"opacity": [FADED if p.suppressed else SOLID for p in ps]},
                  customdata=[[pt, p.period, dim, value, p.category, p.n] for p in ps],
                  hovertemplate="%{x}<br>%{y:.1%}<br>n=%{customdata[5]}<extra>" + name + "</extra>")


def _share_row(p: data.SharePoint, lang: str) -> dict[str, Any]:
    return {"period": p.period, "category": category_name(p.category, lang), "code": p.category,
            "dim_value": p.dim_value, "metric": p.metric, "n": p.n, "k": p.k, "share": _round(p.share, 4),
            "ci_low": _round(p.ci_low, 4), "ci_high": _round(p.ci_high, 4), "suppressed": p.suppressed}


# --- the app -------------------------------------------------------------------------------------------------


CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;color:#222}
header{background:#1f3a5f;color:#fff;padding:10px 20px;display:flex;align-items:center;gap:24px;flex-wrap:wrap}
header h1{font-size:20px;margin:0}
nav a{color:#fff;margin-right:14px;text-decoration:none}
nav a:hover{text-decoration:underline}
#lang{margin-left:auto}
main{padding:10px 24px}
.controls{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-end;margin:8px 0}
.ctl{display:flex;flex-direction:column;min-width:170px;font-size:13px}
.ctl.wide{min-width:480px;flex:1}
.block{margin:16px 0 28px 0}
.downloads{margin:6px 0}
button.dl{margin-right:8px;padding:4px 10px;cursor:pointer}
.note{color:#555;font-size:13px}
.error{color:#b03a2e}
table.postings{border-collapse:collapse;font-size:13px;margin-bottom:12px}
table.postings td,table.postings th{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
button.mark{margin-left:4px;font-size:11px;padding:1px 5px;cursor:pointer}
button.mark.bad{color:#b03a2e}
.verdict{font-weight:bold}
.tiles{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0 14px 0}
.tile{border:1px solid #d5dbe3;border-radius:6px;padding:10px 14px;min-width:220px;background:#f7f9fc}
.tile.faded{opacity:.45}
.tile-label{font-size:13px;color:#555}
.tile-big{font-size:28px;font-weight:bold;color:#1f3a5f}
.tile-sub{font-size:12px;color:#555}
.country h4{margin:6px 0}
"""


def create_app(ro: Any, rw: Any, *, user: str | None = None, password: str | None = None,
               url_prefix: str = "/") -> Dash:
    """The dashboard over the read-only engine ``ro``; ``rw`` only stores audit verdicts.

    With ``user`` and ``password`` every request needs HTTP basic authentication.
    """
    app = Dash(__name__, title="labourwatch", serve_locally=True, suppress_callback_exceptions=True,
               update_title="", url_base_pathname=url_prefix, eager_loading=True)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
    pages = Pages(ro, rw, url_prefix)
    server = app.server
    server.config["LW_READONLY_ENGINE"] = ro

    if user and password:
        expected = base64.b64encode(f"{user}:{password}".encode()).decode()

        @server.before_request
        def _basic_auth() -> Response | None:
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic ") and hmac.compare_digest(header[6:], expected):
                return None
            return Response("authentication required", 401, {"WWW-Authenticate": 'Basic realm="labourwatch"'})

    @server.route(f"{url_prefix}brief/<month>/<lang>.pdf")
    def _brief(month: str, lang: str) -> Response:
        path = data.brief_path(ro, month, lang, request.args.get("country") or None)
        if not path or not Path(path).is_file():
            abort(404)
        return send_file(Path(path).resolve(), mimetype="application/pdf")

    nav = [dcc.Link(id=f"nav-{p}", href=f"{url_prefix}{'' if p == 'overview' else p}", children=p) for p in PAGES]
    app.layout = html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="saved-filters", storage_type="session"),
        html.Header([html.H1(id="app-title"), html.Nav(nav),
                     dcc.RadioItems(id="lang", options=[{"label": "中文", "value": "zh"},
                                                        {"label": "English", "value": "en"}],
                                    value="zh", inline=True, persistence=True, persistence_type="local")]),
        html.Main(html.Div(id="page")),
    ])

    @app.callback([Output("app-title", "children"), *[Output(f"nav-{p}", "children") for p in PAGES]],
                  Input("lang", "value"))
    def _chrome(lang: str) -> list[str]:
        return [t(lang, "title"), *[t(lang, p) for p in PAGES]]

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"),
                  Input("lang", "value"), State("saved-filters", "data"))
    def _page(pathname: str | None, search: str | None, lang: str, saved: dict | None) -> Any:
        name = (pathname or "/").strip("/").split("/")[-1] or "overview"
        if name == "postings":
            return pages.postings(lang, search or "")
        if name in ("demand", "ai"):
            return getattr(pages, name)(lang, saved or {})
        if name not in PAGES:
            name = "overview"
        return getattr(pages, name)(lang)

    for ids in SAVED_FILTERS:
        @app.callback(Output("saved-filters", "data", allow_duplicate=True), [Input(i, "value") for i in ids],
                      State("saved-filters", "data"), prevent_initial_call=True)
        def _save(*args: Any, _ids: tuple[str, ...] = ids) -> dict:
            saved = dict(args[-1] or {})
            saved.update(zip(_ids, args[:-1], strict=True))
            return saved

    # Dimension value options follow the chosen dimension (Demand and AI pages).
    for prefix in ("dm", "ai"):
        @app.callback(Output(f"{prefix}-value", "options"), Output(f"{prefix}-value", "value"),
                      Input(f"{prefix}-dim", "value"), State(f"{prefix}-value", "value"))
        def _values(dim: str, current: str | None) -> tuple[list[dict[str, str]], str]:
            if dim == "all":
                return [{"label": "–", "value": ""}], ""
            values = list(pages.filters().dims.get(dim, ()))
            keep = current if current in values else (values[0] if values else "")
            return [{"label": v, "value": v} for v in values], keep

    @app.callback(Output("dm-start", "options"), Output("dm-start", "value"), Output("dm-end", "options"),
                  Output("dm-end", "value"), Input("dm-pt", "value"), State("dm-start", "value"),
                  State("dm-end", "value"))
    def _periods(pt: str, start: str | None, end: str | None) -> tuple[Any, Any, Any, Any]:
        periods = list(pages.filters().periods.get(pt, ()))
        if not periods:
            return [], None, [], None
        return (_opts(periods), start if start in periods else periods[0], _opts(periods),
                end if end in periods else periods[-1])

    @app.callback(Output("dm-body", "children"), Input("lang", "value"), Input("dm-dim", "value"),
                  Input("dm-value", "value"), Input("dm-pt", "value"), Input("dm-start", "value"),
                  Input("dm-end", "value"), Input("dm-cats", "value"))
    def _demand(lang: str, dim: str, value: str, pt: str, start: str, end: str, cats: list[str]) -> Any:
        if not start or not end:
            return html.P("–")
        if start > end:
            start, end = end, start
        return pages.demand_body(lang, dim or "all", value or "", pt, start, end, cats or [])

    @app.callback(Output("ov-body", "children"), Input("ov-month", "value"), Input("lang", "value"))
    def _overview(month: str | None, lang: str) -> Any:
        return pages.overview_body(month, lang) if month else html.P("–")

    @app.callback(Output("ai-body", "children"), Input("lang", "value"), Input("ai-dim", "value"),
                  Input("ai-value", "value"), Input("ai-period", "value"))
    def _ai(lang: str, dim: str, value: str, period: str | None) -> Any:
        return pages.ai_body(lang, dim or "all", value or "", period) if period else html.P("–")

    @app.callback(Output("ss-body", "children"), Input("lang", "value"), Input("ss-group", "value"),
                  Input("ss-from", "value"), Input("ss-to", "value"))
    def _ss(lang: str, group: str | None, a: str | None, b: str | None) -> Any:
        return pages.shift_share_body(lang, group, a, b) if group and a and b else html.P("–")

    @app.callback(Output("ex-body", "children"), Input("lang", "value"), Input("ex-period", "value"),
                  Input("ex-cat", "value"))
    def _exp(lang: str, period: str | None, cat: str | None) -> Any:
        return pages.experience_body(lang, period, cat or "all") if period else html.P("–")

    @app.callback(Output({"type": "download", "block": MATCH}, "data"),
                  Input({"type": "csv", "block": MATCH}, "n_clicks"),
                  Input({"type": "xlsx", "block": MATCH}, "n_clicks"),
                  State({"type": "table", "block": MATCH}, "data"),
                  State({"type": "table", "block": MATCH}, "columns"), prevent_initial_call=True)
    def _download(_csv: int | None, _xlsx: int | None, rows: list[dict] | None, columns: list[dict]) -> Any:
        trig = ctx.triggered_id
        if not trig:
            return no_update
        name, cols = trig["block"], [c["id"] for c in columns or []]
        if trig["type"] == "csv":
            return dcc.send_bytes(export.csv_bytes(rows or [], cols), f"labourwatch-{name}.csv")
        return dcc.send_bytes(export.xlsx_bytes(rows or [], cols, sheet=name), f"labourwatch-{name}.xlsx")

    @app.callback(Output("url", "href", allow_duplicate=True), Input({"type": "graph", "block": ALL}, "clickData"),
                  prevent_initial_call=True)
    def _click(_clicks: list[Any]) -> Any:
        trig = ctx.triggered_id
        if not trig or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        point = (ctx.triggered[0]["value"].get("points") or [{}])[0]
        cd = point.get("customdata")
        if not cd or len(cd) < 5:
            return no_update
        return url_prefix.rstrip("/") + cell_href(*[str(x) for x in cd[:5]])

    @app.callback(Output("mark-status", "children"),
                  Output({"type": "verdict", "pid": ALL, "field": ALL}, "children"),
                  Input({"type": "mark", "pid": ALL, "field": ALL, "ok": ALL}, "n_clicks"),
                  State({"type": "verdict", "pid": ALL, "field": ALL}, "children"),
                  State("lang", "value"), prevent_initial_call=True)
    def _mark_cb(clicks: list[int | None], shown: list[Any], lang: str) -> Any:
        trig = ctx.triggered_id
        if not trig or not any(clicks):
            return no_update, [no_update] * len(shown)
        auditor = request.authorization.username if request.authorization else None
        try:
            pages.mark(int(trig["pid"]), trig["field"], bool(trig["ok"]), auditor)
        except ValueError as exc:
            return html.Span(str(exc), className="error"), [no_update] * len(shown)
        # The row shows the stored verdict at once: ✓ right, ✗ wrong.
        marks = [(" ✓" if trig["ok"] else " ✗") if (o["id"]["pid"], o["id"]["field"]) == (trig["pid"], trig["field"])
                 else no_update for o in ctx.outputs_list[1]]
        verdict = t(lang, "right") if trig["ok"] else t(lang, "wrong")
        return f"{t(lang, 'saved')}: #{trig['pid']} {field_name(trig['field'], lang)} = {verdict}", marks

    return app


def build_from_settings(url_prefix: str | None = None) -> Dash:
    """The app over the configured database and authentication settings.

    Raises ``db.dashboard.DashboardDataError`` when the database cannot back it, and ``ValueError`` when only
    one of the user and password settings is set.
    """
    from db.session import get_engine
    from labourwatch.settings import get_settings

    settings = get_settings()
    if bool(settings.dashboard_user) != bool(settings.dashboard_password):
        raise ValueError("set both LABOURWATCH_DASHBOARD_USER and LABOURWATCH_DASHBOARD_PASSWORD, or neither")
    ro = data.readonly_engine(settings.database_url)
    data.check_database(ro)
    prefix = url_prefix if url_prefix is not None else settings.dashboard_url_prefix
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return create_app(ro, get_engine(settings.database_url), user=settings.dashboard_user,
                      password=settings.dashboard_password, url_prefix=prefix)
