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

from labourwatch.contract import PostingIn
from scrapers import normalise
from scrapers.items import RawPosting, Rejected
from scrapers.pipelines.posting import PostingRules, to_posting_in

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


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, unknown format, no title column)."""


@dataclass(frozen=True)
class Reject:
    """A row that was not imported: where it is and why."""

    line: int
    reason: str
    raw: dict[str, Any]
    raw_line: str = ""


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


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from spreadsheets
        return None
    if isinstance(value, (dict, list, bool)):
        raise ValueError(f"{field} must be text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def date_problem(posted: date | None, now: datetime | None = None) -> str | None:
    """Why a posting date is impossible (after ``now`` plus LABOURWATCH_DATE_FUTURE_DAYS, or before
    LABOURWATCH_DATE_FLOOR), or None when it is plausible or absent."""
    if posted is None:
        return None
    from datetime import UTC, timedelta

    from labourwatch.settings import get_settings

    s = get_settings()
    now = now or datetime.now(UTC)
    latest = now.date() + timedelta(days=s.date_future_days)
    if posted > latest:
        return (f"posted date {posted.isoformat()} is after the import time plus {s.date_future_days} days "
                f"({latest.isoformat()}, LABOURWATCH_DATE_FUTURE_DAYS)")
    floor = date.fromisoformat(s.date_floor)
    if posted < floor:
        return f"posted date {posted.isoformat()} is before {floor.isoformat()} (LABOURWATCH_DATE_FLOOR)"
    return None


def row_to_raw(row: dict[str, Any], mapping: dict[str, list[str]], source: str,
               now: datetime | None = None) -> RawPosting:
    """One file row as a RawPosting (cells as text, several description columns joined, the date checked);
    raises ValueError with the reason for a bad row (including an impossible date: see ``date_problem``)."""
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
        problem = date_problem(posted, now)
        if problem:
            raise ValueError(problem)
    ext = values.pop("external_id", None)
    if ext is None:
        # No id column: a stable id from the cells as written, so re-importing the same rows is idempotent.
        basis = "\x1f".join(str(values.get(k) or "") for k in ("title", "company", "city", "description"))
        ext = "row-" + hashlib.sha1(f"{basis}\x1f{posted}".encode()).hexdigest()[:20]
    if ext.endswith(".0") and ext[:-2].isdigit():  # spreadsheets turn numeric ids into floats
        ext = ext[:-2]
    raw = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)
    return RawPosting(
        source=source, external_id=ext, url=values.get("url"), title=title, company=values.get("company"),
        location=values.get("city"), description=values.get("description"),
        date_posted=posted.isoformat() if posted else None, salary_text=values.get("salary_text"),
        experience_text=values.get("experience_text"), education_text=values.get("education_text"),
        employment_type=values.get("employment_type"), lang=values.get("lang"),
        raw_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )


def row_to_posting(row: dict[str, Any], mapping: dict[str, list[str]], source: str,
                   now: datetime | None = None, rules: PostingRules | None = None) -> PostingIn:
    """One file row as a PostingIn, through the path every crawled posting takes (``to_posting_in``:
    normalised text, cities, salaries, language, validated); raises ValueError with the reason for a bad row."""
    out = to_posting_in(row_to_raw(row, mapping, source, now), rules)
    if isinstance(out, Rejected):
        raise ValueError(out.detail)
    return out


# --- reading: every record accounted for --------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One input record: its first line, the parsed row (None when it could not be read), the raw text as it
    stood in the file (undecodable bytes shown as \\xNN) and, for a bad record, why."""

    line: int
    row: dict[str, Any] | None
    raw: str
    error: str | None = None


@dataclass(frozen=True)
class Encoding:
    """The text encoding of a file, how it was decided and how sure that is (0-1)."""

    name: str
    confidence: float
    how: str


_GB = ("gb18030", "gbk", "gb2312", "hz")


