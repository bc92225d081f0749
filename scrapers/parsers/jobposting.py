"""schema.org JobPosting from JSON-LD (any shape found in the wild) and microdata: page in, postings out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from scrapers.items import RawPosting
from scrapers.parsers import ParseError, as_text, sha256

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PERIODS = {"HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month", "YEAR": "year",
            "ANN": "year", "HUR": "hour", "MON": "month", "WEE": "week"}


def _is_jobposting(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    types = node.get("@type") or node.get("type")
    if isinstance(types, str):
        types = [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting" for t in types or ())


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for n in node:
            yield from _walk(n)
    elif isinstance(node, dict):
        if _is_jobposting(node):
            yield node
        for key in ("@graph", "mainEntity", "itemListElement", "item"):
            if key in node:
                yield from _walk(node[key])


def load_jsonld(text: str) -> Any:
    """Parse one JSON-LD block, forgiving what publishers commonly get wrong (comments, CDATA, trailing
    commas, raw newlines inside strings); raises ValueError when it still is not JSON."""
    body = text.strip()
    body = re.sub(r"^\s*(<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", body)
    body = re.sub(r"(-->|//\s*\]\]>|\]\]>)\s*$", "", body).strip().rstrip(";")
    try:
        return json.loads(body, strict=False)
    except json.JSONDecodeError:
        return json.loads(_TRAILING_COMMA.sub(r"\1", body), strict=False)


# Raw-text and comment spans of an HTML page in document order: a fast scan for JSON-LD blocks that sees
# <script> elements where an HTML parser would (not inside comments, <style>, <textarea> or <title>).
_RAW_OPEN = re.compile(r"<(?:!--|(script|style|textarea|title|xmp)\b([^>]*)>)", re.I)
_RAW_CLOSE = {tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("script", "style", "textarea", "title", "xmp")}
_LDJSON_TYPE = re.compile(r"""(?:^|\s)type\s*=\s*(?:"[^"]*ld\+json[^"]*"|'[^']*ld\+json[^']*'|[^\s"'>]*ld\+json)""",
                          re.I)


def jsonld_blocks_fast(body: str) -> list[str] | None:
    """The text of every ``<script type="application/ld+json">`` of a page, found without building a
    document tree: like an HTML parser it skips comments and the raw text of <script>, <style>, <textarea>,
    <title> and <xmp>. None when an unclosed comment or element leaves that to a real parser."""
    if "ld+json" not in body and "ld+json" not in body.lower():
        return []
    blocks = []
    pos = 0
    while (m := _RAW_OPEN.search(body, pos)) is not None:
        tag = m.group(1)
        if tag is None:  # a comment
            end = body.find("-->", m.end())
            if end < 0:
                return None
            pos = end + 3
            continue
        close = _RAW_CLOSE[tag.lower()].search(body, m.end())
        if close is None:
            return None
        if tag.lower() == "script" and _LDJSON_TYPE.search(m.group(2)):
            blocks.append(body[m.end():close.start()])
        pos = close.end()
    return blocks


def _jobpostings_of(scripts: list[str]) -> tuple[list[dict[str, Any]], int]:
    nodes: list[dict[str, Any]] = []
    broken = 0
    for script in scripts:
        if not script.strip():
            continue
        try:
            data = load_jsonld(script)
        except ValueError:
            broken += 1
            continue
        nodes.extend(_walk(data))
    return nodes, broken


def jsonld_jobpostings(sel: Selector) -> tuple[list[dict[str, Any]], int]:
    """The JobPosting nodes of every JSON-LD block of a page, and how many blocks were not valid JSON."""
    return _jobpostings_of(sel.xpath(_LDJSON_XPATH).getall())


_LDJSON_XPATH = '//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]/text()'


# --- microdata -----------------------------------------------------------------------------------


def _md_value(el: Selector) -> Any:
    if el.attrib.get("itemscope") is not None and "itemscope" in el.attrib:
        return _md_item(el)
    tag = el.root.tag.lower() if isinstance(el.root.tag, str) else ""
    if tag == "meta":
        return el.attrib.get("content")
    if tag in ("a", "link", "area"):
        return el.attrib.get("href")
    if tag in ("img", "audio", "video", "source", "embed", "iframe"):
        return el.attrib.get("src")
    if tag == "time":
        return el.attrib.get("datetime") or " ".join(el.xpath(".//text()").getall()).strip()
    if tag in ("data", "meter"):
        return el.attrib.get("value")
    if "content" in el.attrib:
        return el.attrib["content"]
    # Inner HTML: the description keeps its structure for html_to_text.
    inner = "".join(c.get() for c in el.xpath("./node()"))
    return inner.strip()


def _md_item(scope: Selector) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if t := scope.attrib.get("itemtype"):
        item["@type"] = t.split()[0]
    # Properties whose nearest itemscope ancestor is this scope (not a nested item).
    depth = len(scope.xpath("ancestor-or-self::*[@itemscope]"))
    for el in scope.xpath(".//*[@itemprop]"):
        if len(el.xpath("ancestor::*[@itemscope]")) != depth:
            continue
        value = _md_value(el)
        for prop in el.attrib["itemprop"].split():
            if prop in item:
                prev = item[prop]
                item[prop] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                item[prop] = value
    return item


def microdata_jobpostings(sel: Selector) -> list[dict[str, Any]]:
    """JobPosting items written as HTML microdata (``itemtype="https://schema.org/JobPosting"``)."""
    out = []
    for scope in sel.xpath('//*[@itemscope][contains(@itemtype, "JobPosting")]'):
        if scope.xpath('ancestor::*[@itemscope][contains(@itemtype, "JobPosting")]'):
            continue
        out.append(_md_item(scope))
    return out


# --- field readers -------------------------------------------------------------------------------


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def read_identifier(node: dict[str, Any]) -> str | None:
    ident = node.get("identifier")
    for cand in ident if isinstance(ident, list) else [ident]:
        if isinstance(cand, dict):
            v = cand.get("value") or cand.get("@id") or cand.get("propertyID")
            if v not in (None, ""):
                return str(v).strip()
        elif cand not in (None, ""):
            return str(cand).strip()
    return None


def read_location(node: dict[str, Any]) -> str | None:
    locs = node.get("jobLocation")
    for loc in locs if isinstance(locs, list) else [locs]:
        if isinstance(loc, str) and loc.strip():
            return loc.strip()
        if not isinstance(loc, dict):
            continue
        addr = loc.get("address", loc)
        addr = _first(addr)
        if isinstance(addr, str) and addr.strip():
            return addr.strip()
        if isinstance(addr, dict):
            for key in ("addressLocality", "addressRegion", "name", "addressCountry"):
                v = as_text(addr.get(key))
                if v:
                    return v
        if v := as_text(loc.get("name")):
            return v
    if str(node.get("jobLocationType", "")).upper() == "TELECOMMUTE":
        return "Remote"
    return None


def read_country(node: dict[str, Any]) -> str | None:
    """The first ``addressCountry`` of the posting's locations (a code, a name or a Country node)."""
    locs = node.get("jobLocation")
    for loc in locs if isinstance(locs, list) else [locs]:
        if not isinstance(loc, dict):
            continue
        addr = _first(loc.get("address", loc))
        if isinstance(addr, dict):
            c = addr.get("addressCountry")
            v = as_text(c.get("name") or c.get("identifier")) if isinstance(c, dict) else as_text(c)
            if v:
                return v
    return None


def read_salary(node: dict[str, Any]) -> tuple[str | None, float | None, float | None, str | None, str | None]:
    """(text, min, max, currency, period) from baseSalary/estimatedSalary in any of its shapes."""
    sal = node.get("baseSalary") or node.get("estimatedSalary") or node.get("salary")
    sal = _first(sal)
    if sal is None:
        return None, None, None, None, None
    if isinstance(sal, str | int | float):
        return str(sal), None, None, None, None
    if not isinstance(sal, dict):
        return None, None, None, None, None
    currency = as_text(sal.get("currency") or sal.get("salaryCurrency"))
    value = _first(sal.get("value", sal))
    lo = hi = None
    unit = sal.get("unitText")
    if isinstance(value, dict):
        unit = value.get("unitText") or unit
        lo = _num(value.get("minValue"))
        hi = _num(value.get("maxValue"))
        if lo is None and hi is None:
            lo = hi = _num(value.get("value"))
    else:
        lo = hi = _num(value)
    period = _PERIODS.get(str(unit).upper()[:4] if unit else "", None) or (
        _PERIODS.get(str(unit).upper()[:3]) if unit else None)
    if lo is None and hi is None:
        return as_text(sal.get("description") or sal.get("name")), None, None, currency, period
    parts = [f"{v:g}" for v in (lo, hi) if v is not None]
    text = " - ".join(dict.fromkeys(parts))
    text = f"{currency + ' ' if currency else ''}{text}{' / ' + period if period else ''}"
    return text, lo, hi, currency, period


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).replace(",", "").strip())
    except ValueError:
        return None


