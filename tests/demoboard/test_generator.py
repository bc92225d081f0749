"""The generator: determinism, identity of reposts, built-in trends, label consistency, realism and traps."""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from demoboard.generator import (
    MONTHS,
    SPRING_FESTIVAL,
    DemoDataset,
    bucket_of,
    generate,
    iter_postings,
)
from demoboard.texts import ROLE_CODES, vocabulary
from labourwatch.contract import EXPERIENCE_BUCKETS

# Words that mean AI. "AI" alone is matched as a token, so AIRO / AIKA / MAIL do not count.
AI_TERMS = re.compile(r"(?<![A-Za-z])AI(?![A-Za-z])|人工智能|大模型|AIGC|机器学习|深度学习|ChatGPT|Copilot|Cursor|"
                      r"Midjourney|Stable Diffusion|DeepSeek|LLM|machine learning|language model|"
                      r"PyTorch|TensorFlow|(?<![A-Za-z])RAG(?![A-Za-z])|Agent开发|协同过滤|决策树|聚类|神经网络|Firefly|即梦|可灵|通义|豆包")
# Illustrator spelled "AI" in design tool lists: not a reference to artificial intelligence.
ILLUSTRATOR = ("PS、AI、CDR", "Illustrator (AI)")


def ai_terms(text: str) -> list[str]:
    for trap in ILLUSTRATOR:
        text = text.replace(trap, "")
    return AI_TERMS.findall(text)


def counted(ds: DemoDataset) -> list:
    return [p for p in ds.postings if p.counts]


# ---- determinism and size ---------------------------------------------------------------------------------


def test_same_seed_same_board_and_streaming_equals_list(small_dataset: DemoDataset) -> None:
    again = generate(1500, 7)
    assert again.postings == small_dataset.postings
    assert list(iter_postings(1500, 7)) == small_dataset.postings


def test_different_seed_different_board(small_dataset: DemoDataset) -> None:
    other = generate(1500, 8)
    assert len(other.postings) == len(small_dataset.postings) == 1500
    assert [p.description for p in other.postings] != [p.description for p in small_dataset.postings]
    assert [p.title for p in other.postings[:50]] != [p.title for p in small_dataset.postings[:50]]


@pytest.mark.parametrize("n", [1, 37, 999])
def test_exact_size_for_any_n(n: int) -> None:
    assert len(generate(n, 3).postings) == n


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_bad_size_is_rejected_with_its_value(bad: object) -> None:
    with pytest.raises(ValueError, match="n_postings"):
        generate(bad)  # type: ignore[arg-type]


@pytest.mark.slow
def test_streaming_a_million_starts_at_once() -> None:
    t0 = time.perf_counter()
    first = list(itertools.islice(iter_postings(1_000_000, 1), 200))
    assert len(first) == 200
    assert time.perf_counter() - t0 < 20  # one month is generated, not the whole million
    assert all(p.posted_at.strftime("%Y-%m") == "2024-01" for p in first)


# ---- identity: styles, ids, reposts, malformed pages -----------------------------------------------------


def test_ids_styles_languages(default_dataset: DemoDataset) -> None:
    ps = default_dataset.postings
    for style in ("html", "api"):
        ids = [p.external_id for p in ps if p.style == style]
        assert len(ids) == len(set(ids)), f"external_id repeats within {style}"
    assert {p.lang for p in ps if p.style == "api"} == {"zh"}
    zh_share = sum(p.lang == "zh" for p in ps) / len(ps)
    assert 0.77 <= zh_share <= 0.83
    assert {p.month for p in ps} == set(MONTHS)
    assert min(p.posted_at for p in ps) >= date(2024, 1, 1) and max(p.posted_at for p in ps) <= date(2026, 6, 30)
    assert [p.posted_at for p in ps] == sorted(p.posted_at for p in ps)  # chronological


