"""Headline findings as sentences (zh / en) from the typed figures of ``db.findings``.

The brief, ``labourwatch findings`` and the monthly flow all print these, so they say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from db.findings import DemandChange, Headlines, ShareFigure, headline_figures
from db.session import Engine

_DEFAULT_NAMES = {"new_economy": {"zh": "新经济", "en": "new-economy"}, "all": {"zh": "全部", "en": "all"}}
_COUNTRY = {"CN": {"zh": "中国", "en": "China"}, "GB": {"zh": "英国", "en": "the United Kingdom"},
            "US": {"zh": "美国", "en": "the United States"}, "unknown": {"zh": "国家未知", "en": "unknown country"}}
_HOLIDAY = {"spring_festival": {"zh": "春节", "en": "Spring Festival"}, "easter": {"zh": "复活节", "en": "Easter"}}


@dataclass(frozen=True, slots=True)
class Finding:
    """One headline: the sentence and the numbers behind it.

    ``value`` is a fraction (a change or a share), ``ci_low``/``ci_high`` its 95% interval, ``n`` the
    sample behind it, ``base`` the comparison base in words, ``method`` how it was computed;
    ``suppressed`` findings rest on a cell under the minimum size and must not be headlined.
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


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def pct(x: float | None, signed: bool = False) -> str:
    """A fraction as a percentage: one decimal under 9.5%, none above; ``n/a`` for None."""
    if x is None:
        return "n/a"
    digits = 1 if abs(x) < 0.095 and x != 0 else 0
    s = f"{abs(x) * 100:.{digits}f}%"
    if signed:
        return ("-" if x < 0 else "+") + s
    return ("-" if x < 0 else "") + s


def _pp(x: float, lang: str) -> str:
    return f"{x * 100:+.1f}个百分点" if lang == "zh" else f"{x * 100:+.1f} pp"


def _name(names: Mapping[str, Mapping[str, str]] | None, code: str, lang: str) -> str:
    for table in (names or {}, _DEFAULT_NAMES):
        if code in table and table[code].get(lang):
            return table[code][lang]
    return code


def country_name(code: str | None, lang: str) -> str:
    """The market's name in ``lang`` (the code itself when not known)."""
    if code is None:
        return _t(lang, "全部国家合计", "all countries pooled")
    return _COUNTRY.get(code, {}).get(lang, code)


def holiday_name(holiday: str, lang: str) -> str:
    return _HOLIDAY.get(holiday, {}).get(lang, holiday)


def _span(periods: Sequence[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]}..{periods[-1]}"


def _role(name: str) -> str:
    return name if name.endswith("岗位") else name + "岗位"


def market_line(h: Headlines, lang: str) -> str:
    """Which market the figures describe, and why when they are pooled."""
    m = h.market
    if m.country:
        return _t(lang, f"市场：{country_name(m.country, 'zh')}（{h.month} 新发职位 n={h.n_month:,}）",
                  f"Market: {country_name(m.country, 'en')} ({h.month}: n={h.n_month:,} new postings)")
    if m.pooled_reason == "no_country":
        return _t(lang, "市场：全部职位合计（数据库未记录职位所属国家）",
                  "Market: all postings pooled (no country is recorded for the postings)")
    return _t(lang, "市场：全部国家合计（按要求合并，混合了不同劳动力市场）",
              "Market: all countries pooled, as asked (this blends different labour markets)")


def demand_sentence(c: DemandChange, name: str, lang: str, min_cell: int) -> str:
    """One category's change in words: direction, size, interval, n, base, pooling and caveats."""
    span, base = _span(c.periods), _span(c.base_periods)
    if c.change is None or c.ci_low is None or c.ci_high is None:
        return _t(lang, f"{_role(name)}：样本过少，无法估计变化（{span} n={c.n:,}，{base} n={c.n_base:,}）。",
                  f"{name}: too few postings to estimate a change ({span} n={c.n:,}, {base} n={c.n_base:,}).")
    fell = c.change < 0
    if lang == "zh":
        what = "同比" if c.kind == "yoy" else f"较{base}（首月，无上年同期）"
        txt = (f"{_role(name)}新发职位{what}{'下降' if fell else '上升'}{pct(abs(c.change))}"
               f"（95%区间 {pct(c.ci_low, True)}至{pct(c.ci_high, True)}，{span} n={c.n:,}，{base} n={c.n_base:,}）")
        if c.pooling == "last3":
            txt += "；单月样本不足，合并近三个月"
        if c.small:
            txt += f"；样本低于单元最小值 {min_cell}，区间较宽"
        if c.holiday:
            txt += f"；{holiday_name(c.holiday, 'zh')}日期移动影响同比"
        return txt + "。"
    what = "year on year" if c.kind == "yoy" else f"since {base} (the first month; no base period a year earlier)"
    txt = (f"{name}: new postings {'fell' if fell else 'rose'} {pct(abs(c.change))} {what} "
           f"(95% CI {pct(c.ci_low, True)} to {pct(c.ci_high, True)}; n={c.n:,} in {span} vs {c.n_base:,} in {base})")
    notes = []
    if c.pooling == "last3":
        notes.append("the last three months pooled because a single month is too small")
    if c.small:
        notes.append(f"below the minimum cell of {min_cell}, hence the wide interval")
    if c.holiday:
        notes.append(f"the {holiday_name(c.holiday, 'en')} moved between the two years")
    return txt + ("; " + "; ".join(notes) if notes else "") + "."


