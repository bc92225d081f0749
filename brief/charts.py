"""Matplotlib charts of a brief, drawn from ``BriefData`` only, set in the brief's CJK font."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brief.data import AI_LEVELS, BriefData, DemandRow, ShareRow
from brief.fonts import FontError

MM = 1 / 25.4  # inches per millimetre
WIDTH_MM = 174
INK = "#1f2933"
GRID = "#d9dee3"
MUTED = "#b8c0c8"
FALLING = ("#b2182b", "#d6604d", "#e89a7a")
RISING = ("#1b5e91", "#4393c3", "#7fb8d8")
GROUP_COLOURS = {"all": "#1f2933", "new_economy": "#0f7b6c"}
LEVEL_COLOURS = {"ai_incidental": "#c9d3dc", "ai_tools": "#5fa8d3", "ai_skills": "#1b4f72"}


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its file and the size it is set at on the page."""

    name: str
    path: Path
    width_mm: float
    height_mm: float


@contextmanager
def _style(family: str, font_files: Sequence[Path]) -> Iterator[None]:
    """Matplotlib settings for the brief; a missing glyph raises instead of drawing an empty box."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager, rc_context

    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for f in font_files:
        if str(f) not in known:  # a long-running process renders many briefs: register each file once
            font_manager.fontManager.addfont(str(f))
    rc: dict[str, Any] = {
        "font.family": [family],
        "font.size": 7.5,
        "axes.titlesize": 8.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 7.5,
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": GRID,
        "grid.linewidth": 0.5,
        "xtick.color": INK,
        "ytick.color": INK,
        "xtick.labelsize": 6.8,
        "ytick.labelsize": 6.8,
        "legend.fontsize": 6.8,
        "legend.frameon": False,
        "axes.unicode_minus": True,
        "svg.fonttype": "path",
        "savefig.dpi": 220,
    }
    with rc_context(rc), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        try:
            font_manager.findfont(font_manager.FontProperties(family=[family]), fallback_to_default=False)
        except ValueError as exc:
            raise FontError(f"matplotlib cannot find the brief's font family {family!r} "
                            f"(registered from {', '.join(map(str, font_files))}): {exc}") from exc
        yield


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, bbox_inches=None, facecolor="white")
    except UserWarning as exc:  # a glyph the font lacks: fail loudly rather than print a box
        raise FontError(f"Chart {path.name}: {exc}") from exc
    finally:
        plt.close(fig)


def _month_ticks(ax: Any, periods: Sequence[str]) -> None:
    ticks = [i for i, p in enumerate(periods) if p[5:7] in ("01", "04", "07", "10")]
    if len(ticks) < 2:
        ticks = list(range(len(periods)))
    ax.set_xticks(ticks)
    ax.set_xticklabels([periods[i] for i in ticks])
    ax.set_xlim(-0.5, len(periods) - 0.5)


def _pct(x: float, _pos: Any = None) -> str:
    return f"{x * 100:.0f}%"


def _signed_pct(x: float, _pos: Any = None) -> str:
    return f"{x * 100:+.0f}%".replace("-", "\u2212") if abs(x) > 1e-9 else "0%"


def _series(rows: Sequence[Any], periods: Sequence[str], attr: str, suppressed: bool = False) -> list[float]:
    """Values of ``attr`` aligned to ``periods``; a missing cell is a gap (NaN), and so is a suppressed one
    unless ``suppressed`` (the faded layer draws those)."""
    by_period = {r.period: r for r in rows}
    out = []
    for p in periods:
        r = by_period.get(p)
        v = None if r is None or (r.suppressed and not suppressed) else getattr(r, attr)
        out.append(math.nan if v is None else float(v))
    return out


def _faded_line(ax: Any, x: Sequence[int], rows: Sequence[Any], periods: Sequence[str], attr: str, colour: str,
                lw: float, zorder: int, **kw: Any) -> None:
    """A series drawn solid where its cells are large enough and faded (light, dotted, small dots) where
    they are suppressed, so a small cell is seen as uncertain rather than missing."""
    full = _series(rows, periods, attr, suppressed=True)
    if any(not math.isnan(v) for v in full):
        ax.plot(x, full, color=colour, lw=max(0.5, lw * 0.6), alpha=0.35, ls=(0, (1, 1.5)), zorder=zorder - 0.5)
        small = [v if (r is not None and r.suppressed) else math.nan
                 for v, r in zip(full, (next((q for q in rows if q.period == p), None) for p in periods),
                                 strict=True)]
        ax.plot(x, small, ls="none", marker="o", ms=1.8, color=colour, alpha=0.35, zorder=zorder - 0.5)
    ax.plot(x, _series(rows, periods, attr), color=colour, lw=lw, zorder=zorder, **kw)


def _holiday_bands(ax: Any, data: BriefData) -> None:
    """Light bands on the months whose year-on-year change crosses a moved holiday."""
    for i, p in enumerate(data.periods):
        if p in data.holidays:
            ax.axvspan(i - 0.5, i + 0.5, color="#f3e3b5", alpha=0.55, lw=0, zorder=0)


def demand_index(data: BriefData, s: Mapping[str, Any], path: Path) -> Chart:
    """Index of new postings per role category; this month's largest declines and rises highlighted."""
    import matplotlib.pyplot as plt

    periods = data.periods
    falling, rising = data.movers(3)
    highlight = {r.category: FALLING[i] for i, r in enumerate(falling)}
    highlight.update({r.category: RISING[i] for i, r in enumerate(rising)})
    w, h = WIDTH_MM, 92
    fig, ax = plt.subplots(figsize=(w * MM, h * MM), layout="constrained")
    x = list(range(len(periods)))
    _holiday_bands(ax, data)
    for cat in data.categories:
        if cat.code in highlight:
            continue
        ax.plot(x, _series(data.demand.get(cat.code, ()), periods, "index_value"), color=MUTED, lw=0.6,
                alpha=0.8, zorder=1)
    ax.plot([], [], color=MUTED, lw=0.8, label=s["demand_others"])
    ax.axhline(100, color=INK, lw=0.6, ls=(0, (2, 2)), zorder=2)
    if "all" in data.demand:
        _faded_line(ax, x, data.demand["all"], periods, "index_value", INK, 1.6, 4, label=data.name("all"))
    sa = data.seasonal
    if sa is not None and sa.adjusted and "all" in data.demand:
        # The adjusted series on the same base: scaled so its baseline-year mean matches the raw index's.
        by = {p.month: p.adjusted for p in sa.points}
        raw = {r.period: (r.n, r.index_value) for r in data.demand["all"] if r.index_value}
        ratios = [idx / n for n, idx in raw.values() if n]
        scale = sum(ratios) / len(ratios) if ratios else 0.0
        ax.plot(x, [by.get(p, math.nan) * scale if scale else math.nan for p in periods], color="#0f7b6c", lw=1.3,
                ls=(0, (4, 1.5)), zorder=4, label=s["sa_label"])
    found = {f.key.split(".", 1)[1]: f.value for f in data.findings if f.key.startswith("demand_yoy.")}
    for r in (*falling, *rising):
        change = found.get(r.category, r.yoy_change)
        _faded_line(ax, x, data.demand.get(r.category, ()), periods, "index_value", highlight[r.category], 1.5, 3,
                    label=f"{data.name(r.category)} {_signed_pct(change or 0.0)}")
    if data.holidays:
        ax.fill_between([], [], color="#f3e3b5", label=s["holiday_band"])
    ax.set_ylabel(s["demand_chart_y"].format(year=data.quality.baseline_year))
    _month_ticks(ax, periods)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), handlelength=1.6)
    _save(fig, path)
    return Chart("demand_index", path, w, h)


