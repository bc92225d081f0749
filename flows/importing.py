"""`labourwatch import`: a file of postings into the database, idempotently, with a rejects file."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.migrate import upgrade
from db.repo import UpsertResult, close_run, open_run, store_or_each
from db.session import get_engine
from labourwatch.contract import PostingIn
from labourwatch.settings import get_settings
from scrapers.fileimport import ImportFileError, Reject, map_columns, read_records, row_to_posting

BATCH_SIZE = 2000


@dataclass(frozen=True)
class ImportReport:
    """What an import did: every row read is exactly one of new, changed, unchanged, duplicate, rejected."""

    path: Path
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejects_path: Path | None
    seconds: float
    run_id: int
    duplicates: int = 0
    encoding: str | None = None

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def accounted(self) -> bool:
        return self.imported + self.duplicates + self.rejected == self.rows

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        enc = f", {self.encoding}" if self.encoding and self.encoding not in ("utf-8", "utf-8-sig") else ""
        text = (f"{self.path}: {self.rows} rows → {self.inserted} new, {self.updated} changed, "
                f"{self.unchanged} unchanged, {self.duplicates} duplicate in file, {self.rejected} rejected "
                f"({self.seconds:.1f} s, {rate:,.0f} rows/s{enc}) into source {self.source!r}")
        if self.rejects_path:
            text += f"\nrejected rows with reasons: {self.rejects_path}"
        return text


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() == ".xlsx":
        return None
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - (1 if path.suffix.lower() == ".csv" else 0), 0)


def import_file(path: Path, source: str | None = None, rejects_path: Path | None = None,
                progress: bool = False, batch_size: int = BATCH_SIZE, encoding: str | None = None) -> ImportReport:
    """Import postings from ``path`` (CSV, JSONL, XLSX) into the configured database.

    Every row read ends as new, changed, unchanged, duplicate-in-file (the first occurrence of an id
    counts) or rejected (written with line, reason and raw text to a rejects CSV). Good rows are upserted
    in batches, each batch one transaction; a batch the database refuses is retried row by row so one bad
    row is rejected and the others are stored. Raises ``ImportFileError`` when the file as a whole cannot
    be read (naming it; an uncertain encoding asks for ``encoding``).
    """
    from datetime import UTC, datetime

    from db.runs import Heartbeat, mark_interrupted

    path = Path(path)
    settings = get_settings()
    settings.ensure_dirs()
    source = source or path.stem
    enc, records = read_records(path, encoding)
    engine = get_engine()
    upgrade(engine)

    started = time.perf_counter()
    now = datetime.now(UTC)
    rejects: list[Reject] = []
    total = UpsertResult()
    n_rows = 0
    duplicates = 0
    first_line: dict[str, int] = {}
    mappings: dict[tuple[str, ...], dict[str, list[str]]] = {}
    mark_interrupted(engine)
    run_id = open_run(engine, source, kind="import", url=str(path))

    batch: list[tuple[int, str, PostingIn]] = []

    def flush() -> None:
        nonlocal batch, total
        if not batch:
            return
        # One row the database refuses must not take the batch with it: the rest are stored row by row.
        stored, refused = store_or_each(engine, [p for _, _, p in batch], crawl_run_id=run_id)
        total += stored
        for i, msg in refused:
            line, raw, _ = batch[i]
            rejects.append(Reject(line, f"refused by the database: {msg}", {}, raw))
        batch = []

    prog = Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=not progress, transient=True)
    try:
        with prog, Heartbeat(engine, run_id):
            task = prog.add_task(path.name, total=_count_lines(path))
            for rec in records:
                n_rows += 1
                prog.advance(task)
                row = rec.row
                if row is None:
                    rejects.append(Reject(rec.line, rec.error or "unreadable row", {}, rec.raw))
                    continue
                keys = tuple(row.keys())
                mapping = mappings.get(keys)
                if mapping is None:
                    mapping = mappings[keys] = map_columns(list(keys))
                    if "title" not in mapping and len(mappings) == 1 and path.suffix.lower() != ".jsonl":
                        raise ImportFileError(
                            f"{path}: no title column; found {', '.join(map(str, keys))}. "
                            "Accepted title names: title, job_title, positionName, 职位名称, 岗位名称 (see README)")
                try:
                    posting = row_to_posting(row, mapping, source, now=now)
                except ValueError as exc:
                    rejects.append(Reject(rec.line, str(exc), row, rec.raw))
                    continue
                ext = str(posting.external_id)
                if ext in first_line:
                    duplicates += 1
                    continue
                first_line[ext] = rec.line
                batch.append((rec.line, rec.raw, posting))
                if len(batch) >= batch_size:
                    flush()
            flush()
    except BaseException as exc:
        close_run(engine, run_id, "failed", _stats(n_rows, total, rejects, duplicates), error=str(exc))
        raise

    written = None
    if rejects:
        written = rejects_path or settings.home / "rejects" / f"{path.stem}.rejects.csv"
        write_rejects(written, path, rejects)
    status = "succeeded" if total.inserted + total.updated + total.unchanged else "failed"
    close_run(engine, run_id, status, _stats(n_rows, total, rejects, duplicates),
              error=None if status == "succeeded" else "no row could be imported")
    return ImportReport(path, source, n_rows, total.inserted, total.updated, total.unchanged, len(rejects),
                        written, time.perf_counter() - started, run_id, duplicates, enc.name if enc else None)


def _stats(n_rows: int, total: UpsertResult, rejects: list[Reject], duplicates: int = 0) -> dict:
    reasons: dict[str, int] = {}
    for r in rejects:
        key = r.reason.split(" '")[0].split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return {"rows": n_rows, "inserted": total.inserted, "updated": total.updated,
            "unchanged": total.unchanged, "duplicates_in_file": duplicates, "rejected": len(rejects),
            "reject_reasons": reasons}


def write_rejects(out: Path, path: Path, rejects: list[Reject]) -> None:
    """Write rejected rows as CSV: file, line, reason, the raw text as it stood in the file, the parsed row."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "line", "reason", "raw", "row"])
        for r in rejects:
            w.writerow([str(path), r.line, r.reason, r.raw_line,
                        json.dumps(r.raw, ensure_ascii=False, default=str) if r.raw else ""])
