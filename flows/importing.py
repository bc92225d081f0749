"""`labourwatch import`: a file of postings into the database, idempotently, with a rejects file."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.migrate import upgrade
from db.repo import PostingIn, UpsertResult, finish_run, start_run, upsert_postings
from db.session import get_engine, session_scope
from labourwatch.settings import get_settings
from scrapers.fileimport import ImportFileError, Reject, iter_rows, map_columns, row_to_posting

BATCH_SIZE = 2000


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

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

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        text = (f"{self.path}: {self.rows} rows → {self.inserted} new, {self.updated} changed, "
                f"{self.unchanged} unchanged, {self.rejected} rejected "
                f"({self.seconds:.1f} s, {rate:,.0f} rows/s) into source {self.source!r}")
        if self.rejects_path:
            text += f"\nrejected rows with reasons: {self.rejects_path}"
        return text


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() == ".xlsx":
        return None
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - (1 if path.suffix.lower() == ".csv" else 0), 0)


def import_file(path: Path, source: str | None = None, rejects_path: Path | None = None,
                progress: bool = False, batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import postings from ``path`` (CSV, JSONL, XLSX) into the configured database.

    Good rows are upserted in batches (re-importing changes nothing but ``last_seen``); bad rows are
    written with file:line and reason to a rejects CSV and never stop the good ones. Raises
    ``ImportFileError`` when the file as a whole cannot be read.
    """
    path = Path(path)
    settings = get_settings()
    settings.ensure_dirs()
    source = source or path.stem
    rows_iter = iter_rows(path)  # generator: errors surface on first next()
    engine = get_engine()
    upgrade(engine)

    started = time.perf_counter()
    rejects: list[Reject] = []
    total = UpsertResult()
    n_rows = 0
    mappings: dict[tuple[str, ...], dict[str, list[str]]] = {}
    with session_scope(engine) as s:
        run_id = start_run(s, source, kind="import", url=str(path)).id

    batch: list[PostingIn] = []

    def flush() -> None:
        nonlocal batch, total
        if batch:
            with session_scope(engine) as s:
                total += upsert_postings(s, batch, crawl_run_id=run_id)
            batch = []

    prog = Progress(TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=not progress, transient=True)
    try:
        with prog:
            task = prog.add_task(path.name, total=_count_lines(path))
            for line, row in rows_iter:
                n_rows += 1
                prog.advance(task)
                if "__error__" in row:
                    rejects.append(Reject(line, row["__error__"], {}))
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
                    batch.append(row_to_posting(row, mapping, source))
                except ValueError as exc:
                    rejects.append(Reject(line, str(exc), row))
                    continue
                if len(batch) >= batch_size:
                    flush()
            flush()
    except BaseException as exc:
        with session_scope(engine) as s:
            finish_run(s, run_id, "failed", _stats(n_rows, total, rejects), error=str(exc))
        raise

    written = None
    if rejects:
        written = rejects_path or settings.home / "rejects" / f"{path.stem}.rejects.csv"
        write_rejects(written, path, rejects)
    status = "succeeded" if total.inserted + total.updated + total.unchanged else "failed"
    with session_scope(engine) as s:
        finish_run(s, run_id, status, _stats(n_rows, total, rejects),
                   error=None if status == "succeeded" else "no row could be imported")
    return ImportReport(path, source, n_rows, total.inserted, total.updated, total.unchanged, len(rejects),
                        written, time.perf_counter() - started, run_id)


def _stats(n_rows: int, total: UpsertResult, rejects: list[Reject]) -> dict:
    reasons: dict[str, int] = {}
    for r in rejects:
        key = r.reason.split(" '")[0].split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return {"rows": n_rows, "inserted": total.inserted, "updated": total.updated,
            "unchanged": total.unchanged, "rejected": len(rejects), "reject_reasons": reasons}


def write_rejects(out: Path, path: Path, rejects: list[Reject]) -> None:
    """Write rejected rows as CSV: file, line, reason, the raw row as JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "line", "reason", "row"])
        for r in rejects:
            w.writerow([str(path), r.line, r.reason, json.dumps(r.raw, ensure_ascii=False, default=str)])