def read_experience(node: dict[str, Any]) -> str | None:
    exp = node.get("experienceRequirements")
    texts = []
    for e in exp if isinstance(exp, list) else [exp]:
        if isinstance(e, dict):
            months = _num(e.get("monthsOfExperience"))
            if months is not None:
                texts.append(f"{months / 12:g}+ years of experience" if months % 12 == 0
                             else f"{months:g}+ months of experience")
            elif d := as_text(e.get("description") or e.get("name")):
                texts.append(d)
        elif e not in (None, ""):
            texts.append(str(e).strip())
    if not texts and node.get("experienceInPlaceOfEducation") is not None:
        return None
    return "; ".join(texts) or None


def read_education(node: dict[str, Any]) -> str | None:
    edu = node.get("educationRequirements")
    texts = []
    for e in edu if isinstance(edu, list) else [edu]:
        if isinstance(e, dict):
            if t := as_text(e.get("credentialCategory") or e.get("name") or e.get("description")):
                texts.append(t)
        elif e not in (None, ""):
            texts.append(str(e).strip())
    return "; ".join(texts) or None


def read_category(node: dict[str, Any]) -> str | None:
    """The page's own category: ``occupationalCategory`` (or ``industry``), levels joined by "/"."""
    cat = node.get("occupationalCategory") or node.get("industry")
    parts = [as_text(c) for c in (cat if isinstance(cat, list) else [cat])]
    return "/".join(p for p in parts if p) or None


