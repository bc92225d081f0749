"""Audit files: write a drawn sample for analysts (CSV with BOM, or XLSX), read their verdicts back, and
record the demo board's known truth as an audit."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from db.audit import AUDIT_FIELDS, AuditIn, SampleRow, draw_sample, posting_keys, record_audit
from db.session import Engine

# The columns an analyst fills in, beside the predicted ones.
TRUTH_COLUMNS = tuple(f"true_{f}" for f in AUDIT_FIELDS)
EXTRA_COLUMNS = ("auditor", "note")


class AuditFileError(ValueError):
    """An audit file that cannot be read: names the file, the row and what is wrong."""


def sample_columns() -> tuple[str, ...]:
    return (*SampleRow.__dataclass_fields__, *TRUTH_COLUMNS, *EXTRA_COLUMNS)


def write_sample(rows: Sequence[SampleRow], path: Path) -> Path:
    """Write the sample to ``path``: ``.xlsx`` as a workbook, anything else as UTF-8 CSV with a BOM (so
    Excel shows Chinese correctly). The ``true_*`` columns are left empty for the analyst."""
    cols = sample_columns()
    records = [{**asdict(r), **{c: "" for c in (*TRUTH_COLUMNS, *EXTRA_COLUMNS)}} for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "audit"
        ws.append(list(cols))
        for rec in records:
            ws.append([rec[c] for c in cols])
        ws.freeze_panes = "A2"
        wb.save(path)
        return path
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(cols))
        w.writeheader()
        w.writerows(records)
    return path


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise AuditFileError(f"{path}: no such file")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        it = ws.iter_rows(values_only=True)
        header = [str(h or "") for h in next(it, ())]
        return [{h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)} for row in it]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_audit_file(path: Path, auditor: str | None = None, origin: str = "file",
                    known_codes: dict[str, set[str]] | None = None) -> list[AuditIn]:
    """Verdicts from a filled-in sample file: one ``AuditIn`` per non-empty ``true_<field>`` cell.

    ``known_codes`` (field -> codes) rejects a misspelt code with the file, row and the allowed codes.
    Raises ``AuditFileError`` for a missing file, a missing ``posting_id`` column or a bad row.
    """
    rows = _read_rows(path)
    if rows and "posting_id" not in rows[0]:
        raise AuditFileError(f"{path}: no posting_id column; write the file with `labourwatch audit sample`")
    out: list[AuditIn] = []
    for i, row in enumerate(rows, start=2):
        try:
            pid = int(str(row.get("posting_id", "")).strip())
        except ValueError:
            raise AuditFileError(f"{path} row {i}: posting_id {row.get('posting_id')!r} is not a number") from None
        for field in AUDIT_FIELDS:
            truth = str(row.get(f"true_{field}") or "").strip()
            if not truth:
                continue
            if known_codes and field in known_codes and truth not in known_codes[field]:
                raise AuditFileError(f"{path} row {i}: true_{field} {truth!r} is not a known code; use one of "
                                     f"{', '.join(sorted(known_codes[field]))}")
            out.append(AuditIn(pid, field, true_value=truth, predicted=(row.get(field) or None),
                               model_version=row.get("model_version") or None, origin=origin,
                               auditor=(row.get("auditor") or auditor or None), note=row.get("note") or None))
    return out


def record_audit_file(engine: Engine, path: Path, auditor: str | None = None,
                      known_codes: dict[str, set[str]] | None = None) -> int:
    """Read ``path`` and store its verdicts; returns how many were stored."""
    items = read_audit_file(path, auditor=auditor, known_codes=known_codes)
    if not items:
        raise AuditFileError(f"{path}: no verdicts (fill in the true_role_category / true_ai_level / "
                             "true_experience_bucket columns)")
    return record_audit(engine, items)


def record_demo_truth(engine: Engine, truth_csv: Path, n: int = 600, seed: int = 0) -> int:
    """Draw a stratified sample as an analyst would and fill in the demo board's true labels from its
    ``truth_postings.csv``: the audit a careful reader of the demo board would record. Returns verdicts stored.
    """
    if not truth_csv.exists():
        raise AuditFileError(f"{truth_csv}: no such file; `labourwatch demo` writes it under <home>/demo/truth")
    truth: dict[tuple[str, str], dict[str, str]] = {}
    with truth_csv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            truth[(f"demo_{row['style']}", row["external_id"])] = row
    sample = draw_sample(engine, n, seed=seed)
    ext = posting_keys(engine, [r.posting_id for r in sample])
    items = []
    for r in sample:
        t = truth.get(ext.get(r.posting_id, ("", "")))
        if t is None:
            continue
        for field, predicted in (("role_category", r.role_category), ("ai_level", r.ai_level),
                                 ("experience_bucket", r.experience_bucket)):
            items.append(AuditIn(r.posting_id, field, true_value=t[field], predicted=predicted,
                                 model_version=r.model_version, origin="demo_truth", auditor="demo truth"))
    if not items:
        raise AuditFileError(f"{truth_csv}: none of the {len(sample)} sampled postings is in the truth file "
                             "(is this the demo database?)")
    return record_audit(engine, items)
