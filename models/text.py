"""Text hygiene before rules read a posting: HTML, Markdown, full-width characters, bullets and glued headings."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG_BREAK = re.compile(r"<\s*(?:br|/p|p|/li|li|/div|div|/h\d|h\d|/tr|tr|/ul|ul|/ol|ol)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]{0,200}>")
# Markdown: backslash escapes (2\+ years), emphasis (**3+ years'**, __x__, *x*), headings, inline code.
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~>])")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~|`)")
_MD_STAR = re.compile(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\([^)\s]{1,500}\)")
# Bullet glyphs and circled numbers start a new item: a sentence boundary for the rules.
_BULLETS = re.compile(r"[•·▪▫●○◆◇■□★☆✓✔✗➢➤►▶❖※◎⚫⬤\u2022\u2023\u2043\u2219]|[\u2460-\u2473\u2776-\u277f\u3251-\u325f]")
_LINE_BULLET = re.compile(r"^\s*[-*+]\s+", re.M)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "\u200b": "", "\ufeff": ""})
# Headings glued to the next sentence when a page's markup is stripped ("RequirementsAt least 5 years",
# "Experience8+ years", "What we look for5+ years"): a colon after a heading word that runs into a capital or a
# number. Only heading endings: splitting every camel-case word would cut "5 years of SharePoint experience".
_GLUED = re.compile(r"\b([A-Za-z]*(?:ments|tions|ience|kills|ities|efits|ntial|rable|uired|erred)|About|Role|for|have)"
                    r"(?=[A-Z0-9])")


def clean_text(text: str | None) -> str:
    """``text`` as plain text: HTML tags and entities resolved, Markdown escapes and emphasis removed,
    full-width letters and digits made half-width (NFKC), bullets and glued headings turned into line breaks.
    Returns "" for None."""
    if not text:
        return ""
    t = str(text)
    if "&" in t:
        t = html.unescape(html.unescape(t))  # double-escaped entities (&amp;nbsp;) are common in feeds
    if "<" in t:
        t = _TAG_BREAK.sub("\n", t)
        t = _TAG.sub(" ", t)
    t = t.translate(_QUOTES)
    t = _BULLETS.sub("\n", t)
    t = unicodedata.normalize("NFKC", t)
    t = _MD_LINK.sub(r"\1", t)
    t = _MD_ESCAPE.sub(r"\1", t)
    t = _MD_EMPHASIS.sub("", t)
    t = _MD_STAR.sub("", t)
    t = _MD_HEADING.sub("", t)
    t = _LINE_BULLET.sub("\n", t)
    t = _GLUED.sub(r"\1: ", t)
    return t
