"""Read postings from CSV, JSONL or XLSX files under a documented column contract."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from db.repo import PostingIn
from scrapers import normalise

# Column contract: each field accepts these header names (case- and space-insensitive).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "job_id", "posting_id", "positionid", "职位id", "职位编号", "岗位编号"),
    "title": ("title", "job_title", "position", "positionname", "job_name", "职位名称", "岗位名称", "职位", "岗位"),
    "company": ("company", "company_name", "employer", "employer_name", "companyfullname", "公司名称", "公司",
                "企业名称", "招聘单位"),
    "city": ("city", "location", "work_city", "城市", "工作地点", "工作城市", "工作地址"),
    "lang": ("lang", "language", "语言"),
    "description": ("description", "job_description", "positiondetail", "jd", "职位描述", "岗位描述", "职位详情",
                    "岗位职责", "工作职责", "工作内容", "任职要求", "职位要求", "岗位要求"),
    "experience_text": ("experience", "experience_text", "workyear", "work_year", "工作经验", "经验要求", "经验",
                        "工作年限"),
    "education_text": ("education", "education_text", "学历", "学历要求"),
    "salary_text": ("salary", "salary_text", "money", "薪资", "薪资范围", "薪酬", "月薪", "工资"),
    "posted_at": ("posted_at", "date_posted", "posted", "createtime", "create_time", "job_posted_date",
                  "publish_date", "发布时间", "发布日期", "更新时间"),
    "url": ("url", "job_link", "link", "job_url", "链接", "职位链接"),
    "employment_type": ("employment_type", "job_employment_type", "jobnature", "工作性质", "职位类型"),
}
SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".xlsx")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, no title column)."""


@dataclass(frozen=True)
class Reject:
    """A row that was not imported: where it is and why."""

    line: int
    reason: str
    raw: dict[str, Any]


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower())


_ALIAS_INDEX = {_key(a): field for field, aliases in COLUMN_ALIASES.items() for a in aliases}


def map_columns(headers: list[str]) -> dict[str, list[str]]:
    """Which file columns feed which posting field (several description columns are concatenated)."""
    mapping: dict[str, list[str]] = {}
    for h in headers:
        field = _ALIAS_INDEX.get(_key(h))
        if field:
            mapping.setdefault(field, []).append(h)
    return mapping


def decode_bytes(data: bytes, path: Path) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (with or without BOM) or GBK/GB18030; returns (text, encoding)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ImportFileError(f"{path}: cannot detect the text encoding (tried UTF-8, UTF-8 with BOM, GB18030)")
    return str(best), best.encoding


def parse_date(value: Any) -> date | None:
    """A posting date from a cell (text in the formats of ``scrapers.normalise.parse_date``, a datetime,
    an Excel date); None when empty. Raises ValueError for text that is not a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    parsed = normalise.parse_date(text)
    if parsed is None:
        raise ValueError(f"unparseable date {text!r}")
    return parsed


_CJK = re.compile(r"[\u4e00-\u9fff]")


def detect_lang(*texts: str | None) -> str:
    """'zh' when the text holds Chinese characters, else 'en'."""
    return "zh" if any(t and _CJK.search(t) for t in texts) else "en"


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from spreadsheets
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValueError(f"{field} must be text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def row_to_posting(row: dict[str, Any], mapping: dict[str, list[str]], source: str) -> PostingIn:
    """One file row as a PostingIn; raises ValueError with the reason for a bad row."""
    values: dict[str, Any] = {}
    for field, cols in mapping.items():
        if field == "posted_at":
            continue
        parts = [t for c in cols if (t := _text(row.get(c), field))]
        values[field] = "\n".join(parts) if parts else None
    title = values.get("title")
    if not title:
        raise ValueError("missing title")
    if len(title) > 500:
        raise ValueError(f"title is {len(title)} characters long (at most 500)")
    posted = None
    if "posted_at" in mapping:
        posted = parse_date(row.get(mapping["posted_at"][0]))
    ext = values.pop("external_id", None)
    if ext is None:
        # No id column: a stable id from the content, so re-importing the same rows is idempotent.
        basis = "\x1f".join(str(values.get(k) or "") for k in ("title", "company", "city", "description"))
        ext = "row-" + hashlib.sha1(f"{basis}\x1f{posted}".encode()).hexdigest()[:20]
    if ext.endswith(".0") and ext[:-2].isdigit():  # spreadsheets turn numeric ids into floats
        ext = ext[:-2]
    raw = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)
    salary = normalise.parse_salary(values.get("salary_text")) if values.get("salary_text") else None
    city = values.get("city")
    return PostingIn(
        source=source, external_id=ext, title=title, url=values.get("url"), company=values.get("company"),
        city=normalise.normalise_city(city) if city else None,
        lang=values.get("lang") or detect_lang(title, values.get("description")),
        description=values.get("description"), salary_text=values.get("salary_text"),
        salary_min=salary.min if salary else None, salary_max=salary.max if salary else None,
        salary_period=salary.period if salary else None, salary_currency=salary.currency if salary else None,
        experience_text=values.get("experience_text"), education_text=values.get("education_text"),
        employment_type=values.get("employment_type"), posted_at=posted,
        raw_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )


def iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs of a CSV, JSONL or XLSX file; raises ImportFileError at once if unreadable."""
    check_file(path)
    return _iter_rows(path)


def check_file(path: Path) -> None:
    """Raise ImportFileError naming ``path`` when it is missing, not a file or of an unsupported type."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if not path.is_file():
        raise ImportFileError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ImportFileError(f"{path}: unsupported file type {suffix or '(none)'!r}; use one of "
                              f"{', '.join(SUPPORTED_SUFFIXES)}")


def _iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _iter_xlsx(path)
        return
    text, _enc = decode_bytes(path.read_bytes(), path)
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise ImportFileError(f"{path}: empty CSV (no header row)")
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}
    else:
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield i, {"__error__": f"invalid JSON: {exc.msg} at column {exc.colno}"}
                continue
            yield i, obj if isinstance(obj, dict) else {"__error__": "a JSON line must be an object"}


def _iter_xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ImportFileError(f"{path}: cannot open as an Excel workbook: {exc}") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ImportFileError(f"{path}: empty worksheet (no header row)")
    names = [str(h).strip() if h is not None else "" for h in header]
    for i, values in enumerate(rows, start=2):
        if values is None or all(v is None for v in values):
            continue
        yield i, {n: v for n, v in zip(names, values, strict=False) if n}
    wb.close()