def _interval_bars(ax: Any, labels: Sequence[str], values: Sequence[float | None],
                   lows: Sequence[float | None], highs: Sequence[float | None], colours: Sequence[str],
                   notes: Sequence[str | None], fmt: Callable[[float], str]) -> None:
    """Horizontal bars with interval whiskers; a row with a note (too few, no data) shows the note instead."""
    y = list(range(len(labels)))
    vals = [0.0 if v is None or note else v for v, note in zip(values, notes, strict=True)]
    ax.barh(y, vals, color=colours, height=0.68, zorder=2)
    for i, (v, lo, hi, note) in enumerate(zip(values, lows, highs, notes, strict=True)):
        if note or v is None:
            ax.text(0, i, f"  {note or ''}", va="center", ha="left", color="#7b8794", fontsize=6.3)
            continue
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [i, i], color=INK, lw=0.8, zorder=3)
            for end in (lo, hi):
                ax.plot([end, end], [i - 0.18, i + 0.18], color=INK, lw=0.8, zorder=3)
        right = max(v, hi if hi is not None else v)
        left = min(v, lo if lo is not None else v)
        if v >= 0:
            ax.annotate(fmt(v), (right, i), xytext=(3, 0), textcoords="offset points", va="center", ha="left",
                        fontsize=6.3, color=INK)
        else:
            ax.annotate(fmt(v), (left, i), xytext=(-3, 0), textcoords="offset points", va="center",
                        ha="right", fontsize=6.3, color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)