def render_findings(h: Headlines, lang: str = "zh", names: Mapping[str, Mapping[str, str]] | None = None
                    ) -> list[Finding]:
    """The findings of ``h`` as sentences in ``lang``: the market, the strongest falls and rises (or why
    there are none), the AI share with its split and shift-share, and the 3+ years share."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    prov = (_t(lang, f"模型 {h.model_version}，分类体系 {h.taxonomy_version}",
               f"model {h.model_version}, taxonomy {h.taxonomy_version}") if h.model_version
            else _t(lang, "本月无趋势数据", "no trend rows for this month"))
    where = country_name(h.market.country, lang)
    out = [Finding("market", market_line(h, lang), None, None, None, h.n_month, "",
                   _t(lang, "按国家发布；合并数据须明确要求", "figures are per country; pooled only when asked"),
                   False)]
    if not h.has_base:
        if h.first_month and h.first_month < h.month:
            txt = _t(lang, f"无基期：{h.base_month}（上年同月）没有职位数据，无法计算同比；以下给出较首月 {h.first_month} 的变化。",
                     f"No base period: there are no postings in {h.base_month} (a year earlier), so there is no "
                     f"year-on-year change; changes below are since the first month, {h.first_month}.")
        else:
            txt = _t(lang, f"无基期：{h.base_month}（上年同月）没有职位数据，且 {h.month} 是第一个月，无法计算变化。",
                     f"No base period: there are no postings in {h.base_month} (a year earlier) and {h.month} is "
                     "the first month, so no change can be computed.")
        out.append(Finding("no_base", txt, None, None, None, h.n_month, h.base_month, prov, False))
    if h.holiday:
        out.append(Finding(
            "holiday", _t(lang, f"注意：{holiday_name(h.holiday, 'zh')}在 {h.base_month[:4]} 年与 {h.month[:4]} 年落在"
                                f"不同月份，{h.month} 的同比变化受节日移动影响。",
                          f"Note: the {holiday_name(h.holiday, 'en')} fell in different months in "
                          f"{h.base_month[:4]} and {h.month[:4]}, so {h.month}'s year-on-year change is distorted "
                          "by the holiday's move."),
            None, None, None, h.n_month, h.base_month, prov, False))
    method = _t(lang, f"新发去重职位数之比；95%区间：Katz对数率比（泊松）；单月单元不足时合并近三个月；按证据强度"
                      f"（区间不含0，效应大小）排序全部类别；{where}；{prov}",
                f"ratio of new canonical postings; 95% CI: Katz log rate ratio (Poisson); the last three months "
                f"pooled when a monthly cell is small; every category ranked by evidence (interval excluding zero, "
                f"then effect size); {where}; {prov}")
    for c in (*h.falls, *h.rises):
        out.append(Finding(f"demand_yoy.{c.category}", demand_sentence(c, _name(names, c.category, lang), lang,
                                                                         h.min_cell),
                           c.change, c.ci_low, c.ci_high, c.n,
                           _t(lang, f"{_span(c.base_periods)}（n={c.n_base:,}）", f"{_span(c.base_periods)} "
                                                                                 f"(n={c.n_base:,})"),
                           method, False))
    if (h.has_base or h.first_month) and not h.falls and not h.rises and h.ranked:
        out.append(Finding("demand.no_clear_move", _t(
            lang, f"没有任何岗位类别的职位数变化在95%区间上明确不为0（{len(h.ranked)} 个类别）。",
            f"No category's change in new postings has a 95% interval excluding zero ({len(h.ranked)} categories)."),
            None, None, None, h.n_month, "", method, False))
    out.extend(_ai_findings(h, lang, _name(names, h.seed_group, lang), prov))
    out.append(_experience_finding(h, lang, prov))
    return out


def _pooled_note(f: ShareFigure, lang: str) -> str:
    if f.pooling != "last3":
        return ""
    return _t(lang, f"；单月样本不足，合并 {_span(f.periods)}", f"; {_span(f.periods)} pooled (a single month is small)")


def _ai_findings(h: Headlines, lang: str, group: str, prov: str) -> list[Finding]:
    f = h.ai_share
    out: list[Finding] = []
    if f is None:
        return out
    span, base_span = _span(f.periods), _span(f.base_periods)
    method = _t(lang, f"ai_level 不为 none 的去重职位占比；95% Wilson 区间；{prov}",
                f"share of canonical postings with ai_level != none; 95% Wilson interval; {prov}")
    base = (_t(lang, f"{base_span}：{pct(f.base_share)}（n={f.base_n:,}）", f"{base_span}: {pct(f.base_share)} "
                                                                           f"(n={f.base_n:,})")
            if f.base_share is not None else _t(lang, f"{base_span}：无数据", f"{base_span}: no data"))
    if f.suppressed:
        txt = _t(lang, f"{group}岗位提及AI的占比：样本不足（{span} n={f.n:,}，最小单元 {h.min_cell}）。",
                 f"Share of {group} postings referencing AI: too few postings ({span} n={f.n:,}; minimum "
                 f"{h.min_cell}).")
    elif lang == "zh":
        frm = f"由{pct(f.base_share)}（{base_span}，n={f.base_n:,}）" if f.base_share is not None else ""
        txt = (f"{group}岗位中提及AI的职位占比{frm}{'升至' if frm else '为'}{pct(f.share)}（{span}，"
               f"95%区间 {pct(f.ci_low)}–{pct(f.ci_high)}，n={f.n:,}{_pooled_note(f, lang)}）")
    else:
        frm = f"from {pct(f.base_share)} ({base_span}, n={f.base_n:,}) " if f.base_share is not None else ""
        txt = (f"The share of {group} postings referencing AI went {frm}to {pct(f.share)} in {span} "
               f"(95% CI {pct(f.ci_low)}–{pct(f.ci_high)}; n={f.n:,}{_pooled_note(f, lang)}).")
    out.append(Finding(f"ai_share.{h.seed_group}", txt, f.share, f.ci_low, f.ci_high, f.n, base, method,
                       f.suppressed))
    adj = h.ai_share_adjusted
    if adj is not None and not f.suppressed:
        txt = _t(lang, f"按实测分类误差校正后（Rogan–Gladen，审核样本 n={adj.n_audit:,}，灵敏度 {pct(adj.sensitivity)}、"
                       f"特异度 {pct(adj.specificity)}），{group}岗位提及AI的占比为{pct(adj.value)}"
                       f"（95%自助法区间 {pct(adj.ci_low)}–{pct(adj.ci_high)}，含审核样本自身的不确定性）",
                 f"Adjusted for the measured labelling error (Rogan–Gladen; audit n={adj.n_audit:,}, sensitivity "
                 f"{pct(adj.sensitivity)}, specificity {pct(adj.specificity)}), the share of {group} postings "
                 f"referencing AI is {pct(adj.value)} (95% bootstrap interval {pct(adj.ci_low)}–{pct(adj.ci_high)}, "
                 "carrying the audit's own uncertainty).")
        out.append(Finding(f"ai_share_adjusted.{h.seed_group}", txt, adj.value, adj.ci_low, adj.ci_high, adj.n,
                           _t(lang, f"按标签：{pct(adj.observed)}", f"as labelled: {pct(adj.observed)}"),
                           _t(lang, "Rogan–Gladen：(观测占比 + 特异度 − 1) / (灵敏度 + 特异度 − 1)；灵敏度与特异度按审核抽样"
                                    "设计加权；区间为2000次参数自助抽样（灵敏度、特异度取自审核计数的Jeffreys Beta后验，观测占比二项重抽）的百分位；",
                              "Rogan–Gladen: (observed + specificity − 1) / (sensitivity + specificity − 1); "
                              "sensitivity and specificity weighted by the audit's sampling design; interval: "
                              "percentiles of 2,000 bootstrap draws (sensitivity and specificity from Jeffreys Beta "
                              "posteriors on the audit's counts, observed share redrawn binomially); ") + prov, False))
    duty = h.ai_levels.get("duty")
    if duty is not None:
        tools, skills, inc = (h.ai_levels.get(m) for m in ("ai_tools", "ai_skills", "ai_incidental"))
        if f.suppressed:
            txt = _t(lang, "按AI要求程度的拆分：样本不足。", "Split by AI level: too few postings.")
        elif lang == "zh":
            txt = (f"其中职责或要求涉及AI的占{pct(duty.share)}（95%区间 {pct(duty.ci_low)}–{pct(duty.ci_high)}）：要求使用AI工具"
                   f"{pct(tools.share if tools else None)}，要求AI技能{pct(skills.share if skills else None)}；"
                   f"仅在公司介绍等处提及{pct(inc.share if inc else None)}（n={duty.n:,}）")
        else:
            txt = (f"Of these, AI is part of the job's duties or requirements in {pct(duty.share)} (95% CI "
                   f"{pct(duty.ci_low)}–{pct(duty.ci_high)}): AI tools {pct(tools.share if tools else None)}, AI "
                   f"skills {pct(skills.share if skills else None)}; only incidental mentions (company blurb, "
                   f"benefits) {pct(inc.share if inc else None)} (n={duty.n:,}).")
        out.append(Finding(f"ai_levels.{h.seed_group}", txt, duty.share, duty.ci_low, duty.ci_high, duty.n,
                           _t(lang, f"{span}：全部{group}职位", f"{span}: all {group} postings"),
                           _t(lang, "ai_level 为 ai_tools 或 ai_skills 的职位占该组全部职位之比；95% Wilson 区间；",
                              "ai_level in (ai_tools, ai_skills) over all postings of the group; 95% Wilson "
                              "interval; ") + prov, f.suppressed))
    ss = h.shift
    if ss is not None and f.base_share is not None:
        if lang == "zh":
            txt = (f"{group}岗位提及AI占比变化{_pp(ss.total, lang)}（{h.base_month}→{h.month}）中，岗位类别内部变化贡献"
                   f"{_pp(ss.within, lang)}，岗位结构变化贡献{_pp(ss.between, lang)}（偏离-份额分解）")
        else:
            txt = (f"Of the {_pp(ss.total, lang)} change in the share of {group} postings referencing AI "
                   f"({h.base_month}→{h.month}), {_pp(ss.within, lang)} is within role categories and "
                   f"{_pp(ss.between, lang)} comes from the mix of categories (shift-share).")
        out.append(Finding(f"ai_share_shift.{h.seed_group}", txt, ss.total, None, None, ss.n_b,
                           _t(lang, f"{h.base_month}：{pct(ss.share_a)}（n={ss.n_a:,}）",
                              f"{h.base_month}: {pct(ss.share_a)} (n={ss.n_a:,})"),
                           _t(lang, "中点权重的偏离-份额分解：类别内部 = Σ 平均权重 × 占比变化，结构 = Σ 平均占比 × 权重变化；",
                              "shift-share with midpoint weights: within = Σ mean weight × Δshare, mix = Σ mean "
                              "share × Δweight; ") + prov,
                           f.suppressed or ss.n_a < h.min_cell or ss.n_b < h.min_cell))
    return out


def _experience_finding(h: Headlines, lang: str, prov: str) -> Finding:
    f, un = h.requires_3plus, h.experience_unstated
    method = _t(lang, f"注明经验要求的职位中要求3年以上（requires_3plus_years）的占比；95% Wilson 区间；另列未注明经验的比例；{prov}",
                f"requires_3plus_years among postings that state experience; 95% Wilson interval; unstated share "
                f"beside it; {prov}")
    if f is None or f.share is None or f.suppressed:
        n = f.n if f else 0
        return Finding("experience.requires_3plus.all",
                       _t(lang, "要求3年以上经验的占比：样本不足。",
                          "Share of postings requiring 3+ years: too few postings state experience."),
                       f.share if f else None, f.ci_low if f else None, f.ci_high if f else None, n, "", method, True)
    base = (_t(lang, f"{_span(f.base_periods)}：{pct(f.base_share)}", f"{_span(f.base_periods)}: {pct(f.base_share)}")
            if f.base_share is not None else _t(lang, f"{_span(f.base_periods)}：无数据", f"{_span(f.base_periods)}: no data"))
    u = un.share if un else None
    if lang == "zh":
        prev_txt = f"，上年同期{pct(f.base_share)}" if f.base_share is not None else ""
        txt = (f"注明经验要求的新发职位中，要求3年以上经验的占{pct(f.share)}（95%区间 {pct(f.ci_low)}–{pct(f.ci_high)}，"
               f"n={f.n:,}{prev_txt}{_pooled_note(f, lang)}）；另有{pct(u)}的职位未注明经验要求")
    else:
        prev_txt = f"; {pct(f.base_share)} a year earlier" if f.base_share is not None else ""
        txt = (f"{pct(f.share)} of new postings that state experience require 3+ years (95% CI {pct(f.ci_low)}–"
               f"{pct(f.ci_high)}; n={f.n:,}{prev_txt}{_pooled_note(f, lang)}); {pct(u)} of postings do not state "
               "experience.")
    return Finding("experience.requires_3plus.all", txt, f.share, f.ci_low, f.ci_high, f.n, base, method, False)


def headline_findings(engine: Engine, month: str, lang: str = "zh",
                      names: Mapping[str, Mapping[str, str]] | None = None,
                      groups: Mapping[str, Sequence[str]] | None = None, country: str | None = None) -> list[Finding]:
    """The month's findings as sentences for ``country`` (default the largest; ``all`` pools every country)."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    return render_findings(headline_figures(engine, month, country=country, groups=groups), lang, names)
