"""Helpers the command modules share: query-result writers, taxonomy names, Prefect set-up, peak memory."""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def taxonomy_data() -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Groups and zh/en display names from the taxonomy (models.taxonomy), for trends and findings."""
    from models.taxonomy import load_taxonomy

    tax = load_taxonomy()
    groups = {k: list(v) for k, v in tax.groups.items()}
    names = {c.code: {"zh": c.zh, "en": c.en} for c in tax.categories}
    return groups, names


def prefect_setup() -> None:
    """Prefect state under LABOURWATCH_HOME, analytics off, temporary server patient enough to start."""
    from flows.prefect_env import configure_prefect
    from labourwatch.settings import get_settings

    get_settings().ensure_dirs()
    configure_prefect()
    # Per-request and per-layout-step INFO lines of these libraries would bury the run's own progress.
    for name in ("httpx", "httpcore", "weasyprint", "weasyprint.progress", "fontTools", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _plain(v: Any) -> Any:
    from decimal import Decimal

    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _category_names(lang: str) -> dict[str, str]:
    try:
        from models.taxonomy import load_taxonomy

        tax = load_taxonomy()
    except Exception:  # the table still prints, with codes only
        return {}
    names = {c.code: (c.zh if lang == "zh" else c.en) for c in tax.categories}
    names.update({g: g.replace("_", " ") for g in tax.groups})
    return names


def write_result(result: Any, fmt: str, output: Path | None, lang: str = "en") -> None:
    """Print or save a QueryResult as a table, CSV (UTF-8 with BOM, for Excel), JSON, Parquet or XLSX."""
    import csv
    import io
    import json

    if fmt in ("parquet", "xlsx") and output is None:
        raise ValueError(f"--format {fmt} needs --output FILE")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {c: [_plain(r[i]) for r in result.rows] for i, c in enumerate(result.columns)}
        pq.write_table(pa.table(cols), output)
        console.print(f"{len(result.rows)} rows → {output}", markup=False)
        return
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("query")
        ws.append(list(result.columns))
        for r in result.rows:
            ws.append([_plain(v) for v in r])
        wb.save(output)
        console.print(f"{len(result.rows)} rows → {output}", markup=False)
        return
    if fmt == "table" and output is None:
        names = _category_names(lang) if "category" in result.columns else {}
        from rich import box

        table = Table(show_lines=False, expand=False, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for c in result.columns:
            if c == "category":  # codes stay whole; names and long text wrap
                table.add_column(c, no_wrap=True)
            else:
                table.add_column(c, overflow="fold")
            if c == "category" and names:
                table.add_column("name", overflow="fold")
        for r in result.rows:
            cells: list[str] = []
            for c, v in zip(result.columns, r, strict=True):
                cells.append(_cell(v))
                if c == "category" and names:
                    cells.append(names.get(str(v), ""))
            table.add_row(*cells)
        console.print(table)
        console.print(f"{len(result.rows)} rows")
        return
    buf = io.StringIO()
    if fmt == "json":
        json.dump([{c: _plain(v) for c, v in zip(result.columns, r, strict=True)} for r in result.rows], buf,
                  ensure_ascii=False, indent=1)
        buf.write("\n")
    else:  # csv, or a table written to a file
        w = csv.writer(buf)
        w.writerow(result.columns)
        w.writerows([[_plain(v) for v in r] for r in result.rows])
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        # A BOM lets Excel open the CSV as UTF-8 (Chinese text otherwise turns into mojibake).
        output.write_text(buf.getvalue(), encoding="utf-8-sig" if fmt in ("csv", "table") else "utf-8")
        console.print(f"{len(result.rows)} rows → {output}", markup=False)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (since the last ``reset_peak_rss``), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Linux: restart the peak-RSS counter so a step's peak is its own, not the imports' before it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass
