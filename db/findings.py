"""Headline findings of a month as sentences with their numbers, intervals, sample sizes and comparison bases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from db.stats import shift_share, wilson_interval
from db.trends import _prev_year, check_month
from labourwatch.settings import get_settings

DEMAND_CODES = ("software_dev", "design_basic", "supply_chain_repetitive", "ai_ml")
_DEFAULT_NAMES = {"new_economy": {"zh": "新经济", "en": "new-economy"}, "all": {"zh": "全部", "en": "all"}}


@dataclass(frozen=True, slots=True)
class Finding:
    """One headline: the sentence and the numbers behind it.

    ``value`` is a fraction (a change or a share), ``ci_low``/``ci_high`` its 95% interval, ``n`` the
    sample behind it, ``base`` the comparison base in words (period and its value/n), ``method`` how it
    was computed; ``suppressed`` findings rest on a cell under the minimum size and must not be headlined.
    """

    key: str
    text: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    base: str
    method: str
    suppressed: bool


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    digits = 1 if abs(x) < 0.095 and x != 0 else 0
    s = f"{abs(x) * 100:.{digits}f}%"
    if signed:
        return ("-" if x < 0 else "+") + s
    return ("-" if x < 0 else "") + s


def _pp(x: float, lang: str) -> str:
    """A difference of two shares in percentage points."""
    return f"{x * 100:+.1f}个百分点" if lang == "zh" else f"{x * 100:+.1f} pp"


def _t(lang: str, zh: str, en: str) -> str:
    """The text in the brief's language: method and base notes are read beside the sentence."""
    return zh if lang == "zh" else en


def _no_data(prev: str, lang: str) -> str:
    return _t(lang, f"{prev}：无数据", f"{prev}: no data")


def _name(names: Mapping[str, Mapping[str, str]] | None, code: str, lang: str) -> str:
    for table in (names or {}, _DEFAULT_NAMES):
        if code in table and table[code].get(lang):
            return table[code][lang]
    return code


def headline_findings(engine: Engine, month: str, lang: str = "zh",
                      names: Mapping[str, Mapping[str, str]] | None = None,
                      groups: Mapping[str, Sequence[str]] | None = None) -> list[Finding]:
    """The month's headline findings, read from the trend tables (run ``update_trends`` first).

    Takes the month (YYYY-MM), the language (``zh`` or ``en``), display names per category/group code
    (``{"software_dev": {"zh": "传统软件开发", "en": "..."}}``, e.g. from the taxonomy; codes otherwise)
    and the groups (needed for the shift-share finding, which is left out without them). Returns, in
    order: year-on-year demand change of software_dev, design_basic, supply_chain_repetitive and ai_ml;
    the share of new-economy postings referencing AI against a year earlier; its split by AI level; the
    within/mix decomposition of that change; the share of all postings requiring 3+ years.
    """
    check_month(month)
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    prev = _prev_year(month)
    min_cell = get_settings().min_cell_size
    out: list[Finding] = []
    with engine.connect() as conn:
        versions = conn.execute(text(
            "SELECT model_version, taxonomy_version FROM trend_demand WHERE period_type = 'month' AND period = :m "
            "AND dim = 'all' AND category = 'all'"), {"m": month}).first()
        if versions:
            prov = _t(lang, f"模型 {versions[0]}，分类体系 {versions[1]}", f"model {versions[0]}, taxonomy {versions[1]}")
        else:
            prov = _t(lang, "本月无趋势数据", "no trend rows for this month")
        for code in DEMAND_CODES:
            out.append(_demand_finding(conn, code, month, prev, lang, _name(names, code, lang), min_cell, prov))
        out.extend(_ai_findings(conn, month, prev, lang, _name(names, "new_economy", lang), min_cell, prov, groups))
        out.append(_experience_finding(conn, month, prev, lang, min_cell, prov))
    return out


def _role(name: str) -> str:
    return name if name.endswith("岗位") else name + "岗位"