def detect_encoding(data: bytes, path: Path, given: str | None = None) -> Encoding:
    """The encoding of ``data``: ``given`` if set; a BOM; UTF-8 when it decodes (a few undecodable lines are
    rejected later); otherwise charset-normalizer's answer when it is unambiguous. Raises ImportFileError
    naming the file and suggesting ``--encoding`` when unsure."""
    import codecs

    if given:
        try:
            return Encoding(codecs.lookup(given).name, 1.0, "--encoding")
        except LookupError:
            raise ImportFileError(f"{path}: unknown encoding {given!r} (e.g. utf-8, gb18030, cp1252)") from None
    if data.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", 1.0, "byte-order mark")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", 1.0, "byte-order mark")
    try:
        data.decode("utf-8")
        return Encoding("utf-8", 1.0, "valid UTF-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    non_ascii = [ln for ln in lines if not ln.isascii()]
    bad = [ln for ln in non_ascii if not _decodes(ln, "utf-8")]
    if len(non_ascii) - len(bad) >= 3 * max(len(bad), 1) and len(bad) <= max(2, len(lines) // 100):
        # Mostly valid multi-byte UTF-8 with a few broken lines: those lines are rejected, not the file.
        return Encoding("utf-8", 1 - len(bad) / len(non_ascii), "UTF-8 with undecodable lines")
    from charset_normalizer import from_bytes

    sample = data[:2_000_000]
    results = list(from_bytes(sample))
    if not results:
        # A legacy (GBK) file with a few broken lines: detect on the lines that decode.
        good = b"\n".join(ln for ln in lines[:20000] if _decodes(ln, "gb18030"))
        if len(good) >= len(b"\n".join(lines[:20000])) * 0.95:
            results = [m for m in from_bytes(good[:2_000_000]) if m.encoding in _GB]
    if not results:
        raise ImportFileError(f"{path}: cannot tell the text encoding (not UTF-8, no candidate fits); "
                              "give it with --encoding (e.g. --encoding gb18030)")
    best = results[0]
    near = [m for m in results if m.chaos <= best.chaos + 0.02]
    gb = [m for m in near if m.encoding in _GB]
    confidence = round(max(0.0, 1.0 - best.chaos), 3)
    if gb and _plausible_chinese(str(gb[0])):
        # The product's sources are Chinese and English: a GB reading that is as plausible as any wins when
        # it reads as everyday Chinese (mojibake of Latin text lands on rare characters).
        return Encoding("gb18030", confidence, "charset-normalizer (GB family)")
    near = [m for m in near if m.encoding not in _GB] or near
    texts = {str(m) for m in near}
    if len(texts) > 1 or best.chaos > 0.2:
        names = ", ".join(dict.fromkeys(m.encoding for m in near[:5]))
        why = (f"{len(texts)} plausible readings differ: {names}" if len(texts) > 1
               else f"best guess {best.encoding} at confidence {confidence:.0%}")
        raise ImportFileError(f"{path}: not UTF-8 and the encoding is uncertain ({why}); give it with "
                              "--encoding, e.g. --encoding cp1252 (Western European) or --encoding gb18030 "
                              "(Chinese)")
    return Encoding(best.encoding, confidence, "charset-normalizer")


def _plausible_chinese(text: str) -> bool:
    """True when most CJK characters of ``text`` are common ones (in GB2312) — real Chinese, not mojibake."""
    cjk = [c for c in text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"]
    if not cjk:
        return False
    common = sum(1 for c in cjk if _decodes_to(c, "gb2312"))
    return common >= 0.9 * len(cjk)


def _decodes_to(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
        return True
    except UnicodeDecodeError:
        return False


def _max_field_chars() -> int:
    from labourwatch.settings import get_settings

    return get_settings().import_max_field_chars


def check_fields(row: dict[str, Any], limit: int | None = None) -> str | None:
    """Why a parsed row cannot be stored (NUL byte, oversized or undecodable field), or None."""
    limit = _max_field_chars() if limit is None else limit
    for col, value in row.items():
        if not isinstance(value, str):
            if isinstance(value, dict | list):
                value = json.dumps(value, ensure_ascii=False)
            else:
                continue
        if "\x00" in value:
            return f"NUL byte in column {col!r}"
        if len(value) > limit:
            return (f"column {col!r} is {len(value):,} characters long (limit {limit:,}, "
                    "LABOURWATCH_IMPORT_MAX_FIELD_CHARS)")
        if _SURROGATE.search(value):
            return f"undecodable bytes in column {col!r}"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def read_records(path: Path, encoding: str | None = None,
                 kind: str | None = None) -> tuple[Encoding | None, Iterator[Record]]:
    """The encoding and the records of a CSV, JSONL or XLSX file; raises ImportFileError at once when the
    file as a whole is unreadable (missing, a directory, binary, unknown type or encoding, no header).

    Every non-blank line after the header ends up in exactly one record, good or bad: a broken quote, a NUL
    byte, an oversized field or undecodable bytes make that record bad and reading goes on after it.
    """
    if kind is None:
        check_file(path)
        suffix = path.suffix.lower()
    else:
        check_file(path, suffixes=(path.suffix.lower(),))
        suffix = {"csv": ".csv", "jsonl": ".jsonl", "xlsx": ".xlsx"}[kind]
    if suffix == ".xlsx":
        return None, _xlsx_records(path)
    data = path.read_bytes()
    head = data[:8192]
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 27), *range(28, 32)))
    if head and controls > len(head) * 0.05 and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A stray NUL or control byte rejects its row; this many means the file is not text at all.
        raise ImportFileError(f"{path}: a binary file, not {suffix[1:].upper()} text")
    enc = detect_encoding(data, path, encoding)
    if enc.name == "utf-16":
        text = data.decode("utf-16", errors="surrogateescape")
        lines = [ln.encode("utf-8", "surrogateescape") for ln in text.splitlines(keepends=True)]
        codec = "utf-8"
    else:
        lines = data.split(b"\n")
        lines = [ln + b"\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        codec = enc.name
    if codec == "utf-8-sig" and lines:
        lines[0] = lines[0][3:]
        codec = "utf-8"
    decoded = [_decode_line(ln, codec) for ln in lines]
    if suffix == ".csv":
        return enc, _csv_records(path, decoded, enc)
    return enc, _jsonl_records(decoded, enc)


def _decode_line(line: bytes, codec: str) -> tuple[str, bool]:
    try:
        return line.decode(codec), True
    except UnicodeDecodeError:
        return line.decode(codec, errors="surrogateescape"), False


def _show(text: str) -> str:
    """Raw text for the rejects file: undecodable bytes as \\xNN, line ends dropped."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace").rstrip("\r\n")


_MAX_RECORD_LINES = 10_000


def _csv_records(path: Path, lines: list[tuple[str, bool]], enc: Encoding) -> Iterator[Record]:
    limit = _max_field_chars()
    # Length is checked per field below, with a reason that names the column.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    n = len(lines)
    i = 0
    header: list[str] | None = None
    while i < n:
        start = i
        buf, ok = lines[i]
        i += 1
        if not buf.strip():
            continue
        all_ok = ok
        error: str | None = None
        fields: list[str] | None = None
        while True:
            try:
                parsed = list(csv.reader(io.StringIO(buf, newline=""), strict=True))
                fields = parsed[0] if parsed else []
                break
            except csv.Error as exc:
                if "unexpected end of data" not in str(exc) and "EOF" not in str(exc):
                    error = f"broken CSV quoting: {exc}"
                    if i - start > 1:  # the quote opened on the first line: reject it, read on after it
                        error = f"broken CSV quoting: the quoted field starting on line {start + 1} does not end"
                        i = start + 1
                    break
                # An open quote: take lines until one holds a quote that may close it.
                grew = False
                while i < n and i - start < _MAX_RECORD_LINES and len(buf) <= 2 * limit:
                    nxt, nok = lines[i]
                    buf += nxt
                    all_ok = all_ok and nok
                    i += 1
                    if '"' in nxt:
                        grew = True
                        break
                if not grew:
                    error = f"unterminated quoted field starting on line {start + 1}"
                    i = start + 1  # read on from the next line: the open quote swallows nothing
                    break
        raw = _show(lines[start][0] if error is not None and i == start + 1 else buf)
        if header is None:
            if error is not None or fields is None:
                raise ImportFileError(f"{path}:{start + 1}: cannot read the CSV header ({error})")
            if not all_ok:
                raise ImportFileError(f"{path}:{start + 1}: the header is not valid {enc.name}; give the "
                                      "encoding with --encoding")
            header = [h.strip() for h in fields]
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            continue
        if error is not None:
            yield Record(start + 1, None, raw, error)
            continue
        assert fields is not None
        if len(fields) != len(header):
            if i - start > 1:
                # A quote opened in this row closed rows later: the row swallowed its neighbours.
                yield Record(start + 1, None, _show(lines[start][0]),
                             f"broken CSV quoting: the quoted field starting on line {start + 1} runs to line "
                             f"{i} and the row has {len(fields)} fields, the header {len(header)}")
                i = start + 1
            else:
                yield Record(start + 1, None, raw, f"row has {len(fields)} fields, the header {len(header)}")
            continue
        if not all_ok:
            yield Record(start + 1, None, raw, f"undecodable bytes (not valid {enc.name})")
            continue
        row = {h: v for h, v in zip(header, fields, strict=True) if h}
        problem = check_fields(row, limit)
        yield Record(start + 1, None if problem else row, raw if problem else raw[:2000], problem)
    if header is None:
        raise ImportFileError(f"{path}: empty CSV (no header row)")


def _jsonl_records(lines: list[tuple[str, bool]], enc: Encoding) -> Iterator[Record]:
    limit = _max_field_chars()
    for i, (text, ok) in enumerate(lines, start=1):
        if not text.strip():
            continue
        raw = _show(text)
        if not ok:
            yield Record(i, None, raw, f"undecodable bytes (not valid {enc.name})")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(i, None, raw, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield Record(i, None, raw[:2000], "invalid JSON: nested too deeply")
            continue
        if not isinstance(obj, dict):
            yield Record(i, None, raw, "a JSON line must be an object")
            continue
        problem = check_fields(obj, limit)
        yield Record(i, None if problem else obj, raw if problem else raw[:2000], problem)


def _xlsx_records(path: Path) -> Iterator[Record]:
    limit = _max_field_chars()
    for line, row in _iter_xlsx(path):
        raw = json.dumps(row, ensure_ascii=False, default=str)
        problem = check_fields(row, limit)
        yield Record(line, None if problem else row, raw, problem)


def iter_rows(path: Path, encoding: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs; a bad record comes as ``{"__error__": reason}``. Raises ImportFileError at
    once if the file as a whole is unreadable."""
    _enc, records = read_records(path, encoding)
    return ((r.line, r.row if r.row is not None else {"__error__": r.error}) for r in records)


def check_file(path: Path, suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES) -> None:
    """Raise ImportFileError naming ``path`` when it is missing, not a file or of an unsupported type."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if not path.is_file():
        raise ImportFileError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise ImportFileError(f"{path}: unsupported file type {suffix or '(none)'!r}; use one of "
                              f"{', '.join(suffixes)}")


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
