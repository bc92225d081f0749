"""Required experience from a board's structured field or from free text, in Chinese and English."""

from __future__ import annotations

import re
from dataclasses import dataclass

from labourwatch.contract import experience_bucket
from models.sections import split_sections
from models.text import clean_text


@dataclass(frozen=True)
class Experience:
    """Required years: ``min_years``/``max_years`` (None when unstated), the bucket and the 3+ flag."""

    min_years: float | None
    max_years: float | None
    bucket: str
    requires_3plus_years: bool | None
    source: str  # field | text | none
    evidence: str | None = None


UNSTATED = Experience(None, None, "unstated", None, "none")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a": 1, "an": 1}

_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十]{1,3}|半)"
_EN_NUM = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"

# Chinese: "3-5年", "三到五年", "3年以上", "3年及以上", "五年以上", "1年以下", "3年+", "不少于3年", "至少3年"
_ZH_RANGE = re.compile(rf"({_NUM})\s*(?:年)?\s*[-~～—–至到]\s*({_NUM})\s*年")
_ZH_MIN = re.compile(rf"(?:(?:不少于|至少|不低于|超过|大于|满)\s*)?({_NUM})\s*(?:个)?\s*年\s*(?:以上|及以上|或以上|\+|＋)?")
_ZH_BELOW = re.compile(rf"({_NUM})\s*年\s*(?:以下|以内|之内)")
# English: "3-5 years", "3 to 5 years", "3+ years", "at least five years", "minimum of 2 years"
_EN_RANGE = re.compile(rf"\b({_EN_NUM})\s*(?:-|–|—|to)\s*({_EN_NUM})\s*\+?\s*(?:years?|yrs?)\b", re.I)
_EN_MIN = re.compile(rf"\b({_EN_NUM})\s*(?:\+|plus)?\s*(?:years?|yrs?)\b", re.I)
_EN_BELOW = re.compile(r"\b(?:less than|under|below|up to)\s+(?:a|one|1)\s+years?\b", re.I)

_ZH_CONTEXT = re.compile(r"以下|以内|年限|经验|经历|工作|从业|年限|工龄|开发|相关|行业|领域|背景|以上|实践|资历")
_EN_CONTEXT = re.compile(r"experience|exp\b|years?'?\s+(?:in|as)\s|working|work|industry|background|track record|in (?:a|the) "
                         r"|commercial|professional|post-qualification|pqe", re.I)
# Numbers that are not requirements: company age, contracts, pay, warranties, history.
_NOT_REQUIREMENT = re.compile(r"成立|创立|创办|历史|深耕|专注|合同|协议|保修|年终|年薪|薪|奖金|年假|休假|工龄工资|"
                              r"founded|established|history|since|contract|warranty|salary|bonus|holiday|"
                              r"leave|anniversary|ago|old|age\b|aged|years? of age|fixed[- ]term|residen|lived in|assignment|duration|"
                              r"strategy|period|(?:last|past) (?:\d+|two|three|four|five|six|ten) years|gaps? in|in the market|in business|heritage|\bwe have|\bwe've|\bour (?:team|company|firm)|"
                              r"我们拥有|公司拥有|团队拥有", re.I)
# "21、22年毕业生", "22年应届": a graduation year, not a length of experience.
_GRADUATION = re.compile(r"\s*(?:应届|往届)?(?:毕业|届|级|入学)")
_GRADUATION_BEFORE = re.compile(r"\d{2}\s*[、,/和及与]\s*$")
# "5 years, or 3 with a master's": the second alternative often drops the word "years".
_EN_OR_BARE = re.compile(rf"\bor\s+({_EN_NUM})\s+(?:with|if|for|given)\b", re.I)
_ALTERNATIVE = re.compile(r"或者?|\bor\b|alternatively", re.I)
_ENTRY = re.compile(r"(?:20)?\d{2}\s*届|(?:20)?\d{2}\s*年(?:应届)?毕业|经验不限|不限经验|经验无要求|无经验要求|无工作经验要求|无经验|无需经验|不需要经验|零基础|应届|在校|实习|校招|校园招聘|管培生|管理培训生|毕业生|"
                    r"届毕业|no (?:prior |previous )?experience (?:is )?(?:required|needed|necessary)|"
                    r"entry[- ]level|\bgraduate (?:scheme|programme|program|role|position)|"
                    r"\bgraduates?\b(?!\s+(?:degree|diploma|certificate|qualification|level|studies))|"
                    r"internship|\bintern\b|apprentice(?:ship)?|no experience", re.I)
_FIELD_ENTRY = re.compile(r"^\s*(?:经验)?\s*(?:(?:20)?\d{2}\s*届(?:毕业生|应届生)?|不限|无经验|无要求|应届毕业生|应届生?|在校生?|在校/应届|学生|实习生?|"
                          r"none|no experience|entry[- ]level|graduate|intern(?:ship)?|not required|any)\s*$", re.I)
# Sentences end at 。；! ? and newlines; numbered list items ("1、", "2.", "3)") start new ones, also when
# glued to the previous text ("任职要求：1、3年以上…", "学历；2.2年以上…" is item 2, "2年以上").
_SENTENCE_SPLIT = re.compile(r"[。；;！!？?\n•·]|(?<=[A-Za-z0-9)])\.\s+|(?:^|(?<=[\s：:；;。，,、）)]))[1-9]\d?\s*[、.．)）](?!\d+\s*[-~～至到]|5\s*年)(?=\S)")


def bucket_for(min_years: float | None, max_years: float | None) -> str:
    """The experience bucket for a (min, max) requirement; see taxonomy.md section 2."""
    return experience_bucket(min_years, max_years)


