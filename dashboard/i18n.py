"""Dashboard strings in Chinese and English, and category names from the taxonomy (never bare codes)."""

from __future__ import annotations

from functools import lru_cache

from labourwatch.contract import AI_LEVEL_METRICS, ai_level_metric, vocabulary

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("劳动力市场 AI 监测", "labourwatch — AI in the labour market"),
    "overview": ("概览", "Overview"),
    "demand": ("岗位需求", "Demand"),
    "ai": ("岗位中的 AI", "AI in postings"),
    "experience": ("经验要求", "Experience"),
    "postings": ("图后岗位", "Postings behind a figure"),
    "quality": ("来源与质量", "Sources and quality"),
    "audit": ("审核", "Audit"),
    "month": ("月份", "Month"),
    "period": ("时期", "Period"),
    "period_type": ("时期类型", "Period type"),
    "by_month": ("月", "Month"),
    "by_week": ("ISO 周", "ISO week"),
    "from": ("起", "From"),
    "to": ("止", "To"),
    "breakdown": ("维度", "Breakdown"),
    "value": ("取值", "Value"),
    "categories": ("类别", "Categories"),
    "category": ("类别", "Category"),
    "group": ("群组", "Group"),
    "dim_all": ("全部（不分）", "All (no breakdown)"),
    "dim_country": ("国家/地区", "Country"),
    "dim_city": ("城市", "City"),
    "dim_source": ("来源", "Source"),
    "dim_lang": ("语言", "Language"),
    "pooled": ("全部国家合并", "all countries pooled"),
    "country": ("国家/地区", "Country"),
    "postings_n": ("新岗位数", "New postings"),
    "yoy": ("同比变化", "Year-on-year change"),
    "yoy_ci": ("同比 95% 区间", "YoY 95% interval"),
    "ai_share": ("提及 AI 的比例", "Share referencing AI"),
    "share_3plus": ("要求 3 年以上经验（在注明者中）", "Requiring 3+ years (of those stating)"),
    "unstated": ("未注明经验的比例", "Share not stating experience"),
    "index": ("需求指数（基准年=100）", "Demand index (baseline year = 100)"),
    "index_sa": ("季节调整（序列均值=100）", "seasonally adjusted (series mean = 100)"),
    "faded_note": ("浅色 = 样本过小（n 低于最小单元），仍显示；悬停查看 n 与区间。点击柱或点可查看其背后的岗位。",
                   "Faded = small cell (n below the minimum cell size), still shown; hover for n and interval. "
                   "Click a bar or point to see the postings behind it."),
    "csv": ("下载 CSV", "Download CSV"),
    "xlsx": ("下载 XLSX", "Download XLSX"),
    "findings": ("本月要点", "This month's findings"),
    "briefs": ("PDF 简报", "PDF briefs"),
    "no_briefs": ("数据库中尚无简报。", "No brief is recorded in the database yet."),
    "key_figures": ("本月关键数字", "Key figures of the month"),
    "level": ("AI 层级", "AI level"),
    "m_references_ai": ("提及 AI（任一层级）", "References AI (any level)"),
    "m_ai_skills": ("要求 AI 技能", "AI skills required"),
    "m_ai_tools": ("使用 AI 工具", "Uses AI tools"),
    "m_ai_incidental": ("仅简介提及", "Blurb only"),
    "m_requires_3plus": ("3 年以上（注明者中）", "3+ years (of stating)"),
    "m_experience_unstated": ("未注明经验", "Experience unstated"),
    "shift_share": ("变化分解：类别内 vs 结构", "Split of the change: within categories vs mix"),
    "within": ("类别内变化", "Within categories"),
    "between": ("结构（岗位构成）变化", "Mix (composition)"),
    "total": ("总变化", "Total change"),
    "ai_by_level": ("各类别提及 AI 的比例（按层级）", "Share referencing AI by level, per category"),
    "ai_over_time": ("提及 AI 的比例随时间变化", "Share referencing AI over time"),
    "exp_by_cat": ("各类别经验要求", "Experience by category"),
    "exp_by_city": ("各城市经验要求", "Experience by city"),
    "cell": ("单元", "Cell"),
    "sample_note": ("该单元中的岗位样本（按编号最小者，最多 25 条）。标记标签对错将写入审核库。",
                    "A sample of the postings in this cell (lowest ids, up to 25). Marking a label right or "
                    "wrong stores it in the audit store."),
    "no_cell": ("请在需求、AI 或经验页面点击一个柱或点。", "Click a bar or point on the Demand, AI or Experience page."),
    "no_postings": ("该单元没有可显示的岗位。", "No postings to show for this cell."),
    "title_col": ("职位", "Title"),
    "company": ("公司", "Company"),
    "city": ("城市", "City"),
    "source": ("来源", "Source"),
    "role": ("岗位类别", "Role category"),
    "confidence": ("置信度", "Confidence"),
    "ai_level": ("AI 层级", "AI level"),
    "ai_terms": ("匹配的 AI 词", "Matched AI terms"),
    "exp_bucket": ("经验", "Experience"),
    "link": ("原文", "Source link"),
    "right": ("对", "right"),
    "wrong": ("错", "wrong"),
    "saved": ("已记录", "Recorded"),
    "crawl_runs": ("抓取运行", "Crawl runs"),
    "sources": ("来源", "Sources"),
    "versions": ("分类器版本", "Classifier versions"),
    "accuracy": ("实测准确率（最新判定）", "Measured accuracy (newest verdicts)"),
    "verdicts": ("最新判定", "Newest verdicts"),
    "suppressed_cells": ("小单元（已标记）", "Small cells (flagged)"),
    "open": ("打开", "open"),
}