def _demand_finding(conn: Connection, code: str, month: str, prev: str, lang: str, name: str, min_cell: int,
                    prov: str) -> Finding:
    row = conn.execute(text(
        "SELECT n, n_prev_year, yoy_change, yoy_ci_low, yoy_ci_high FROM trend_demand WHERE period_type = 'month' "
        "AND period = :m AND dim = 'all' AND dim_value = '' AND category = :c"), {"m": month, "c": code}).first()
    n, n_prev, yoy, lo, hi = row if row else (0, None, None, None, None)
    n_prev_i = int(n_prev or 0)
    key = f"demand_yoy.{code}"
    method = _t(lang, f"{month}与{prev}的新发去重职位数之比；95%区间：Katz对数率比（泊松）；{prov}",
                f"new canonical postings {month} vs {prev}; 95% CI: Katz log rate ratio (Poisson); {prov}")
    base = _t(lang, f"{prev}（n={n_prev_i:,}）", f"{prev} (n={n_prev_i:,})")
    suppressed = yoy is None or n < min_cell or n_prev_i < min_cell
    if suppressed:
        txt = (f"{_role(name)}：样本不足（{month} n={n:,}，{prev} n={n_prev_i:,}，最小单元 {min_cell}），不发布同比变化。"
               if lang == "zh" else
               f"{name}: too few postings for a year-on-year change ({month} n={n:,}, {prev} n={n_prev_i:,}; "
               f"minimum cell {min_cell}).")
    elif lang == "zh":
        assert yoy is not None
        txt = (f"{_role(name)}新发职位同比{'下降' if yoy < 0 else '上升'}{_pct(abs(yoy))}"
               f"（95%区间 {_pct(lo, True)}至{_pct(hi, True)}，n={n:,}，上年同月 n={n_prev_i:,}）")
    else:
        assert yoy is not None
        txt = (f"{name}: new postings {'fell' if yoy < 0 else 'rose'} {_pct(abs(yoy))} year on year "
               f"(95% CI {_pct(lo, True)} to {_pct(hi, True)}; n={n:,} in {month} vs {n_prev_i:,} in {prev}).")
    return Finding(key, txt, yoy, lo, hi, int(n), base, method, suppressed)


def _shares(conn: Connection, period: str, category: str) -> dict[str, tuple[int, int, float | None, float | None,
                                                                          float | None]]:
    return {m: (int(n), int(k), s, lo, hi) for m, n, k, s, lo, hi in conn.execute(text(
        "SELECT metric, n, k, share, ci_low, ci_high FROM trend_shares WHERE period_type = 'month' AND period = :p "
        "AND dim = 'all' AND dim_value = '' AND category = :c"), {"p": period, "c": category})}


def _ai_findings(conn: Connection, month: str, prev: str, lang: str, group_name: str, min_cell: int, prov: str,
                 groups: Mapping[str, Sequence[str]] | None) -> list[Finding]:
    now, before = _shares(conn, month, "new_economy"), _shares(conn, prev, "new_economy")
    out: list[Finding] = []
    n, k, share, lo, hi = now.get("references_ai", (0, 0, None, None, None))
    pn, _, pshare, _, _ = before.get("references_ai", (0, 0, None, None, None))
    suppressed = share is None or n < min_cell
    method = _t(lang, f"ai_level 不为 none 的去重职位占比；95% Wilson 区间；{prov}",
                f"share of canonical postings with ai_level != none; 95% Wilson interval; {prov}")
    base = (_t(lang, f"{prev}：{_pct(pshare)}（n={pn:,}）", f"{prev}: {_pct(pshare)} (n={pn:,})")
            if pshare is not None else _no_data(prev, lang))
    if suppressed:
        txt = (f"{group_name}岗位提及AI的占比：样本不足（n={n:,}，最小单元 {min_cell}）。" if lang == "zh" else
               f"Share of {group_name} postings referencing AI: too few postings (n={n:,}; minimum {min_cell}).")
    elif lang == "zh":
        frm = f"由{_pct(pshare)}（{prev}，n={pn:,}）" if pshare is not None else ""
        txt = (f"{group_name}岗位中提及AI的职位占比{frm}{'升至' if frm else '为'}{_pct(share)}（{month}，"
               f"95%区间 {_pct(lo)}–{_pct(hi)}，n={n:,}）")
    else:
        frm = f"from {_pct(pshare)} ({prev}, n={pn:,}) " if pshare is not None else ""
        txt = (f"The share of {group_name} postings referencing AI went {frm}to {_pct(share)} in {month} "
               f"(95% CI {_pct(lo)}–{_pct(hi)}; n={n:,}).")
    out.append(Finding("ai_share.new_economy", txt, share, lo, hi, n, base, method, suppressed))

    # Split by level: a keyword share overstates demand, so the duty-level share (tools + skills) is shown too.
    tools, skills, inc = (now.get(m, (0, 0, None, None, None)) for m in ("ai_tools", "ai_skills", "ai_incidental"))
    k_duty = tools[1] + skills[1]
    if n > 0:
        d_lo, d_hi = wilson_interval(k_duty, n)
        duty = k_duty / n
    else:
        duty, d_lo, d_hi = None, None, None
    if suppressed:
        txt = ("按AI要求程度的拆分：样本不足。" if lang == "zh" else "Split by AI level: too few postings.")
    elif lang == "zh":
        txt = (f"其中职责或要求涉及AI的占{_pct(duty)}（95%区间 {_pct(d_lo)}–{_pct(d_hi)}）：要求使用AI工具"
               f"{_pct(tools[2])}，要求AI技能{_pct(skills[2])}；仅在公司介绍等处提及{_pct(inc[2])}（n={n:,}）")
    else:
        txt = (f"Of these, AI is part of the job's duties or requirements in {_pct(duty)} (95% CI {_pct(d_lo)}–"
               f"{_pct(d_hi)}): AI tools {_pct(tools[2])}, AI skills {_pct(skills[2])}; only incidental "
               f"mentions (company blurb, benefits) {_pct(inc[2])} (n={n:,}).")
    out.append(Finding("ai_levels.new_economy", txt, duty, d_lo, d_hi, n,
                       _t(lang, f"{month}：全部{group_name}职位", f"{month}: all {group_name} postings"),
                       _t(lang, "ai_level 为 ai_tools 或 ai_skills 的职位占该组全部职位之比；95% Wilson 区间；",
                          "ai_level in (ai_tools, ai_skills) over all postings of the group; 95% Wilson interval; ")
                       + prov, suppressed))

    members = (groups or {}).get("new_economy")
    if members and pshare is not None and share is not None:
        a: dict[str, tuple[int, int]] = {}
        b: dict[str, tuple[int, int]] = {}
        for period, target in ((prev, a), (month, b)):
            for cat, cn, ck in conn.execute(text(
                    "SELECT category, n, k FROM trend_shares WHERE period_type = 'month' AND period = :p AND "
                    "dim = 'all' AND dim_value = '' AND metric = 'references_ai'"), {"p": period}):
                if cat in members:
                    target[cat] = (int(cn), int(ck))
        if a and b:
            ss = shift_share(a, b)
            sup = suppressed or pn < min_cell
            if lang == "zh":
                txt = (f"{group_name}岗位提及AI占比变化{_pp(ss.total, lang)}（{prev}→{month}）中，岗位类别内部变化贡献"
                       f"{_pp(ss.within, lang)}，岗位结构变化贡献{_pp(ss.between, lang)}（偏离-份额分解）")
            else:
                txt = (f"Of the {_pp(ss.total, lang)} change in the share of {group_name} postings referencing AI "
                       f"({prev}→{month}), {_pp(ss.within, lang)} is within role categories and "
                       f"{_pp(ss.between, lang)} comes from the mix of categories (shift-share).")
            out.append(Finding("ai_share_shift.new_economy", txt, ss.total, None, None, ss.n_b,
                               _t(lang, f"{prev}：{_pct(ss.share_a)}（n={ss.n_a:,}）",
                                  f"{prev}: {_pct(ss.share_a)} (n={ss.n_a:,})"),
                               _t(lang, "中点权重的偏离-份额分解：类别内部 = Σ 平均权重 × 占比变化，"
                                        "结构 = Σ 平均占比 × 权重变化；",
                                  "shift-share with midpoint weights: within = Σ mean weight × Δshare, "
                                  "mix = Σ mean share × Δweight; ") + prov, sup))
    return out


