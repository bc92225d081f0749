"""Evaluation metrics (per-class precision/recall, confusions, calibration), the stored role source, and training
with the analysts' audit labels."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from models.evaluate import calibration, evaluate_field


def test_per_class_precision_recall_and_top_confusions() -> None:
    exp = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    r = evaluate_field("role_category", exp, pred)
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.per_class_recall == pytest.approx({"a": 2 / 3, "b": 1 / 2, "c": 1.0})
    assert r.per_class_precision == pytest.approx({"a": 1.0, "b": 1 / 2, "c": 1 / 2})
    assert r.top_confusions(1) == [("a", "b", 1)] and len(r.top_confusions()) == 2


def test_calibration_figures() -> None:
    # confidence 0.9 right 9 of 10 times, 0.55 right 1 of 2 → ECE ≈ 0.05·(2/12); accuracy at ≥0.8 = 0.9
    correct = [True] * 9 + [False] + [True, False]
    conf = [0.9] * 10 + [0.55, 0.55]
    c = calibration(correct, conf)
    assert c.ece == pytest.approx((2 / 12) * 0.05)
    assert c.accuracy_confident == pytest.approx(0.9) and c.coverage_confident == pytest.approx(10 / 12)
    assert c.n_confident == 10
    overconfident = calibration([False] * 4, [0.95] * 4)
    assert overconfident.ece == pytest.approx(0.95) and overconfident.accuracy_confident == 0.0
    with pytest.raises(ValueError, match="as many"):
        calibration([True], [0.5, 0.6])


def test_evaluate_scores_text_answer_and_calibration(fake_settings: Path, tmp_path: Path) -> None:
    from flows.classify import evaluate_file

    src = tmp_path / "board.csv"
    src.write_text("id,title,board_category,source,expected_role_category\n"
                   "1,Java开发工程师,医疗/护理 > 护士/护理 > 护士,zhaopin,healthcare\n"
                   "2,仓库拣货员,,,supply_chain_repetitive\n", encoding="utf-8")
    _, reports = evaluate_file(src)
    by = {r.field: r for r in reports}
    assert by["role_category"].accuracy == 1.0  # the board decided row 1
    assert by["role_category_text"].accuracy == 0.5  # the title alone says software_dev
    assert by["role_category"].calibration is not None and by["role_category_text"].calibration is not None
    from flows.cli import app

    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["evaluate", "--input", str(src)])
    assert res.exit_code == 0, res.output
    assert "ECE=" in res.output and "precision" in res.output and "top confusions" in res.output


def test_role_source_and_text_answer_are_stored(fake_settings: Path, engine: Engine) -> None:
    from db.labels import labels_for
    from db.repo import PostingIn, store_postings
    from db.session import session_scope
    from flows.classify import classify_pending

    store_postings(engine, [
        PostingIn(source="zhaopin", external_id="1", title="Java开发工程师", board_category="医疗/护理/护士"),
        PostingIn(source="zhaopin", external_id="2", title="Java开发工程师"),
    ])
    r = classify_pending(engine)
    with session_scope(engine) as s:
        got = {(lab.role_category, lab.role_source, lab.role_category_text) for lab in labels_for(s, r.model_version)}
    assert got == {("healthcare", "board", "software_dev"), ("software_dev", "text", "software_dev")}


def _audited(engine: Engine) -> list[int]:
    from db.audit import AuditIn, record_audit
    from db.repo import PostingIn, store_postings

    ids = store_postings(engine, [
        PostingIn(source="t", external_id=str(i), title=t, posted_at=date(2026, 1, 2))
        for i, t in enumerate(["猪场配种员", "高薪诚聘", "Java开发工程师"])]).ids
    record_audit(engine, [
        AuditIn(ids[0], "role_category", true_value="other", predicted="healthcare"),
        AuditIn(ids[1], "role_category", correct=True, predicted="sales_bd"),  # marked right: the prediction counts
        AuditIn(ids[2], "ai_level", true_value="none"),  # another field: not a role example
    ])
    return ids


def test_audited_roles(engine: Engine) -> None:
    from db.labels import audited_roles

    ids = _audited(engine)
    assert [(a.posting_id, a.title, a.role_category) for a in audited_roles(engine)] == [
        (ids[0], "猪场配种员", "other"), (ids[1], "高薪诚聘", "sales_bd")]


def test_train_include_audit_writes_a_separate_version(fake_settings: Path, engine: Engine, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from flows.classify import train_classifier
    from labourwatch.settings import get_settings
    from models import load_classifier

    # a copy of the session's cache: the shared one must keep exactly one artifact
    shutil.copytree(fake_settings, tmp_path / "cache")
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()

    default = load_classifier().model_version
    with pytest.raises(ValueError, match="no role labels"):
        train_classifier(include_audit=True, engine=engine)
    _audited(engine)
    r = train_classifier(include_audit=True, engine=engine)
    assert r.audit_labels == 2 and r.version.startswith(default) and r.version != default
    meta = json.loads((r.path / "config.json").read_text())
    assert meta["training"]["audit_labels"] == 2
    assert load_classifier().model_version == default  # never the default
    monkeypatch.setenv("LABOURWATCH_CLASSIFIER_VERSION", r.version)
    get_settings.cache_clear()
    assert load_classifier().model_version == r.version


def test_train_rejects_audit_codes_outside_the_taxonomy(fake_settings: Path) -> None:
    from labourwatch.settings import get_settings
    from models.train import Exemplar, train

    s = get_settings()
    with pytest.raises(ValueError, match="data_ai"):
        train(s.embedding_model, s.cache_path, audit=[Exemplar("x", None, "data_ai")])


def test_audit_role_agreement_per_version(engine: Engine) -> None:
    from db.labels import LabelRow, audit_role_agreement, write_labels
    from db.session import session_scope

    ids = _audited(engine)  # audited: ids[0] → other, ids[1] → sales_bd

    def label(version: str, codes: list[str]) -> None:
        with session_scope(engine) as s:
            write_labels(s, [LabelRow(pid, version, "1.0", code, 0.9, None, None, "unstated", None, "none", ())
                             for pid, code in zip(ids, codes, strict=True)])

    label("old", ["healthcare", "sales_bd", "software_dev"])
    label("new", ["other", "sales_bd", "software_dev"])
    assert audit_role_agreement(engine, "old") == (1, 2)
    assert audit_role_agreement(engine, "new") == (2, 2)
    assert audit_role_agreement(engine, "never") == (0, 0)