def _make(min_years: float | None, max_years: float | None, source: str, evidence: str | None) -> Experience:
    if min_years is None:
        return UNSTATED
    return Experience(min_years, max_years, bucket_for(min_years, max_years), min_years >= 3, source, evidence)


def _num(token: str) -> float | None:
    token = token.strip().lower()
    if not token:
        return None
    if token == "半":
        return 0.5
    if token in _EN_NUMBERS:
        return float(_EN_NUMBERS[token])
    try:
        return float(token)
    except ValueError:
        pass
    if "十" in token:  # 十, 十五, 二十
        head, _, tail = token.partition("十")
        tens = _CN_DIGITS.get(head, 1) if head else 1
        ones = _CN_DIGITS.get(tail, 0) if tail else 0
        return float(tens * 10 + ones)
    if len(token) == 1 and token in _CN_DIGITS:
        return float(_CN_DIGITS[token])
    return None


def _figures(clause: str, need_context: bool, need_keyword: bool | None = None) -> list[tuple[float, float | None, str]]:
    """(min, max, evidence) year figures stated in one clause."""
    out: list[tuple[float, float | None, str]] = []
    taken: list[tuple[int, int]] = []

    def free(m: re.Match[str]) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    for rx, kind in ((_EN_BELOW, "below_en"), (_ZH_BELOW, "below"), (_ZH_RANGE, "range"), (_EN_RANGE, "range"),
                     (_ZH_MIN, "min"), (_EN_MIN, "min")):
        for m in rx.finditer(clause):
            if not free(m):
                continue
            if _GRADUATION.match(clause, m.end()) or _GRADUATION_BEFORE.search(clause[max(0, m.start() - 4) : m.start()]):
                taken.append((m.start(), m.end()))
                continue
            # Non-requirements sit right next to the number: "成立20年", "签订2年合同", "over 20 years ago".
            if need_context and _NOT_REQUIREMENT.search(clause[max(0, m.start() - 16) : m.end() + 14]):
                taken.append((m.start(), m.end()))
                continue
            if need_context if need_keyword is None else need_keyword:
                ctx = _ZH_CONTEXT if rx in (_ZH_BELOW, _ZH_RANGE, _ZH_MIN) else _EN_CONTEXT
                if not ctx.search(clause):
                    continue
            if kind == "below_en":
                lo, hi = 0.0, 1.0
            elif kind == "below":
                n = _num(m.group(1))
                if n is None:
                    continue
                lo, hi = 0.0, n
            elif kind == "range":
                a, b = _num(m.group(1)), _num(m.group(2))
                if a is None or b is None or b < a or b > 40:
                    continue
                lo, hi = a, b
            else:
                n = _num(m.group(1))
                if n is None or n > 40:
                    continue
                lo, hi = n, None
            taken.append((m.start(), m.end()))
            out.append((lo, hi if kind != "min" else None, m.group(0).strip()))
    return out


def parse_field(text: str | None) -> Experience | None:
    """A board's structured experience field ("3-5年", "不限", "1年以下", "5+ years"); None if unreadable."""
    if text is None or not str(text).strip():
        return None
    t = clean_text(str(text)).strip()
    if _FIELD_ENTRY.match(t):
        return Experience(0.0, None, "none", False, "field", t)
    figs = _figures(t, need_context=False)
    if figs:
        lo, hi, ev = max(figs, key=lambda f: f[0])
        return _make(lo, hi, "field", ev)
    if _ENTRY.search(t):
        return Experience(0.0, None, "none", False, "field", t)
    return None


def parse_text(text: str | None) -> Experience:
    """Required experience stated in free text (title and description), ignoring company and benefit sections.

    Several figures for different skills → the strictest; alternatives ("或", "or") → the smallest;
    preferred years still count; entry-level wording without years → 0; nothing found → unstated.
    """
    text = clean_text(text)
    if not text:
        return UNSTATED
    best: tuple[float, float | None, str] | None = None
    entry: str | None = None
    for section in split_sections(text):
        if not section.is_job:
            continue
        for sentence in _SENTENCE_SPLIT.split(section.text):
            if not sentence.strip():
                continue
            alternatives = bool(_ALTERNATIVE.search(sentence))
            figs: list[tuple[float, float | None, str]] = []
            for clause in re.split(r"[，,]", sentence) if not alternatives else [sentence]:
                figs.extend(_figures(clause, need_context=True,
                                     need_keyword=section.kind != "requirements"))
            m_entry = _ENTRY.search(sentence)
            if alternatives and figs:
                for m_or in _EN_OR_BARE.finditer(sentence):
                    n = _num(m_or.group(1))
                    if n is not None:
                        figs.append((n, None, m_or.group(0)))
                if m_entry:
                    figs.append((0.0, None, m_entry.group(0)))
                figs = [min(figs, key=lambda f: f[0])]
            for f in figs:
                if best is None or f[0] > best[0]:
                    best = f
            if m_entry and entry is None:
                entry = m_entry.group(0)
    if best is not None:
        return _make(best[0], best[1], "text", best[2])
    if entry is not None:
        return Experience(0.0, None, "none", False, "text", entry)
    return UNSTATED


def extract_experience(experience_field: str | None, title: str | None = None,
                       description: str | None = None) -> Experience:
    """The required experience of a posting: the board's field wins; else the title and description text."""
    from_field = parse_field(experience_field)
    if from_field is not None:
        return from_field
    from_desc = parse_text(description)
    if from_desc.source != "none":
        return from_desc
    if title:  # titles carry "实习", "应届", "Graduate", "3-5年" too
        return parse_text(title)
    return UNSTATED