def test_reposts_share_the_job_id_of_an_earlier_canonical(default_dataset: DemoDataset) -> None:
    by_job = defaultdict(list)
    for p in default_dataset.postings:
        by_job[p.job_id].append(p)
    dup_share = sum(p.is_duplicate for p in default_dataset.postings) / len(default_dataset.postings)
    assert 0.03 <= dup_share <= 0.05
    cross = same = 0
    for job, group in by_job.items():
        canon = [p for p in group if not p.is_duplicate]
        assert len(canon) == 1, f"job {job} has {len(canon)} canonical postings"
        for d in (p for p in group if p.is_duplicate):
            assert d.posted_at > canon[0].posted_at, f"repost of {job} is not later than its canonical"
            assert (d.title, d.company, d.city, d.description) == (canon[0].title, canon[0].company,
                                                                    canon[0].city, canon[0].description)
            assert (d.role_category, d.experience_min_years, d.ai_level) == (
                canon[0].role_category, canon[0].experience_min_years, canon[0].ai_level)
            cross += d.style != canon[0].style
            same += d.style == canon[0].style
    assert cross > 50 and same > 50


def test_malformed_pages_are_rare_and_not_counted(default_dataset: DemoDataset) -> None:
    bad = [p for p in default_dataset.postings if p.malformed]
    assert 0.003 <= len(bad) / len(default_dataset.postings) <= 0.007
    assert {p.style for p in bad} == {"html", "api"}
    assert not any(p.is_duplicate for p in bad)
    assert not any(p.counts for p in bad)


# ---- built-in trends (canonical, well-formed postings) ---------------------------------------------------


def test_year_on_year_declines_and_ai_ml_rise(default_dataset: DemoDataset) -> None:
    n = Counter((p.month, p.role_category) for p in counted(default_dataset))
    for code, target, tol in (("software_dev", -0.25, 0.02), ("design_basic", -0.50, 0.03),
                              ("supply_chain_repetitive", -0.45, 0.03)):
        before, after = n[("2025-03", code)], n[("2026-03", code)]
        assert after / before - 1 == pytest.approx(target, abs=tol), (code, before, after)
    assert n[("2025-03", "software_dev")] >= 120 and n[("2026-03", "software_dev")] >= 120
    assert n[("2026-03", "ai_ml")] >= 1.5 * n[("2025-03", "ai_ml")]
    ai_2024 = sum(n[(m, "ai_ml")] for m in MONTHS[:12])
    ai_2025 = sum(n[(m, "ai_ml")] for m in MONTHS[12:24])
    assert ai_2025 > 1.3 * ai_2024


def test_every_role_code_appears(default_dataset: DemoDataset) -> None:
    per_code = Counter(p.role_category for p in counted(default_dataset))
    assert set(per_code) == set(ROLE_CODES)
    assert min(per_code.values()) >= 100


def test_ai_share_rises_from_22_to_34_percent(default_dataset: DemoDataset) -> None:
    rows = counted(default_dataset)
    for year, target in (("2025", 0.22), ("2026", 0.34)):
        ps = [p for p in rows if p.month.startswith(year)]
        share = sum(p.references_ai for p in ps) / len(ps)
        assert share == pytest.approx(target, abs=0.015), year
    levels = Counter(p.ai_level for p in rows)
    assert all(levels[x] > 500 for x in ("incidental", "ai_tools", "ai_skills"))


def test_three_plus_years_in_the_newest_months(default_dataset: DemoDataset) -> None:
    newest = [p for p in counted(default_dataset) if p.month in MONTHS[-3:] and p.requires_3plus_years is not None]
    assert sum(p.requires_3plus_years for p in newest) / len(newest) == pytest.approx(0.73, abs=0.02)
    oldest = [p for p in counted(default_dataset) if p.month in MONTHS[:3] and p.requires_3plus_years is not None]
    assert sum(p.requires_3plus_years for p in oldest) / len(oldest) < 0.62


