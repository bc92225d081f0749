"""Pure normalisers for scraped fields: HTML to text, dates, salaries and cities (Chinese and English)."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

# ---------------------------------------------------------------------------------------------
# HTML to text
# ---------------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "ul", "ol", "table", "tr",
    "blockquote", "pre", "dl", "dt", "dd", "form", "fieldset", "figure", "hr", "address",
}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROP_TAGS = {"script", "style", "noscript", "template", "head", "iframe", "svg"}
_TAG_RE = re.compile(r"<[a-zA-Z/!][^>]*>")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u3000\u200b]+")


def html_to_text(value: str | None) -> str | None:
    """Clean text from an HTML fragment, keeping paragraph, heading and list breaks.

    Paragraphs and headings are separated by a blank line, list items become ``- item`` lines, ``<br>``
    becomes a line break; entities are decoded and runs of spaces collapsed. Plain text passes through
    with only whitespace tidied. Returns None for empty input.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    # HTML escaped once more (Greenhouse's ``content``): decode before parsing.
    if "<" not in text and re.search(r"&lt;[a-zA-Z/]", text):
        text = html_lib.unescape(text)
    if not _TAG_RE.search(text):
        return _tidy(html_lib.unescape(text)) or None
    parts = _fragment_parts(text)
    if parts is None:
        try:
            root = lxml.html.fragment_fromstring(text, create_parent="div")
        except (etree.ParserError, ValueError):
            return _tidy(_TAG_RE.sub(" ", html_lib.unescape(text))) or None
        parts = []
        _walk(root, parts)
    return _tidy("".join(parts)) or None


_PLAIN_HTML = etree.HTMLParser()  # plain elements: no per-element class lookup as lxml.html's parser does
_FULL_DOCUMENT = re.compile(r"\s*<(?:html|!doctype)", re.I)


def _fragment_parts(text: str) -> list[str] | None:
    """The text pieces ``_walk`` gives for ``lxml.html.fragment_fromstring(text, create_parent="div")``,
    parsed with the plain parser (a quarter cheaper); None for what only lxml.html should handle."""
    if _FULL_DOCUMENT.match(text):
        return None
    try:
        doc = etree.fromstring(f"<html><body>{text}</body></html>", _PLAIN_HTML)
    except (etree.LxmlError, ValueError):
        return None
    body = doc.find("body") if doc is not None else None
    if body is None:
        return None
    parts = ["\n"]  # the <div> parent: a block
    if body.text and body.text.strip():
        parts.append(body.text)
    for child in body:
        _walk(child, parts)
    parts.append("\n")
    return parts


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in _DROP_TAGS or not isinstance(el.tag, str):
        if el.tail:
            out.append(el.tail)
        return
    if tag == "br":
        out.append("\n")
    elif tag in _HEADING_TAGS:
        out.append("\n\n")
    elif tag == "li":
        out.append("\n- ")
    elif tag in ("td", "th"):
        out.append(" ")
    elif tag in _BLOCK_TAGS:
        out.append("\n\n" if tag in ("p", "section", "article", "ul", "ol", "table", "blockquote", "pre") else "\n")
    if el.text:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    if tag in _HEADING_TAGS or tag in ("p", "section", "article", "ul", "ol", "table", "blockquote", "pre"):
        out.append("\n\n")
    elif tag in _BLOCK_TAGS:
        out.append("\n")
    if el.tail:
        out.append(el.tail)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out).strip()