def _experience_finding(conn: Connection, month: str, prev: str, lang: str, min_cell: int, prov: str) -> Finding:
    now, before = _shares(conn, month, "all"), _shares(conn, prev, "all")
    n, k, share, lo, hi = now.get("requires_3plus", (0, 0, None, None, None))
    un = now.get("experience_unstated", (0, 0, None, None, None))
    pshare = before.get("requires_3plus", (0, 0, None, None, None))[2]
    suppressed = share is None or n < min_cell
    base = _t(lang, f"{prev}：{_pct(pshare)}", f"{prev}: {_pct(pshare)}") if pshare is not None else _no_data(prev, lang)
    method = _t(lang, f"注明经验要求的职位中要求3年以上（requires_3plus_years）的占比；95% Wilson 区间；"
                      f"另列未注明经验的比例；{prov}",
                f"requires_3plus_years among postings that state experience; 95% Wilson interval; unstated share "
                f"beside it; {prov}")
    if suppressed:
        txt = ("要求3年以上经验的占比：样本不足。" if lang == "zh" else
               "Share of postings requiring 3+ years: too few postings state experience.")
    elif lang == "zh":
        prev_txt = f"，上年同月{_pct(pshare)}" if pshare is not None else ""
        txt = (f"注明经验要求的新发职位中，要求3年以上经验的占{_pct(share)}（95%区间 {_pct(lo)}–{_pct(hi)}，"
               f"n={n:,}{prev_txt}）；另有{_pct(un[2])}的职位未注明经验要求")
    else:
        prev_txt = f"; {_pct(pshare)} in {prev}" if pshare is not None else ""
        txt = (f"{_pct(share)} of new postings that state experience require 3+ years (95% CI {_pct(lo)}–"
               f"{_pct(hi)}; n={n:,}{prev_txt}); {_pct(un[2])} of postings do not state experience.")
    return Finding("experience.requires_3plus.all", txt, share, lo, hi, n, base, method, suppressed)