def test_spring_festival_dip_every_year(default_dataset: DemoDataset) -> None:
    per_day = Counter(p.posted_at for p in counted(default_dataset))
    for year, fest in SPRING_FESTIVAL.items():
        days_in_year = [d for d in per_day if d.year == year]
        avg = sum(per_day[d] for d in days_in_year) / (366 if year == 2024 else 365 if year == 2025 else 181)
        holiday = [fest + timedelta(days=k) for k in range(-2, 7)]
        assert sum(per_day[d] for d in holiday) / len(holiday) < 0.3 * avg, year
    month_total = Counter(p.month for p in counted(default_dataset))
    for fest_month in ("2024-02", "2025-01", "2026-02"):
        assert month_total[fest_month] < 0.8 * month_total[fest_month[:5] + "03"]


# ---- labels agree with the taxonomy and with the text ----------------------------------------------------


def test_labels_are_consistent(default_dataset: DemoDataset) -> None:
    for p in default_dataset.postings:
        assert p.role_category in ROLE_CODES
        assert p.experience_bucket in EXPERIENCE_BUCKETS
        assert p.experience_bucket == bucket_of(p.experience_min_years, p.experience_max_years)
        assert p.requires_3plus_years == (None if p.experience_min_years is None else p.experience_min_years >= 3)
        if p.experience_max_years is not None:
            assert p.experience_max_years > p.experience_min_years
        assert p.ai_level in ("none", "incidental", "ai_tools", "ai_skills")
        if p.role_category == "ai_ml":
            assert p.ai_level == "ai_skills"


_ZH_DIGITS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 8: "八", 10: "十"}
_EN_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight", 10: "ten"}
_ENTRY = ("不限", "应届", "无经验", "无需经验", "有无经验", "在校", "Entry", "entry", "No experience",
          "No previous experience", "graduates")


def test_experience_is_derivable_from_the_page(default_dataset: DemoDataset) -> None:
    for p in default_dataset.postings:
        if p.style == "api" and p.experience_min_years is not None:
            assert p.experience_text, f"api posting {p.external_id} states experience without the field"
        source = p.experience_text or p.description
        lo = p.experience_min_years
        if lo is None:
            assert p.experience_text is None
            # "founded 15 years ago" is about the company, not a requirement.
            assert not re.search(r"\d+\s*(年以上|年及以上|-\d+年)|\d+\+? years(?! ago)", p.description), p.external_id
        elif lo == 0 and p.experience_max_years is None:
            assert any(w in source for w in _ENTRY), (p.external_id, source)
        elif lo == 0:
            assert "1年以下" in source or "1 year" in source or "a year" in source, (p.external_id, source)
        else:
            assert str(lo) in source or _ZH_DIGITS[lo] in source or _EN_WORDS[lo] in source, (p.external_id, lo)


def test_ai_levels_follow_the_text(default_dataset: DemoDataset) -> None:
    cats = vocabulary().categories
    for p in default_dataset.postings:
        text = p.title + "\n" + p.description
        found = ai_terms(text)
        tools = cats[p.role_category].ai_tools_zh + cats[p.role_category].ai_tools_en
        skills = cats[p.role_category].ai_skills_zh + cats[p.role_category].ai_skills_en
        if p.ai_level == "none":
            assert not found, (p.external_id, found)
        elif p.ai_level == "incidental":
            assert found, p.external_id
            assert not any(line in text for line in tools + skills), p.external_id
        elif p.ai_level == "ai_tools":
            assert any(line in text for line in tools), p.external_id
            assert not any(line in text for line in skills), p.external_id
        elif p.role_category != "ai_ml":
            assert any(line in text for line in skills), p.external_id