def clean_inline(value: object) -> str | None:
    """A one-line field (title, company): tags removed, entities decoded, whitespace collapsed."""
    if value is None:
        return None
    text = html_lib.unescape(_TAG_RE.sub(" ", str(value)))
    text = _SPACES.sub(" ", text.replace("\n", " ").replace("\r", " ")).strip()
    return text or None


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "半": 0.5}
_REL_UNITS = {
    "分钟": "minutes", "小时": "hours", "天": "days", "日": "days", "周": "weeks", "星期": "weeks", "个月": "months",
    "月": "months", "年": "years",
    "minute": "minutes", "min": "minutes", "hour": "hours", "hr": "hours", "day": "days", "week": "weeks",
    "month": "months", "year": "years",
}
_REL_CN = re.compile(r"^(\d+|[一二两三四五六七八九十半]+)\s*\+?\s*(分钟|小时|天|日|周|星期|个月|月|年)(?:以)?前$")
_REL_EN = re.compile(r"^(\d+|an?|one)\+?\s*(minute|min|hour|hr|day|week|month|year)s?\s+ago$", re.I)
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:$|[T\s])")
_MD = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")  # 20260312 or 20260312101500 (Liepin)


def _cn_number(text: str) -> float:
    if text.isdigit():
        return float(text)
    if text in _CN_DIGITS:
        return float(_CN_DIGITS[text])
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    raise ValueError(text)


def today_in(tz: str = "Asia/Shanghai") -> date:
    """Today's date in ``tz`` (the date relative expressions such as 昨天 count from)."""
    return datetime.now(ZoneInfo(tz)).date()


def parse_date(value: object, *, today: date | None = None, tz: str = "Asia/Shanghai") -> date | None:
    """A calendar date from the many ways boards write one, or None when it cannot be read.

    Handles ISO dates and datetimes (``2026-03-12T10:22:01+08:00``; the date as written is kept),
    ``2026-03-12``, ``2026/3/12``, ``2026年3月12日``, ``20260312``, month-day without a year (``03-12``,
    ``3月12日``: the latest such date not after ``today``), relative words (今天, 昨天, 前天, 刚刚,
    ``3天前``, ``2小时前``, ``today``, ``yesterday``, ``2 days ago``, ``30+ days ago``), English and RFC 2822
    dates (``March 12, 2026``, ``Thu, 12 Mar 2026 10:22:01 GMT``) and Unix epochs (seconds or ms).
    ``today`` defaults to the current date in ``tz``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    ref = today or today_in(tz)
    low = text.lower()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    if m := _COMPACT.match(text):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _YMD.match(text):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _MD.match(text):
        month, day = int(m[1]), int(m[2])
        d = _safe_date(ref.year, month, day)
        if d is not None and d > ref:
            d = _safe_date(ref.year - 1, month, day)
        return d
    if low in ("今天", "今日", "刚刚", "刚才", "today", "just now", "just posted", "now") or low.endswith("刚刚发布"):
        return ref
    if low in ("昨天", "昨日", "yesterday"):
        return ref - timedelta(days=1)
    if low in ("前天",):
        return ref - timedelta(days=2)
    rel = _REL_CN.match(low.replace("发布", "").strip()) or _REL_EN.match(low.replace("posted", "").strip())
    if rel:
        raw_n, unit = rel[1], _REL_UNITS[rel[2].lower()]
        if raw_n.lower() in ("a", "an", "one"):
            n = 1.0
        else:
            try:
                n = _cn_number(raw_n)
            except (ValueError, KeyError):
                return None
        if unit in ("minutes", "hours"):
            return ref  # within the day at the board's resolution
        days = {"days": 1, "weeks": 7, "months": 30, "years": 365}[unit] * n
        return ref - timedelta(days=int(days))
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        from dateutil import parser as du_parser

        return du_parser.parse(text, default=datetime(ref.year, 1, 1)).date()
    except (ValueError, OverflowError, TypeError):
        return None


def parse_datetime(value: object, *, tz: str = "Asia/Shanghai") -> datetime | None:
    """An aware datetime (naive values are read in ``tz``), for comparing a board's lastmod/updateTime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) or re.fullmatch(r"\d{9,13}(\.\d+)?", str(value).strip()):
        v = float(value)  # type: ignore[arg-type]
        return datetime.fromtimestamp(v / 1000 if v > 1e11 else v, tz=UTC)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                d = parse_date(text, tz=tz)
                if d is None:
                    return None
                dt = datetime(d.year, d.month, d.day)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt


def _from_epoch(v: float) -> date | None:
    try:
        return datetime.fromtimestamp(v / 1000 if v > 1e11 else v, tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        return None


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Salaries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Salary:
    """A salary range in whole currency units per ``period`` (hour|day|week|month|year)."""

    min: float | None
    max: float | None
    period: str | None
    currency: str | None
    months_per_year: int | None = None  # 13薪: paid 13 months a year


_CURRENCY_SIGNS = [
    ("HK$", "HKD"), ("US$", "USD"), ("A$", "AUD"), ("C$", "CAD"), ("S$", "SGD"), ("￥", "CNY"), ("¥", "CNY"),
    ("£", "GBP"), ("€", "EUR"), ("$", "USD"), ("₹", "INR"),
]
_CURRENCY_CODES = {"RMB": "CNY", "CNY": "CNY", "USD": "USD", "GBP": "GBP", "EUR": "EUR", "HKD": "HKD",
                   "JPY": "JPY", "AUD": "AUD", "CAD": "CAD", "SGD": "SGD", "INR": "INR", "元": "CNY"}
_PERIOD_WORDS = [
    (re.compile(r"(/|每|per\s*|an?\s+|/\s*)(小时|时|hour|hr|h)\b|时薪|hourly", re.I), "hour"),
    (re.compile(r"(/|每|per\s*|an?\s+)(天|日|day)\b|日薪|daily|per diem", re.I), "day"),
    (re.compile(r"(/|每|per\s*|an?\s+)(周|week|wk)\b|周薪|weekly", re.I), "week"),
    (re.compile(r"(/|每|per\s*|an?\s+)(月|month|mo|mth)\b|月薪|monthly|pcm", re.I), "month"),
    (re.compile(r"(/|每|per\s*|an?\s+)(年|year|yr|annum)\b|年薪|p\.?a\.?\b|annual|yearly", re.I), "year"),
]
_NEGOTIABLE = re.compile(r"面议|薪资面谈|negotiable|competitive|DOE|depending on experience", re.I)
_NUM = re.compile(r"(\d+(?:[.,]\d+)*)\s*(k|K|千|w|W|万|m|M)?")
_MONTHS = re.compile(r"[·・\s,，]*(\d{2})\s*薪")


def _to_number(raw: str) -> float:
    # "50,000" / "1,234.5" → thousands separators; "1.5" → decimal; "40.000" (European) → 40000.
    if "," in raw and "." in raw:
        raw = raw.replace(",", "")
    elif "," in raw:
        raw = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):
        raw = raw.replace(".", "")
    return float(raw)


_UNIT = {"k": 1e3, "K": 1e3, "千": 1e3, "w": 1e4, "W": 1e4, "万": 1e4, "m": 1e6, "M": 1e6}


