"""Downloads of every table and chart: CSV (UTF-8 with a BOM, so Excel reads Chinese) and XLSX (openpyxl)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows as a DataFrame with the given column order (every column kept when ``columns`` is None)."""
    df = pd.DataFrame(list(rows))
    if columns is not None:
        df = df.reindex(columns=list(columns))
    return df


def csv_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """CSV encoded UTF-8 with a byte-order mark."""
    return frame(rows, columns).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
               sheet: str = "data") -> bytes:
    """One-sheet XLSX workbook written by openpyxl."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        frame(rows, columns).to_excel(xw, sheet_name=sheet[:31] or "data", index=False)
    return buf.getvalue()