def test_traps_are_present(default_dataset: DemoDataset) -> None:
    ps = default_dataset.postings
    none_design = [p for p in ps if p.role_category == "design_basic" and p.ai_level == "none"]
    assert sum("PS、AI、CDR" in p.description for p in none_design) > 100
    assert sum("Illustrator (AI)" in p.description for p in none_design) > 20
    blurb_only = [p for p in ps if p.ai_level == "incidental" and p.lang == "zh"
                  and ai_terms(p.description.split("公司介绍：")[-1])
                  and not ai_terms(p.description.split("公司介绍：")[0])]
    assert len(blurb_only) > 200
    assert sum("人工智能等相关专业优先" in p.description or "人工智能、统计学" in p.description for p in ps) > 20
    assert sum("AI视频面试" in p.description for p in ps) > 10
    unstated = [p for p in ps if p.experience_bucket == "unstated"]
    for trap in ("五险一金", "13薪", "成立于", "2年劳动合同"):
        assert sum(trap in p.description or trap in (p.salary_text or "") for p in unstated) > 5, trap
    assert sum(p.title.startswith(("高级", "资深", "Senior")) for p in unstated) > 30
    assert sum("年以上行业经验，" in p.description for p in ps) > 10  # strictest of several figures
    assert sum("或硕士学历" in p.description for p in ps) > 10  # smallest of alternatives
    assert sum(p.company.startswith(("AIRO", "深圳市AIKA", "AIM Freight")) for p in ps if p.ai_level == "none") > 0


# ---- realism ---------------------------------------------------------------------------------------------


def test_text_shapes(default_dataset: DemoDataset) -> None:
    for p in default_dataset.postings:
        if p.lang == "zh":
            assert 200 <= len(p.description) <= 600, (p.external_id, len(p.description))
            assert re.search(r"(岗位职责|工作职责|职位描述)：", p.description)
            assert re.search(r"(任职要求|任职资格|岗位要求)：", p.description)
            assert "公司介绍：" in p.description and re.search(r"福利(待遇)?：", p.description)
        else:
            for head in ("Requirements", "Benefits", "About us"):
                assert f"\n{head}\n" in f"\n{p.description}\n", (p.external_id, head)
            assert "Responsibilities" in p.description or "What you'll do" in p.description


def test_titles_and_salaries_vary_like_real_boards(default_dataset: DemoDataset) -> None:
    titles = defaultdict(set)
    for p in default_dataset.postings:
        titles[(p.role_category, p.lang)].add(p.title)
    for code in ROLE_CODES:
        assert len(titles[(code, "zh")]) >= 5, code
        assert len(titles[(code, "en")]) >= 2, code
    all_titles = {p.title for p in default_dataset.postings}
    for t in ("Java开发工程师", "高级后端工程师（Go）", "平面设计/美工", "仓库管理员", "分拣员", "快递员",
              "大模型应用开发工程师", "销售顾问", "客服专员"):
        assert t in all_titles, t
    salaries = [p.salary_text or "" for p in default_dataset.postings]
    for pattern in (r"^\d+-\d+K·1[3-6]薪$", r"^\d+千-[\d.]+万/月$", r"^面议$", r"^£\d{2},\d{3} - £\d{2},\d{3}",
                    r"元/天$", r"^\d+k-\d+k$", r"^[\d.]+-[\d.]+万"):
        assert any(re.search(pattern, s) for s in salaries), pattern
    for p in default_dataset.postings:
        if p.salary_min is not None and p.salary_max is not None:
            assert p.salary_min <= p.salary_max


def test_ai_share_path_can_follow_the_new_economy_group() -> None:
    from demoboard.texts import NEW_ECONOMY

    ds = generate(ai_share_group="new_economy")
    rows = [p for p in counted(ds) if p.role_category in NEW_ECONOMY]
    for year, target in (("2025", 0.22), ("2026", 0.34)):
        ps = [p for p in rows if p.month.startswith(year)]
        assert sum(p.references_ai for p in ps) / len(ps) == pytest.approx(target, abs=0.015), year
    with pytest.raises(ValueError, match="ai_share_group"):
        generate(10, ai_share_group="tech")