def parse_salary(value: object, *, default_currency: str | None = None) -> Salary | None:
    """Min/max/period/currency from salary text, or None when it states no amount (面议, "competitive").

    Handles ``15-25K·13薪`` (CNY 15000–25000 a month, 13 months a year), ``1-1.5万/月``, ``8千-1.2万``,
    ``20-30万/年``, ``200元/天``, ``25K以上``, ``£50,000 - £60,000`` (GBP a year), ``$45/hour``,
    ``$120k–$150k``. A unit written once applies to both ends (``1-1.5万``). Chinese salaries without a
    period are monthly; sign-less amounts in Chinese text are CNY; other large amounts without a period
    are yearly.
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or (_NEGOTIABLE.search(text) and not re.search(r"\d", text)):
        return None
    months = None
    chinese = bool(re.search(r"[\u4e00-\u9fff]", text)) or bool(
        re.fullmatch(r"\d+(?:\.\d+)?\s*[kK]?\s*[-~–—]\s*\d+(?:\.\d+)?\s*[kK]", text))
    if m := _MONTHS.search(text):
        months = int(m[1])
        text = text[: m.start()] + text[m.end():]
    currency = None
    for sign, code in _CURRENCY_SIGNS:
        if sign in text:
            currency = code
            break
    if currency is None:
        for word, code in _CURRENCY_CODES.items():
            if re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text, re.I if word.isascii() else 0):
                currency = code
                break
    nums = []
    for m in _NUM.finditer(text):
        raw, unit = m[1], m[2]
        # "13薪" already removed; ignore stray digits that are part of words (e.g. "Q3").
        try:
            n = _to_number(raw)
        except ValueError:
            continue
        nums.append((n, unit))
    if not nums:
        return None
    nums = nums[:2]
    units = [u for _, u in nums]
    shared = next((u for u in reversed(units) if u), None)
    values: list[float] = []
    for n, u in nums:
        unit = u or shared
        values.append(n * _UNIT[unit] if unit else n)
    period = None
    for pattern, name in _PERIOD_WORDS:
        if pattern.search(text):
            period = name
            break
    if currency is None:
        currency = "CNY" if chinese else default_currency
    if period is None:
        if currency == "CNY" or chinese:
            period = "month"
        elif max(values) >= 5000:
            period = "year"
        elif max(values) < 300:
            period = "hour"
    lo: float | None = values[0]
    hi: float | None = values[1] if len(values) > 1 else None
    if re.search(r"以上|起|\+|from|at least|up from", text, re.I) and hi is None:
        pass
    elif re.search(r"以下|以内|up to|max", text, re.I) and hi is None:
        lo, hi = None, lo
    elif hi is None:
        hi = lo
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return Salary(min=lo, max=hi, period=period, currency=currency, months_per_year=months)


# ---------------------------------------------------------------------------------------------
# Cities
# ---------------------------------------------------------------------------------------------

_CITY_ALIASES = {
    "beijing": "北京", "peking": "北京", "shanghai": "上海", "guangzhou": "广州", "shenzhen": "深圳",
    "hangzhou": "杭州", "chengdu": "成都", "wuhan": "武汉", "nanjing": "南京", "xian": "西安", "xi'an": "西安",
    "suzhou": "苏州", "tianjin": "天津", "chongqing": "重庆", "changsha": "长沙", "zhengzhou": "郑州",
    "dongguan": "东莞", "qingdao": "青岛", "shenyang": "沈阳", "hefei": "合肥", "xiamen": "厦门",
    "jinan": "济南", "dalian": "大连", "kunming": "昆明", "fuzhou": "福州", "ningbo": "宁波", "foshan": "佛山",
    "hong kong": "香港", "hongkong": "香港",
}
_CN_SUFFIX = re.compile(r"(市|地区)$")
_SPLIT = re.compile(r"\s*[-·•|/,，、]\s*")


def normalise_city(value: object) -> str | None:
    """The city of a location string: ``北京-朝阳区`` → 北京, ``上海市`` → 上海, ``Shenzhen, China`` → 深圳,
    ``London, England, United Kingdom`` → London. Major Chinese cities in pinyin map to their Chinese name
    so postings from English and Chinese boards group together."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = next((v for v in value if v), None)
        if value is None:
            return None
    text = clean_inline(unicodedata.normalize("NFKC", str(value)))
    if not text:
        return None
    first = _SPLIT.split(text)[0].strip()
    if not first:
        return None
    if re.search(r"[\u4e00-\u9fff]", first):
        first = re.sub(r"^中国", "", first)
        # 广东省深圳市南山区 → 深圳
        if m := re.match(r"^(?:.{2,3}?省)?(.{2,4}?)(?:市|$)", first):
            first = m[1]
        return _CN_SUFFIX.sub("", first) or None
    key = first.lower().replace(" city", "").strip()
    return _CITY_ALIASES.get(key, first.title() if first.islower() or first.isupper() else first)
