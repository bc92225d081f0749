"""Classification wiring: the API, file mode (exact columns), evaluate, and database labelling."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from flows.classify import OUTPUT_COLUMNS, classify_pending, evaluate_file
from models import Labels, PostingText

INPUT = [
    {"id": "a1", "title": "高级Java开发工程师（北京）", "description": "任职要求：3-5年Java开发经验，熟悉深度学习者优先",
     "experience_text": "", "lang": "zh"},
    {"id": "a2", "title": "平面设计师", "description": "熟练使用PS、AI、CDR等设计软件；经验不限", "experience_text": "",
     "lang": "zh"},
    {"id": "a3", "title": "Warehouse Operative", "description": "Pick and pack orders. Entry level, no experience required.",
     "experience_text": "", "lang": "en"},
    {"id": "a4", "title": "电商客服", "description": "", "experience_text": "1-3年", "lang": "zh"},
]


def test_api_accepts_one_or_many(classifier) -> None:  # type: ignore[no-untyped-def]
    one = classifier.classify(PostingText("x", "平面设计师", "熟练使用PS、AI、CDR"))
    assert isinstance(one, Labels)
    assert (one.role_category, one.ai_level, one.experience_bucket) == ("design_basic", "none", "unstated")
    many = classifier.classify([PostingText(r["id"], r["title"], r["description"]) for r in INPUT])
    assert len(many) == 4 and all(0 <= lab.role_confidence <= 1 for lab in many)
    assert classifier.classify([]) == []
    assert classifier.model_version.startswith("roles-t") and classifier.taxonomy_version


def test_posting_text_needs_a_title() -> None:
    with pytest.raises(ValueError, match="title is empty"):
        PostingText(1, "  ")


def _write_csv(path: Path, rows: list[dict[str, str]], extra: tuple[str, ...] = ()) -> None:
    cols = ("id", "title", "description", "experience_text", "lang", *extra)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def test_file_mode_csv_columns_and_values(fake_settings: Path, tmp_path: Path) -> None:
    from flows.cli import app

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, INPUT)
    res = CliRunner().invoke(app, ["classify", "--input", str(src), "--output", str(out)])
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == OUTPUT_COLUMNS
        rows = {r["id"]: r for r in reader}
    assert list(rows) == ["a1", "a2", "a3", "a4"]
    a1 = rows["a1"]
    assert (a1["role_category"], a1["experience_min_years"], a1["experience_max_years"], a1["experience_bucket"],
            a1["requires_3plus_years"], a1["ai_level"]) == ("software_dev", "3.0", "5.0", "3_5", "true", "ai_skills")
    assert json.loads(a1["ai_terms"]) == ["深度学习"]
    assert (rows["a2"]["ai_level"], rows["a2"]["ai_terms"], rows["a2"]["experience_bucket"]) == ("none", "[]", "none")
    assert rows["a3"]["role_category"] == "supply_chain_repetitive" and rows["a3"]["experience_min_years"] == "0.0"
    # the board's field is used when given; unstated leaves the numbers empty
    assert (rows["a4"]["experience_bucket"], rows["a4"]["requires_3plus_years"]) == ("1_3", "false")


def test_file_mode_jsonl(fake_settings: Path, tmp_path: Path) -> None:
    from flows.classify import classify_file

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(json.dumps({"id": r["id"], "title": r["title"]}, ensure_ascii=False) for r in INPUT))
    report = classify_file(src, out)
    assert report.labelled == 4
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [tuple(r) for r in rows] == [OUTPUT_COLUMNS] * 4
    assert rows[0]["requires_3plus_years"] is None and rows[0]["ai_terms"] == []


def test_file_mode_names_bad_input(fake_settings: Path, tmp_path: Path) -> None:
    from flows.classify import classify_file

    bad = tmp_path / "bad.csv"
    bad.write_text("name,text\nx,y\n")
    with pytest.raises(ValueError, match="needs columns id and title"):
        classify_file(bad, tmp_path / "o.csv")
    missing = tmp_path / "missing.csv"
    missing.write_text("id,title\n1,\n")
    report = classify_file(missing, tmp_path / "o.csv")  # the row is rejected with its line, not the file
    assert (report.labelled, report.rejected) == (0, 1)
    assert report.rejects_path is not None and ",2,no title," in report.rejects_path.read_text()


def test_evaluate_reports_per_expected_column(fake_settings: Path, tmp_path: Path) -> None:
    src = tmp_path / "labelled.csv"
    rows = [dict(r, expected_role_category=c, expected_experience_bucket=b, expected_references_ai=a)
            for r, c, b, a in zip(INPUT, ["software_dev", "design_basic", "sales_bd", "customer_service"],
                                  ["3_5", "none", "none", "1_3"], ["true", "false", "false", ""], strict=True)]
    _write_csv(src, rows, ("expected_role_category", "expected_experience_bucket", "expected_references_ai"))
    _version, reports = evaluate_file(src)
    by = {r.field: r for r in reports}
    assert set(by) == {"role_category", "experience_bucket", "references_ai"}
    assert by["role_category"].n == 4 and by["role_category"].accuracy == pytest.approx(0.75)
    assert by["role_category"].confusion[("sales_bd", "supply_chain_repetitive")] == 1
    assert by["experience_bucket"].accuracy == 1.0
    assert by["references_ai"].n == 3 and by["references_ai"].positive_f1 == 1.0


def test_evaluate_cli_records(fake_settings: Path, tmp_path: Path) -> None:
    from flows.cli import app

    src = tmp_path / "labelled.csv"
    _write_csv(src, [dict(INPUT[1], expected_ai_level="none")], ("expected_ai_level",))
    res = CliRunner().invoke(app, ["evaluate", "--input", str(src), "--record", "--dataset", "golden"])
    assert res.exit_code == 0, res.output
    assert "ai_level" in res.output and "recorded 2 figures" in res.output


def test_evaluate_cli_prints_intervals(fake_settings: Path, tmp_path: Path) -> None:
    from flows.cli import app

    src = tmp_path / "labelled.csv"
    _write_csv(src, [dict(r, expected_ai_level="none") for r in INPUT], ("expected_ai_level",))
    res = CliRunner().invoke(app, ["evaluate", "--input", str(src)])
    assert res.exit_code == 0, res.output
    assert "95% CI" in res.output


def test_train_cli_reports_both_heads(fake_settings: Path) -> None:
    from flows.cli import app

    res = CliRunner().invoke(app, ["train"])
    assert res.exit_code == 0, res.output
    from models.ai_context import load_contexts

    assert "AI context clauses" in res.output
    version = res.output.split("classifier ", 1)[1].split(":", 1)[0]
    folder = fake_settings / "classifiers" / version
    assert (folder / "head.joblib").exists() and (folder / "ai_context.joblib").exists()
    meta = json.loads((folder / "config.json").read_text())
    assert meta["training"]["ai_context_clauses"] == len(load_contexts()[0])


def test_classify_pending_for_named_sources(fake_settings: Path, engine: Engine) -> None:
    from db.repo import PostingIn, store_postings
    from flows.cli import app

    store_postings(engine, [PostingIn(source="a" if i % 2 else "b", external_id=r["id"], title=r["title"],
                                      description=r["description"] or None, lang=r["lang"])
                            for i, r in enumerate(INPUT)])
    only_a = classify_pending(engine, batch_size=1, sources=["a"])
    assert only_a.labelled == 2
    assert classify_pending(engine, sources=["a"]).labelled == 0  # a is done
    assert classify_pending(engine, sources=["a", "b"]).labelled == 2  # b was left for later
    with pytest.raises(ValueError, match="unknown source.*nope"):
        classify_pending(engine, sources=["a", "nope"])
    res = CliRunner().invoke(app, ["classify", "--source", "nope"])
    assert res.exit_code == 2 and "nope" in res.output and "--source" in res.output


def test_classify_pending_labels_each_posting_once(fake_settings: Path, engine: Engine) -> None:
    from db.labels import labels_for
    from db.repo import PostingIn, store_postings
    from db.session import session_scope

    store_postings(engine, [PostingIn(source="t", external_id=r["id"], title=r["title"],
                                      description=r["description"] or None, lang=r["lang"],
                                      experience_text=r["experience_text"] or None) for r in INPUT])
    first = classify_pending(engine, batch_size=3)
    assert first.labelled == 4
    again = classify_pending(engine, batch_size=3)
    assert again.labelled == 0 and again.model_version == first.model_version
    with session_scope(engine) as s:
        labels = labels_for(s, first.model_version)
        got = {(lab.role_category, lab.experience_bucket, lab.ai_level, tuple(lab.ai_terms)) for lab in labels}
        assert len(labels) == 4 and all(lab.taxonomy_version for lab in labels)
    assert ("software_dev", "3_5", "ai_skills", ("深度学习",)) in got
    assert ("customer_service", "1_3", "none", ()) in got


def test_evaluate_cli_writes_every_disagreement(fake_settings: Path, tmp_path: Path) -> None:
    """--errors lists each row the classifier got wrong, per field, with what it said instead."""
    import csv

    from flows.cli import app

    src = tmp_path / "labelled.csv"
    rows = [dict(r, expected_role_category=c) for r, c in
            zip(INPUT, ["software_dev", "design_basic", "sales_bd", "customer_service"], strict=True)]
    _write_csv(src, rows, ("expected_role_category",))
    out = tmp_path / "errors" / "wrong.csv"
    res = CliRunner().invoke(app, ["evaluate", "--input", str(src), "--errors", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 1 disagreement to" in res.output
    wrong = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(w["field"], w["expected"], w["predicted"]) for w in wrong] == [
        ("role_category", "sales_bd", "supply_chain_repetitive")]
    assert wrong[0]["id"] == str(rows[2]["id"]) and wrong[0]["title"] == rows[2]["title"]
    assert 0.0 <= float(wrong[0]["confidence"]) <= 1.0
