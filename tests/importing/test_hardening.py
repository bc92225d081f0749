"""Bad input loses nothing: every row read is accounted for, bad rows are rejected alone (both backends)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from db import schema
from db.session import get_engine, session_scope
from flows.cli import app
from flows.importing import ImportReport, import_file
from scrapers.fileimport import ImportFileError

runner = CliRunner()
HEADER = "id,title,company,city,posted_at,description\n"


def rows(n: int, start: int = 1, posted: str = "2026-03-02") -> str:
    return "".join(f"{i},Engineer {i},Acme,Shanghai,{posted},Builds things {i}\n" for i in range(start, start + n))


def stored(engine) -> dict[str, schema.Posting]:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return {p.external_id: p for p in s.scalars(select(schema.Posting))}


def rejects_of(report: ImportReport) -> list[dict[str, str]]:
    assert report.rejects_path is not None
    with report.rejects_path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def assert_accounted(r: ImportReport) -> None:
    assert r.inserted + r.updated + r.unchanged + r.duplicates + r.rejected == r.rows, r.summary()


def test_unterminated_quote_rejects_one_row_and_keeps_the_rest(tmp_path: Path, db_url: str) -> None:
    """Issue point 4: one unterminated quote in row 3 of 6 swallowed rows 4-6 silently."""
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + rows(2) + '3,"Broken title,Acme,Shanghai,2026-03-02,x\n' + rows(3, start=4))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (6, 5, 1)
    assert_accounted(r)
    assert sorted(stored(get_engine())) == ["1", "2", "4", "5", "6"]
    (rej,) = rejects_of(r)
    assert rej["line"] == "4" and "unterminated quoted field" in rej["reason"]
    assert rej["raw"] == '3,"Broken title,Acme,Shanghai,2026-03-02,x'


def test_quote_that_closes_rows_later_does_not_swallow_them(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "quote2.csv"
    path.write_text(HEADER + rows(1) + '2,"Broken,Acme,Shanghai,2026-03-02,x\n' + rows(2, start=3)
                    + '5,Fine,Acme,Shanghai,2026-03-02,"ends" here\n' + rows(1, start=6))
    r = import_file(path, source="b")
    assert_accounted(r)
    assert {"1", "3", "4", "6"} <= set(stored(get_engine()))
    assert r.rejected >= 1 and r.inserted >= 4


def test_legit_multiline_quoted_field_still_imports(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(HEADER + '1,Engineer,Acme,Shanghai,2026-03-02,"line one\nline ""two""\nline three"\n' + rows(1, 2))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (2, 2, 0)
    assert stored(get_engine())["1"].description == 'line one\nline "two"\nline three'


def test_nul_byte_rejects_its_row_and_every_other_row_is_stored(tmp_path: Path, db_url: str) -> None:
    """Issue point 5: a NUL byte crashed PostgreSQL half way with 2,000 rows committed and the rest lost."""
    body = rows(2300) + "2301,Bad\x00title,Acme,Shanghai,2026-03-02,x\n" + rows(699, start=2302)
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + body)
    jpath = tmp_path / "nul.jsonl"
    jpath.write_text(json.dumps({"id": "j1", "title": "ok"}) + "\n" + json.dumps({"id": "j2", "title": "a\u0000b"})
                     + "\n")
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (3000, 2999, 1)
    assert rejects_of(r)[0]["line"] == "2302" and "NUL byte" in rejects_of(r)[0]["reason"]
    rj = import_file(jpath, source="j")
    assert (rj.inserted, rj.rejected) == (1, 1)
    with get_engine().connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one() == 3000


def test_a_batch_the_database_refuses_is_never_half_written(tmp_path: Path, db_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch is one transaction; a refused batch is stored row by row and only the bad row is lost."""
    from sqlalchemy.exc import DataError

    import db.repo as repo

    real = repo.upsert_postings

    def picky(session, postings, crawl_run_id=None):  # type: ignore[no-untyped-def]
        res = real(session, postings, crawl_run_id=crawl_run_id)  # writes inside the batch's transaction ...
        if any(p.external_id == "25" for p in postings):
            raise DataError("INSERT", {}, Exception("value refused"))  # ... then the batch fails
        return res

    monkeypatch.setattr(repo, "upsert_postings", picky)
    path = tmp_path / "batch.csv"
    path.write_text(HEADER + rows(60))
    r = import_file(path, source="b", batch_size=20)
    assert (r.inserted, r.rejected) == (59, 1)
    assert_accounted(r)
    assert "25" not in stored(get_engine()) and len(stored(get_engine())) == 59
    assert "refused by the database: value refused" in rejects_of(r)[0]["reason"]


def test_oversized_field_rejects_only_its_row(tmp_path: Path, db_url: str) -> None:
    """Issue point 6: a 5 MB description refused the whole file."""
    path = tmp_path / "big.csv"
    path.write_text(HEADER + rows(1) + "2,Big,Acme,Shanghai,2026-03-02," + "x" * 5_000_000 + "\n" + rows(1, 3))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (3, 2, 1)
    assert "5,000,000 characters" in rejects_of(r)[0]["reason"]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_undecodable_bytes_reject_their_lines_only(tmp_path: Path, db_url: str, encoding: str) -> None:
    """Issue point 6: two invalid bytes in a GBK/UTF-8 file refused the whole file."""
    lines = [f"{i},Java开发工程师{i},上海某某科技有限公司,上海,2026-03-02,负责后端服务开发与维护\n" for i in range(1, 41)]
    data = bytearray(HEADER.encode(encoding) + "".join(lines).encode(encoding))
    pos = data.index(b"\n7,Java") + 1
    data[pos + 6:pos + 6] = b"\xff\xff"  # two bytes invalid in both encodings, in row 7
    path = tmp_path / f"bad-{encoding}.csv"
    path.write_bytes(bytes(data))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (40, 39, 1), r.summary()
    rej = rejects_of(r)[0]
    assert rej["line"] == "8" and "undecodable" in rej["reason"] and "\\xff\\xff" in rej["raw"]
    assert stored(get_engine())["8"].title == "Java开发工程师8"


