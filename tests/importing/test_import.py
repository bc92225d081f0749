"""`labourwatch import`: encodings, formats, rejects, idempotency and concurrent writers."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from db import schema
from db.session import get_engine, session_scope
from flows.cli import app
from flows.importing import import_file
from scrapers.fileimport import ImportFileError

ROWS = [
    {"职位名称": "Java开发工程师", "公司名称": "上海云启信息技术有限公司", "工作地点": "上海", "工作经验": "3-5年",
     "学历": "本科", "薪资": "15-25K·13薪", "发布时间": "2026-03-02", "岗位职责": "负责后端服务开发。",
     "任职要求": "3年以上Java开发经验。"},
    {"职位名称": "仓库管理员", "公司名称": "苏州顺达物流有限公司", "工作地点": "苏州", "工作经验": "经验不限",
     "学历": "高中", "薪资": "5-7K", "发布时间": "2026/03/09", "岗位职责": "负责出入库登记。", "任职要求": ""},
    {"职位名称": "", "公司名称": "无名公司", "工作地点": "广州", "工作经验": "1-3年", "学历": "本科",
     "薪资": "10-15K", "发布时间": "2026-03-12", "岗位职责": "缺少职位名称。", "任职要求": ""},
    {"职位名称": "销售顾问", "公司名称": "广州房联置业有限公司", "工作地点": "广州", "工作经验": "1年以下",
     "学历": "大专", "薪资": "6-10K", "发布时间": "三月某天", "岗位职责": "客户接待。", "任职要求": ""},
]


def _write_csv(path: Path, rows: list[dict], encoding: str) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _postings(engine) -> list[schema.Posting]:
    with session_scope(engine) as s:
        return list(s.scalars(select(schema.Posting).order_by(schema.Posting.id)))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_import_detects_encoding(tmp_path: Path, db_url: str, encoding: str) -> None:
    path = _write_csv(tmp_path / f"jobs-{encoding}.csv", ROWS, encoding)
    report = import_file(path, source="board")
    assert (report.rows, report.inserted, report.rejected) == (4, 2, 2)
    titles = [p.title for p in _postings(get_engine())]
    assert titles == ["Java开发工程师", "仓库管理员"]


def test_import_maps_chinese_columns_and_concatenates_descriptions(tmp_path: Path, db_url: str) -> None:
    import_file(_write_csv(tmp_path / "jobs.csv", ROWS, "utf-8"), source="board")
    p = _postings(get_engine())[0]
    assert (p.company, p.city, p.experience_text, p.education_text, p.salary_text, p.lang) == (
        "上海云启信息技术有限公司", "上海", "3-5年", "本科", "15-25K·13薪", "zh")
    assert p.description == "负责后端服务开发。\n3年以上Java开发经验。"
    assert str(p.posted_at) == "2026-03-02"
    assert (p.salary_min, p.salary_max, p.salary_period, p.salary_currency) == (15000, 25000, "month", "CNY")


def test_reimport_is_idempotent_and_updates_last_seen(tmp_path: Path, db_url: str) -> None:
    path = _write_csv(tmp_path / "jobs.csv", ROWS, "utf-8")
    import_file(path, source="board")
    before = {p.external_id: p.last_seen for p in _postings(get_engine())}
    again = import_file(path, source="board")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    after = {p.external_id: p.last_seen for p in _postings(get_engine())}
    assert after.keys() == before.keys()
    assert all(after[k] > before[k] for k in before)


def test_rejects_file_names_line_and_reason(tmp_path: Path, db_url: str) -> None:
    path = _write_csv(tmp_path / "jobs.csv", ROWS, "utf-8")
    report = import_file(path, source="board", rejects_path=tmp_path / "rejects.csv")
    with (tmp_path / "rejects.csv").open(encoding="utf-8") as fh:
        rejects = list(csv.DictReader(fh))
    assert report.rejects_path == tmp_path / "rejects.csv"
    assert [(r["line"], r["reason"]) for r in rejects] == [
        ("4", "missing title"), ("5", "unparseable date '三月某天'")]
    assert rejects[0]["file"] == str(path)
    assert json.loads(rejects[1]["row"])["职位名称"] == "销售顾问"


def test_jsonl_with_english_columns_bad_lines_and_wrong_types(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "jobs.jsonl"
    lines = [
        json.dumps({"id": "a1", "title": "Senior Data Analyst", "company": "Northwind", "location": "London",
                    "description": "Requirements: at least five years of SQL.", "date_posted": "2026-03-12T09:00:00Z"}),
        "{not json",
        json.dumps({"id": "a2", "title": ["not", "text"]}),
        json.dumps({"id": 17, "job_title": "QA Engineer", "posted_at": "2026-04-01"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_file(path, source="uk")
    assert (report.inserted, report.rejected) == (2, 2)
    ps = _postings(get_engine())
    assert [(p.external_id, p.lang, str(p.posted_at)) for p in ps] == [("a1", "en", "2026-03-12"),
                                                                     ("17", "en", "2026-04-01")]


def test_xlsx(tmp_path: Path, db_url: str) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["岗位名称", "公司名称", "城市", "发布日期", "职位ID"])
    ws.append(["平面设计/美工", "杭州知衣", "杭州", datetime(2026, 3, 5), 1001])
    ws.append([None, None, None, None, None])
    ws.append(["分拣员", "顺丰", "深圳", "2026-03-06", 1002])
    wb.save(tmp_path / "jobs.xlsx")
    report = import_file(tmp_path / "jobs.xlsx", source="xl")
    assert report.inserted == 2
    assert [(p.external_id, str(p.posted_at)) for p in _postings(get_engine())] == [
        ("1001", "2026-03-05"), ("1002", "2026-03-06")]


def test_unreadable_inputs_raise_naming_the_file(tmp_path: Path, db_url: str) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        import_file(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ImportFileError, match=r"x\.txt: unsupported file type"):
        import_file(tmp_path / "x.txt")
    (tmp_path / "cols.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(ImportFileError, match="no title column; found foo, bar"):
        import_file(tmp_path / "cols.csv")


def test_cli_exit_codes(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    good = _write_csv(tmp_path / "jobs.csv", ROWS, "utf-8")
    ok = runner.invoke(app, ["import", str(good), "--source", "board"])
    assert ok.exit_code == 0, ok.output
    assert "2 new" in ok.output and "2 rejected" in ok.output
    bad_rows = _write_csv(tmp_path / "bad.csv", [ROWS[2]], "utf-8")
    assert runner.invoke(app, ["import", str(bad_rows)]).exit_code == 1
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.output


@pytest.mark.pg
def test_concurrent_imports_of_overlapping_files_do_not_duplicate(tmp_path: Path, pg_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"id": str(i), "title": f"Engineer {i}", "company": "Acme", "posted_at": "2026-03-01"}
            for i in range(3000)]
    _write_csv(tmp_path / "a.csv", rows[:2000], "utf-8")
    _write_csv(tmp_path / "b.csv", rows[1000:], "utf-8")
    env = {"LABOURWATCH_DB_URL": pg_url, "LABOURWATCH_HOME": str(tmp_path / "home")}
    from db.migrate import upgrade

    monkeypatch.setenv("LABOURWATCH_DB_URL", pg_url)
    upgrade(get_engine(pg_url))
    import os

    procs = [subprocess.Popen([sys.executable, "-m", "flows.cli", "import", str(tmp_path / f), "--source", "s"],
                              env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for f in ("a.csv", "b.csv")]
    for p in procs:
        out = p.communicate(timeout=120)[0].decode()
        assert p.returncode == 0, out
    with session_scope(get_engine(pg_url)) as s:
        assert s.scalar(select(func.count()).select_from(schema.Posting)) == 3000
        assert s.scalar(select(func.count(func.distinct(schema.Posting.external_id)))) == 3000
        assert s.scalar(select(func.count()).select_from(schema.Source)) == 1
