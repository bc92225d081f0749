"""Split a job description into sections (company blurb, benefits, duties, requirements) by their headings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Section kinds: "company" and "benefits" are not the job; "duties", "requirements" and "body" (text before
# any heading) are.
_HEADINGS: dict[str, tuple[str, ...]] = {
    "company": ("公司介绍", "公司简介", "企业介绍", "关于我们", "公司概况", "团队介绍", "About us", "About the company",
                "About the Company", "Who we are", "Who We Are", "Our company", "About Us", "Company overview",
                "Company Description", "About the organisation", "About the organization"),
    "benefits": ("福利待遇", "薪资福利", "公司福利", "职位福利", "福利", "我们能给你", "我们提供", "我们为你提供", "你将获得",
                 "待遇", "Benefits", "What we offer", "What We Offer", "Perks", "What's in it for you",
                 "Why join us", "Why Join Us"),
    "duties": ("岗位职责", "工作职责", "职位描述", "岗位描述", "工作内容", "职责描述", "职位职责", "你将负责", "你的职责",
               "Responsibilities", "Key Responsibilities", "Key responsibilities", "What you'll do", "What you will do",
               "The role", "The Role", "Duties", "Job description", "Job Description", "Your role", "Your Role"),
    "requirements": ("任职要求", "任职资格", "岗位要求", "职位要求", "任职条件", "我们希望你", "加分项", "技能要求",
                     "Requirements", "Qualifications", "What you'll need", "What you will need", "About you",
                     "About You", "Skills and experience", "Essential", "Desirable", "Nice to have",
                     "What we're looking for", "What we are looking for", "Who you are"),
}
_KIND_OF = {h.lower(): kind for kind, heads in _HEADINGS.items() for h in heads}
# Chinese headings are often glued to the previous sentence ("…的开发任职要求：1、…"), English ones start a line
# or follow punctuation, or are glued to a lower-case word and followed by a colon.
_ZH_HEADS = "|".join(re.escape(h) for h in sorted(_KIND_OF, key=len, reverse=True) if not h.isascii())
_EN_HEADS = "|".join(re.escape(h) for h in sorted(_KIND_OF, key=len, reverse=True) if h.isascii())
_HEADING_RE = re.compile(
    r"[【\[#*]*\s*(?:(" + _ZH_HEADS + r")|(?:^|(?<=[\n。；;！!】\]\s\d、.:：]))(" + _EN_HEADS + r")"
    # a heading glued to the previous sentence when a board dropped the line break: "…skillsDesirable: Python"
    r"|(?<=[a-z)])(?-i:(?=[A-Z]))(" + _EN_HEADS + r")(?=\s*[:：]))"
    r"\s*[】\]*]*\s*(?:[:：]|\n|$|(?<=[\u4e00-\u9fff]{4})(?=[\u4e00-\u9fff\d])|\s+(?-i:(?=[A-Z])))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Section:
    """A stretch of description text and what kind of section it sits in."""

    kind: str  # body | company | benefits | duties | requirements
    text: str

    @property
    def is_job(self) -> bool:
        """True when the section describes the job itself (duties, requirements, or unheaded text)."""
        return self.kind in ("body", "duties", "requirements")


_BLANK_LINE = re.compile(r"\n\s*\n")
_MAX_BLURB = 800  # a company/benefits section with no next heading ends at a blank line, or after this


def _append(out: list[Section], kind: str, chunk: str) -> None:
    if not chunk.strip():
        return
    if kind in ("company", "benefits"):
        # Without a next heading a blurb would swallow the duties that follow it: cut it short.
        m = _BLANK_LINE.search(chunk, 10)
        cut = m.start() if m else (_MAX_BLURB if len(chunk) > _MAX_BLURB else len(chunk))
        if cut < len(chunk):
            out.append(Section(kind, chunk[:cut]))
            if chunk[cut:].strip():
                out.append(Section("body", chunk[cut:]))
            return
    out.append(Section(kind, chunk))


def split_sections(text: str | None) -> list[Section]:
    """Sections of ``text`` in order; text before the first heading is ``body``."""
    if not text:
        return []
    return list(_split(text))


@lru_cache(maxsize=4096)  # the role features, experience and AI rules each read a batch's descriptions
def _split(text: str) -> tuple[Section, ...]:
    out: list[Section] = []
    kind, start = "body", 0
    for m in _HEADING_RE.finditer(text):
        _append(out, kind, text[start : m.start()])
        kind, start = _KIND_OF[(m.group(1) or m.group(2) or m.group(3)).lower()], m.end()
    _append(out, kind, text[start:])
    return tuple(out)