def test_uncertain_encoding_is_refused_and_encoding_option_decodes(tmp_path: Path, db_url: str) -> None:
    """Issue point 6: a cp1252 file was decoded wrongly without a word ("São Paulo" -> "Săo Paulo")."""
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "1,Engenheiro,Acme,São Paulo,2026-03-02,Descrição\n").encode("cp1252"))
    with pytest.raises(ImportFileError, match=r"latin\.csv: .*--encoding"):
        import_file(path, source="b")
    short = tmp_path / "short.csv"  # one 'ã' is also a valid (rare) GB18030 pair: must not be read as Chinese
    short.write_bytes("id,title,city\n1,Eng,São Paulo\n".encode("cp1252"))
    with pytest.raises(ImportFileError, match=r"short\.csv: .*uncertain"):
        import_file(short, source="b")
    res = runner.invoke(app, ["import", str(path), "--source", "b"])
    assert res.exit_code == 2 and "--encoding" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["import", str(path), "--source", "b", "--encoding", "cp1252"])
    assert res.exit_code == 0, res.output
    assert stored(get_engine())["1"].city == "São Paulo"


def test_impossible_dates_are_rejected_and_undated_rows_counted_by_first_seen(tmp_path: Path, db_url: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 7: 2099-01-01, 9999-12-31 and 1899-12-31 were imported."""
    path = tmp_path / "dates.csv"
    path.write_text(HEADER + rows(1) + rows(1, 2, posted="2099-01-01") + rows(1, 3, posted="9999-12-31")
                    + rows(1, 4, posted="1899-12-31") + rows(1, 5, posted=""))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (5, 2, 3)
    reasons = {x["line"]: x["reason"] for x in rejects_of(r)}
    assert "after the import time" in reasons["3"] and "after the import time" in reasons["4"]
    assert "before 2000-01-01" in reasons["5"]
    undated = stored(get_engine())["5"]
    today = datetime.now(UTC).date()
    assert undated.posted_at is None and undated.posted_month == today.strftime("%Y-%m")
    # The floor is a setting.
    monkeypatch.setenv("LABOURWATCH_DATE_FLOOR", "2026-03-03")
    from labourwatch.settings import get_settings

    get_settings.cache_clear()
    r2 = import_file(path, source="b2")
    assert r2.inserted == 1 and "before 2026-03-03" in rejects_of(r2)[0]["reason"]
    assert date(2026, 3, 2) < date(2026, 3, 3)


def test_duplicate_ids_in_one_file_are_counted(tmp_path: Path, db_url: str) -> None:
    """Issue point 8: '6 rows -> 3 new, 0 changed, 0 unchanged, 0 rejected' left 3 rows unaccounted for."""
    path = tmp_path / "dups.csv"
    path.write_text(HEADER + rows(3) + rows(3))
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.duplicates, r.rejected) == (6, 3, 3, 0)
    assert "3 duplicate in file" in r.summary()
    assert_accounted(r)


def test_invalid_jsonl_lines_keep_their_raw_text(tmp_path: Path, db_url: str) -> None:
    """Issue point 11: rejects of invalid JSONL lines stored {} instead of the line."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "title": "ok"}\n{"id": "2", "title": \n[1, 2]\n')
    r = import_file(path, source="b")
    assert (r.rows, r.inserted, r.rejected) == (3, 1, 2)
    raws = {x["line"]: x["raw"] for x in rejects_of(r)}
    assert raws == {"2": '{"id": "2", "title": ', "3": "[1, 2]"}


def test_binary_directory_and_missing_files_are_one_line_errors(tmp_path: Path, db_url: str) -> None:
    binary = tmp_path / "blob.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    for target, expected in ((binary, "binary file"), (tmp_path, "not a file"), (tmp_path / "no.csv", "no such")):
        res = runner.invoke(app, ["import", str(target)])
        assert res.exit_code == 2 and expected in res.output and "Traceback" not in res.output, res.output
        assert str(target) in res.output.replace("\n", "")


def test_parallel_imports_do_not_both_claim_the_same_rows(tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    """Issue point 11: parallel runs each reported the full count as their own work."""
    import subprocess
    import sys

    path = tmp_path / "par.csv"
    path.write_text(HEADER + rows(6000))
    code = ("import sys, json; from flows.importing import import_file; r = import_file(sys.argv[1], "
            "source='par', batch_size=500); print(json.dumps([r.inserted, r.unchanged, r.rows]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert sum(o[0] for o in outs) == 6000, outs
    assert all(o[0] + o[1] == 6000 for o in outs), outs


def test_crawled_postings_with_impossible_dates_lose_the_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue point 7 for crawls: the crawl validator clears dates beyond the same limits."""
    from scrapers.items import Posting
    from scrapers.pipelines.validate import check_posting

    fields = {f: None for f in Posting.__dataclass_fields__}
    base = Posting(**{**fields, "source": "s", "external_id": "1", "title": "t", "url": "http://x/1"})
    from dataclasses import replace

    for d, cleared in ((date(1899, 12, 31), True), (date(9999, 12, 31), True), (date(2026, 3, 2), False)):
        cleaned, required, optional = check_posting(replace(base, posted_at=d))
        assert (cleaned.posted_at is None) == cleared and ("posted_at" in optional) == cleared
        assert not required