def yoy_bars(data: BriefData, s: Mapping[str, Any], path: Path) -> Chart:
    """This month's year-on-year change per role category with its 95% interval, declines on top."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rows: list[DemandRow] = list(data.demand_month)
    falling, rising = data.movers(3)
    colour_of = {r.category: FALLING[i] for i, r in enumerate(falling)}
    colour_of.update({r.category: RISING[i] for i, r in enumerate(rising)})
    # A suppressed cell with a change is drawn faded (grey bar, its interval), not hidden.
    colours = [("#e1e4e8" if r.suppressed else
                colour_of.get(r.category, "#e4a9a0" if (r.yoy_change or 0) < 0 else "#a9c8e0")) for r in rows]
    w, h = WIDTH_MM, max(60.0, 4.1 * len(rows) + 16)
    fig, ax = plt.subplots(figsize=(w * MM, h * MM), layout="constrained")
    _interval_bars(ax, [data.name(r.category) + (f" ({s['suppressed_mark']})" if r.suppressed else "")
                        for r in rows], [r.yoy_change for r in rows],
                   [r.yoy_ci_low for r in rows], [r.yoy_ci_high for r in rows], colours,
                   [s["no_prior"] if r.yoy_change is None else None for r in rows], _signed_pct)
    ax.axvline(0, color=INK, lw=0.7, zorder=4)
    ax.xaxis.set_major_formatter(FuncFormatter(_signed_pct))
    ax.set_xlabel(s["yoy_chart_x"])
    ax.set_title(s["yoy_chart_title"])
    lo = min([r.yoy_ci_low or r.yoy_change or 0 for r in rows] + [0])
    hi = max([r.yoy_ci_high or r.yoy_change or 0 for r in rows] + [0])
    pad = (hi - lo) * 0.14 or 0.1
    ax.set_xlim(lo - pad, hi + pad)
    _save(fig, path)
    return Chart("yoy_bars", path, w, h)


def _share_panel(ax: Any, data: BriefData, metric: str, groups: Sequence[str], ylabel: str) -> None:
    x = list(range(len(data.periods)))
    for g in groups:
        rows: Sequence[ShareRow] = data.shares.get((g, metric), ())
        if not rows:
            continue
        colour = GROUP_COLOURS.get(g, INK)
        lo = _series(rows, data.periods, "ci_low", suppressed=True)
        hi = _series(rows, data.periods, "ci_high", suppressed=True)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.12, lw=0)
        _faded_line(ax, x, rows, data.periods, "share", colour, 1.5, 3, label=data.name(g))
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(_pct))
    ax.set_ylabel(ylabel)
    _month_ticks(ax, data.periods)
    ax.set_ylim(bottom=0)


def ai_share(data: BriefData, s: Mapping[str, Any], path: Path) -> Chart:
    """Share referencing AI over time with its interval band, and the split by level for new-economy roles."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    w, h = WIDTH_MM, 70
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(w * MM, h * MM), layout="constrained")
    _share_panel(ax1, data, "references_ai", ("new_economy", "all"), s["ai_chart_y"])
    ax1.set_title(s["ai_chart_y"])
    ax1.set_ylabel("")
    ax1.legend(loc="upper left")
    group = "new_economy" if ("new_economy", "ai_skills") in data.shares else "all"
    x = list(range(len(data.periods)))
    layers = [[0.0 if math.isnan(v) else v for v in _series(data.shares.get((group, m), ()), data.periods, "share")]
              for m in AI_LEVELS]
    ax2.stackplot(x, *layers, colors=[LEVEL_COLOURS[m] for m in AI_LEVELS],
                  labels=[s["levels"][m] for m in AI_LEVELS], lw=0)
    ax2.yaxis.set_major_formatter(FuncFormatter(_pct))
    _month_ticks(ax2, data.periods)
    ax2.set_ylim(bottom=0)
    ax2.set_title(s["ai_levels_title"].format(group=data.name(group)))
    handles, labels = ax2.get_legend_handles_labels()
    ax2.legend(handles[::-1], labels[::-1], loc="upper left")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelrotation=0)
        for lab in ax.get_xticklabels()[1::2]:
            lab.set_visible(False)
    _save(fig, path)
    return Chart("ai_share", path, w, h)