def _external_id_from_url(url: str) -> str | None:
    path = urlsplit(url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    return re.sub(r"\.(html?|php|aspx?)$", "", last) or None


def posting_from_node(node: dict[str, Any], *, url: str, source: str, lang: str | None = None,
                      raw_hash: str | None = None, id_from_url: bool = True) -> RawPosting:
    """One JSON-LD or microdata JobPosting node as a RawPosting (nothing normalised yet)."""
    salary_text, lo, hi, currency, period = read_salary(node)
    ext = read_identifier(node) or (_external_id_from_url(url) if id_from_url else None)
    org = node.get("hiringOrganization")
    return RawPosting(
        source=source,
        external_id=ext,
        url=url,
        title=as_text(node.get("title") or node.get("name")),
        company=as_text(_first(org)) if org is not None else None,
        location=read_location(node),
        description=as_text(node.get("description")),
        date_posted=as_text(node.get("datePosted")),
        salary_text=salary_text,
        salary_min=lo,
        salary_max=hi,
        salary_currency=currency,
        salary_period=period,
        experience_text=read_experience(node),
        education_text=read_education(node),
        employment_type=as_text(node.get("employmentType")),
        lang=as_text(node.get("inLanguage")) or lang,
        raw_hash=raw_hash,
        board_category=read_category(node),
        country=read_country(node),
    )


def parse_page(body: str, url: str, source: str, lang: str | None = None) -> tuple[RawPosting, ...]:
    """Every JobPosting of an HTML page (JSON-LD first, microdata when the page has no JSON-LD posting).

    Raises ParseError ``invalid_jsonld`` when the page's only JSON-LD is broken, ``no_jobposting`` when it
    has no posting at all.
    """
    # Most pages carry their posting as JSON-LD: read it without parsing the whole page; the full parse
    # (microdata, and the count of broken blocks) only when that finds no posting.
    scripts = jsonld_blocks_fast(body)
    nodes, broken = _jobpostings_of(scripts) if scripts else ([], 0)
    if not nodes:
        sel = Selector(text=body)
        nodes, broken = jsonld_jobpostings(sel)
        if not nodes:
            nodes = microdata_jobpostings(sel)
    if not nodes:
        if broken:
            raise ParseError("invalid_jsonld", f"{broken} JSON-LD block(s) are not valid JSON at {url}")
        raise ParseError("no_jobposting", f"no schema.org JobPosting at {url}")
    raw_hash = sha256(body)
    several = len(nodes) > 1
    return tuple(posting_from_node(n, url=url, source=source, lang=lang, raw_hash=raw_hash,
                                   id_from_url=not several) for n in nodes)


def listing_links(body: str, url: str, link_selector: str, next_selector: str) -> tuple[list[str], list[str]]:
    """Detail links and next-page links of a listing page, as absolute URLs in page order."""
    from urllib.parse import urljoin

    sel = Selector(text=body)
    links = [urljoin(url, h.strip()) for h in sel.css(link_selector).getall() if h.strip()]
    nxt = [urljoin(url, h.strip()) for h in sel.css(next_selector).getall() if h.strip()]
    return list(dict.fromkeys(links)), list(dict.fromkeys(nxt))
