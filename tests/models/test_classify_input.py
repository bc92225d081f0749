"""`classify --input` reads like `import`: bad rows are rejected alone, bad files get one clear line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def classify(src: Path, out: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["classify", "--input", str(src), "--output", str(out)])


@pytest.mark.parametrize("name,content,needle", [
    ("nocol.csv", "id,name\n1,x\n", "needs columns id and title"),
    ("blob.csv", bytes(range(256)) * 40, "binary file"),
    ("blob.jsonl", bytes(range(256)) * 40, "binary file"),
    ("missing.csv", None, "no such file"),
    ("dir.csv", "DIR", "not a file"),
])
def test_bad_files_are_one_line_errors(fake_settings: Path, tmp_path: Path, name: str, content, needle: str) -> None:  # noqa: ANN001
    """Issue point 10: missing title column, binary file, missing path or a directory printed a traceback."""
    src = tmp_path / name
    if content == "DIR":
        src.mkdir()
    elif isinstance(content, bytes):
        src.write_bytes(content)
    elif content is not None:
        src.write_text(content)
    res = classify(src, tmp_path / "out.csv")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and needle in res.output and str(src) in res.output.replace("\n", "")
    assert len(res.output.strip().splitlines()) == 1, res.output


def test_bad_rows_are_rejected_and_the_rest_classified(fake_settings: Path, tmp_path: Path) -> None:
    """Issue points 4 and 10: a bad JSONL line or a row without id aborted the file; a broken quote swallowed rows."""
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a1", "title": "Java开发工程师"}, ensure_ascii=False),
        '{"id": "a2", "title": ',
        json.dumps({"title": "no id here"}),
        json.dumps({"id": "a4", "title": "Data analyst"}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    res = classify(src, out)
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a1", "a4"]
    rejects = out.with_name("out.jsonl.rejects.csv")
    with rejects.open(encoding="utf-8") as fh:
        got = {r["line"]: (r["reason"], r["raw"]) for r in csv.DictReader(fh)}
    assert got["2"] == ("invalid JSON: Expecting value at column 1", '{"id": "a2", "title": ')
    assert got["3"][0] == "no id"
    assert "2 rows rejected" in res.output

    csv_src = tmp_path / "in.csv"
    csv_src.write_text('id,title\n1,Engineer\n2,Analyst\n3,"Broken\n4,Designer\n5,Sales\n')
    csv_out = tmp_path / "out.csv"
    res = classify(csv_src, csv_out)
    assert res.exit_code == 0, res.output
    with csv_out.open(encoding="utf-8") as fh:
        assert [r["id"] for r in csv.DictReader(fh)] == ["1", "2", "4", "5"]