def category_shares(data: BriefData, s: Mapping[str, Any], metric: str, title: str, path: Path,
                    colour: str) -> Chart:
    """This month's share per role category with its 95% interval, highest first."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rows = [data.shares_month[(c.code, metric)] for c in data.categories if (c.code, metric) in data.shares_month]
    rows.sort(key=lambda r: (r.suppressed, -(r.share or 0.0)))
    w, h = WIDTH_MM, max(55.0, 3.7 * len(rows) + 16)
    fig, ax = plt.subplots(figsize=(w * MM, h * MM), layout="constrained")
    _interval_bars(ax, [data.name(r.category) for r in rows], [r.share for r in rows],
                   [r.ci_low for r in rows], [r.ci_high for r in rows], [colour] * len(rows),
                   [s["suppressed_mark"] if r.suppressed else s["na"] if r.share is None else None for r in rows],
                   _pct)
    ax.xaxis.set_major_formatter(FuncFormatter(_pct))
    ax.set_xlim(0, min(1.0, max([r.ci_high or r.share or 0 for r in rows if not r.suppressed] + [0.1]) * 1.15))
    ax.set_title(title)
    _save(fig, path)
    return Chart(path.stem, path, w, h)


def experience(data: BriefData, s: Mapping[str, Any], path: Path) -> Chart:
    """Share requiring 3+ years over time (among postings stating experience) and the unstated share."""
    import matplotlib.pyplot as plt

    w, h = WIDTH_MM, 70
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(w * MM, h * MM), layout="constrained")
    _share_panel(ax1, data, "requires_3plus", ("all", "new_economy"), "")
    ax1.set_title(s["exp_chart_y"])
    ax1.legend(loc="lower left")
    _share_panel(ax2, data, "experience_unstated", ("all", "new_economy"), "")
    ax2.set_title(s["exp_unstated"])
    for ax in (ax1, ax2):
        for lab in ax.get_xticklabels()[1::2]:
            lab.set_visible(False)
    ax1.set_ylim(0, 1)
    _save(fig, path)
    return Chart("experience", path, w, h)


def draw_all(data: BriefData, s: Mapping[str, Any], out_dir: Path, family: str,
             font_files: Sequence[Path], fmt: str = "png") -> dict[str, Chart]:
    """Draw every chart of the brief into ``out_dir``; returns them by name for the template."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with _style(family, font_files):
        charts = [
            demand_index(data, s, out_dir / f"demand_index.{fmt}"),
            yoy_bars(data, s, out_dir / f"yoy_bars.{fmt}"),
            ai_share(data, s, out_dir / f"ai_share.{fmt}"),
            category_shares(data, s, "references_ai", s["ai_by_category"], out_dir / f"ai_by_category.{fmt}",
                            "#5fa8d3"),
            experience(data, s, out_dir / f"experience.{fmt}"),
            category_shares(data, s, "requires_3plus", s["exp_by_category"],
                            out_dir / f"exp_by_category.{fmt}", "#8c96a8"),
        ]
    return {c.name: c for c in charts}
