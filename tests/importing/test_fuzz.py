"""Fuzzing the CSV/JSONL importer: for any generated file the counts add up and nothing is half-written."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.migrate import upgrade
from db.session import get_engine
from flows.importing import import_file
from labourwatch.settings import get_settings
from scrapers.fileimport import ImportFileError

# Pieces that break parsers: quotes, separators, line ends, NUL, invalid bytes, CJK, long runs.
_ATOMS = st.sampled_from(['"', ",", "\n", "\r\n", "\x00", "职位", "São", "\\", "{", "}", "[", "]", ":", " ",
                          "2026-03-02", "9999-12-31", "x" * 300])
_CELL = st.lists(st.one_of(_ATOMS, st.text(max_size=8)), max_size=6).map("".join)
_BAD_BYTES = st.sampled_from([b"", b"", b"", b"\xff", b"\xc3", b"\x80\x80", b"\x00"])


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.sampled_from(["id,title,city,posted_at", "title,company", "id,title"]))
    ncol = header.count(",") + 1
    lines = [header]
    for _ in range(draw(st.integers(0, 12))):
        cells = [draw(_CELL) for _ in range(draw(st.integers(ncol - 1, ncol + 1)))]
        if draw(st.booleans()):
            cells = ['"' + c.replace('"', '""') + '"' if draw(st.booleans()) else c for c in cells]
        lines.append(",".join(cells))
    data = "\n".join(lines).encode("utf-8") + b"\n"
    cut = draw(st.integers(len(header) + 1, max(len(data), len(header) + 1)))
    return data[:cut] + draw(_BAD_BYTES) + data[cut:]


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    out = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            obj = {"id": draw(st.one_of(st.text(max_size=4), st.integers(0, 5))), "title": draw(_CELL),
                   "posted_at": draw(st.sampled_from(["", "2026-03-02", "1899-12-31", "soon"]))}
            out.append(json.dumps(obj, ensure_ascii=draw(st.booleans())).encode())
        elif kind == 1:
            out.append(draw(_CELL).encode("utf-8"))
        elif kind == 2:
            out.append(json.dumps(draw(st.lists(st.integers(), max_size=3))).encode())
        else:
            out.append(json.dumps({"title": draw(_CELL)}).encode() + draw(_BAD_BYTES))
    return b"\n".join(out) + b"\n"


def _fuzz(data: bytes, suffix: str) -> None:
    engine = get_engine()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        with engine.connect() as c:
            before = c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one()
        try:
            r = import_file(path, source="fuzz", rejects_path=Path(tmp) / "rejects.csv", batch_size=4)
        except ImportFileError as exc:
            assert str(path) in str(exc)  # a whole-file refusal names the file and writes nothing
            with engine.connect() as c:
                assert c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one() == before
            return
        assert r.inserted + r.updated + r.unchanged + r.duplicates + r.rejected == r.rows, r.summary()
        with engine.connect() as c:
            after = c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one()
            assert after - before == r.inserted  # exactly the new rows, no half batch
            (status,) = c.execute(text("SELECT status FROM crawl_runs WHERE id = :i"), {"i": r.run_id}).one()
        assert status in ("succeeded", "failed")
        if r.rejected:
            assert r.rejects_path is not None
            lines = r.rejects_path.read_text(encoding="utf-8")
            assert lines.count("\n") >= r.rejected  # every reject is written (a raw value may span lines)


@pytest.fixture
def fuzz_db(lw_home: Path) -> None:
    get_settings.cache_clear()
    upgrade(get_engine())


_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=csv_files())
def test_fuzz_csv_import_accounts_for_every_row(fuzz_db: None, data: bytes) -> None:
    _fuzz(data, ".csv")


@_SETTINGS
@given(data=jsonl_files())
def test_fuzz_jsonl_import_accounts_for_every_row(fuzz_db: None, data: bytes) -> None:
    _fuzz(data, ".jsonl")