# The levels a posting can mention AI at, highest first (the stacking order of the AI page), as trend metrics.
LEVEL_METRICS = tuple(reversed([m for m in AI_LEVEL_METRICS if m != ai_level_metric("none")]))
AI_METRICS = ("references_ai", *LEVEL_METRICS)
GROUP_NAMES = {"all": ("全部岗位", "All postings"), "new_economy": ("新经济岗位", "New-economy roles")}
LEVEL_NAMES = {"none": ("无", "none"), "incidental": ("仅简介", "blurb only"), "ai_tools": ("AI 工具", "AI tools"),
               "ai_skills": ("AI 技能", "AI skills")}
FIELD_NAMES = {"role_category": ("岗位类别", "role category"), "ai_level": ("AI 层级", "AI level"),
               "experience_bucket": ("经验", "experience")}


def t(lang: str, key: str) -> str:
    """The string ``key`` in ``lang`` (zh or en)."""
    zh, en = STRINGS[key]
    return zh if lang == "zh" else en


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


@lru_cache(maxsize=1)
def _taxonomy() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, ...]], tuple[str, ...]]:
    vocab = vocabulary()
    names = {code: (vocab.name(code, "zh"), vocab.name(code, "en")) for code in vocab.role_codes}
    return names, dict(vocab.groups), vocab.role_codes


def category_name(code: str, lang: str) -> str:
    """A role category's or group's name in ``lang``; the code itself only if the taxonomy lacks it."""
    if code in GROUP_NAMES:
        return pick(GROUP_NAMES[code], lang)
    names, _, _ = _taxonomy()
    return pick(names[code], lang) if code in names else code


def category_order() -> tuple[str, ...]:
    """Groups first, then role codes in taxonomy order."""
    return ("all", "new_economy", *_taxonomy()[2])


def group_members(code: str) -> list[str] | None:
    """The role codes a category stands for (None for ``all``: every role)."""
    if code == "all":
        return None
    groups = _taxonomy()[1]
    return list(groups[code]) if code in groups else [code]


def level_name(level: str, lang: str) -> str:
    return pick(LEVEL_NAMES[level], lang) if level in LEVEL_NAMES else level


def field_name(field: str, lang: str) -> str:
    return pick(FIELD_NAMES[field], lang) if field in FIELD_NAMES else field


def metric_name(metric: str, lang: str) -> str:
    key = f"m_{metric}"
    return t(lang, key) if key in STRINGS else metric


def dim_name(dim: str, lang: str) -> str:
    key = f"dim_{dim}"
    return t(lang, key) if key in STRINGS else dim


# Column ids of tables and downloads (stable, machine-friendly) and their labels on screen.
COLUMNS: dict[str, tuple[str, str]] = {
    "period": ("时期", "Period"), "month": ("月份", "Month"), "category": ("类别", "Category"),
    "code": ("代码", "Code"), "dim": ("维度", "Breakdown"), "dim_value": ("取值", "Value"),
    "n": ("n", "n"), "k": ("k", "k"), "n_prev_year": ("上年同期 n", "n a year earlier"),
    "index": ("指数", "Index"), "index_sa": ("季调指数（均值=100）", "SA index (mean = 100)"), "holiday_shift": ("节日移动", "Holiday shift"), "yoy_change": ("同比", "YoY"),
    "ci_low": ("95% 下限", "95% low"), "ci_high": ("95% 上限", "95% high"), "suppressed": ("小单元", "Small cell"),
    "metric": ("指标", "Metric"), "share": ("比例", "Share"), "within": ("类别内", "Within"),
    "between": ("结构", "Mix"), "country": ("国家/地区", "Country"), "n_postings": ("新岗位数", "New postings"),
    "yoy_ci_low": ("同比 95% 下限", "YoY 95% low"), "yoy_ci_high": ("同比 95% 上限", "YoY 95% high"),
    "ai_share": ("提及 AI 比例", "AI share"), "ai_n": ("AI 比例的 n", "n of AI share"),
    "ai_ci_low": ("AI 95% 下限", "AI 95% low"), "ai_ci_high": ("AI 95% 上限", "AI 95% high"),
    "ai_share_prev_year": ("上年同期 AI 比例", "AI share a year earlier"),
    "share_3plus": ("3 年以上比例", "3+ years share"), "n_stated": ("注明经验的 n", "n stating"),
    "ci_3plus_low": ("3 年以上 95% 下限", "3+ 95% low"), "ci_3plus_high": ("3 年以上 95% 上限", "3+ 95% high"),
    "unstated_share": ("未注明比例", "Unstated share"), "lang": ("语言", "Language"), "pages": ("页数", "Pages"),
    "sha256": ("sha256", "sha256"), "created_at": ("时间", "Created"), "source": ("来源", "Source"),
    "kind": ("类型", "Kind"), "postings": ("岗位数", "Postings"), "canonical": ("去重后", "Canonical"),
    "duplicates": ("重复", "Duplicates"), "duplicate_rate": ("重复率", "Duplicate rate"),
    "rejects": ("拒收", "Rejects"), "runs": ("运行次数", "Runs"), "run": ("运行", "Run"),
    "started_at": ("开始", "Started"), "finished_at": ("结束", "Finished"), "status": ("状态", "Status"),
    "items": ("条目", "Items"), "error": ("错误", "Error"), "model_version": ("模型版本", "Model version"),
    "months": ("月数", "Months"), "field": ("字段", "Field"), "right": ("正确", "Right"),
    "accuracy": ("准确率", "Accuracy"), "posting_id": ("岗位编号", "Posting id"), "title": ("职位", "Title"),
    "predicted": ("预测代码", "Predicted code"), "predicted_name": ("预测", "Predicted"), "true_value": ("真值", "True value"), "verdict": ("判定", "Verdict"),
    "origin": ("来源", "Origin"), "auditor": ("审核人", "Auditor"), "company": ("公司", "Company"),
    "city": ("城市", "City"), "url": ("链接", "URL"), "posted_at": ("发布日期", "Posted"),
    "role_category": ("岗位类别代码", "Role code"), "role_name": ("岗位类别", "Role category"),
    "role_confidence": ("置信度", "Confidence"), "ai_level": ("AI 层级", "AI level"),
    "ai_terms": ("匹配的 AI 词", "Matched AI terms"), "experience_bucket": ("经验", "Experience"),
    "requires_3plus_years": ("3 年以上", "3+ years"), "key": ("要点", "Finding"), "text": ("文字", "Text"),
}
PERCENT_COLUMNS = {"share", "ci_low", "ci_high", "yoy_change", "yoy_ci_low", "yoy_ci_high", "ai_share", "ai_ci_low",
                   "ai_ci_high", "ai_share_prev_year", "share_3plus", "ci_3plus_low", "ci_3plus_high",
                   "unstated_share", "duplicate_rate", "accuracy", "within", "between"}
BUCKETS = {"none": ("无要求", "none"), "lt1": ("1 年以下", "under 1 year"), "1_3": ("1–3 年", "1–3 years"),
           "3_5": ("3–5 年", "3–5 years"), "5_10": ("5–10 年", "5–10 years"), "10_plus": ("10 年以上", "10+ years"),
           "unstated": ("未注明", "unstated")}


def column_name(col: str, lang: str) -> str:
    return pick(COLUMNS[col], lang) if col in COLUMNS else col


def bucket_name(bucket: str, lang: str) -> str:
    return pick(BUCKETS[bucket], lang) if bucket in BUCKETS else bucket
