"""Classifier commands: train, classify (database or file), evaluate."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
app = typer.Typer()


def _print_reports(version: str, reports: list, confusion_csv: Path | None = None) -> None:  # type: ignore[type-arg]
    """Per field: headline figures (accuracy with its 95% interval, macro-F1, calibration of the confidence),
    per-class precision and recall (scikit-learn), then the top confusions; --confusion-csv writes every cell."""
    rows_out = []
    for r in reports:
        lo, hi = r.accuracy_interval
        line = (f"[bold]{r.field}[/bold]  n={r.n}  accuracy={r.accuracy:.3f} (95% CI {lo:.3f}–{hi:.3f})  "
                f"macro-F1={r.macro_f1:.3f}")
        if r.positive_f1 is not None:
            line += f"  F1(true)={r.positive_f1:.3f}"
        console.print(line)
        if r.calibration is not None:
            c = r.calibration
            acc = f"{c.accuracy_confident:.3f}" if c.accuracy_confident is not None else "-"
            console.print(f"  confidence: ECE={c.ece:.3f} ({c.bins} bins)  accuracy at confidence ≥0.8 = {acc} "
                          f"on {c.n_confident} rows (coverage {c.coverage_confident:.1%})")
        table = Table(title=f"{r.field} — {version}")
        for col in ("expected", "n", "correct", "precision", "recall", "F1", "predicted instead (count)"):
            table.add_column(col, justify="left" if col in ("expected", "predicted instead (count)") else "right")
        expected = sorted({e for e, _ in r.confusion})
        for e in expected:
            row = {p: c for (ee, p), c in r.confusion.items() if ee == e}
            n = sum(row.values())
            ok = row.get(e, 0)
            wrong = sorted(((c, p) for p, c in row.items() if p != e), reverse=True)
            table.add_row(e, str(n), str(ok), f"{r.per_class_precision.get(e, 0.0):.2f}",
                          f"{r.per_class_recall.get(e, ok / n):.2f}", f"{r.per_class_f1.get(e, 0.0):.2f}",
                          ", ".join(f"{p} ({c})" for c, p in wrong[:3]))
        console.print(table)
        top = r.top_confusions(10)
        if top:
            console.print("  top confusions (expected → predicted): "
                          + "; ".join(f"{e} → {p} ({c})" for e, p, c in top))
        rows_out += [(r.field, e, p, c) for (e, p), c in sorted(r.confusion.items())]
    if confusion_csv is not None:
        import csv

        with confusion_csv.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(("field", "expected", "predicted", "count"))
            w.writerows(rows_out)
        console.print(f"confusion counts → {confusion_csv}")



@app.command("train")
def train_cmd(
    force: bool = typer.Option(False, "--force", help="Retrain even if this version already exists."),
    include_audit: bool = typer.Option(False, "--include-audit", help="Add the analysts' audited role labels "
                                       "(audit store of the configured database) to the training data; writes "
                                       "a separate version that records how many it saw."),
) -> None:
    """Train the role classifier (shipped exemplars and occupation bank) and the AI context head (shipped
    clauses) into <cache>/classifiers/<version>/."""
    from flows.classify import train_classifier

    if include_audit:  # the audit store is read from the configured database: bring its schema up first
        from db.migrate import upgrade
        from db.session import get_engine

        upgrade(get_engine())
    r = train_classifier(force=force, include_audit=include_audit)
    audit = f", {r.audit_labels} audit labels" if include_audit else ""
    console.print(f"classifier {r.version}: {r.examples} role examples in {r.categories} categories{audit}, "
                  f"{r.context_clauses} AI context clauses, {r.seconds:.1f}s → {r.path}")
    if include_audit:
        console.print(f"use it with LABOURWATCH_CLASSIFIER_VERSION={r.version} or "
                      f"`labourwatch reclassify --model-version {r.version}` (compares it with the current one)")



@app.command("classify")
def classify_cmd(
    input: Path | None = typer.Option(None, "--input", help="CSV/JSONL with id, title, description, "
                                      "experience_text, lang; without it, label the database."),
    output: Path | None = typer.Option(None, "--output", help="Output CSV/JSONL (with --input)."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Postings per batch (database mode)."),
    source: list[str] | None = typer.Option(None, "--source", help="Only postings of this source (database "
                                            "mode; repeatable). Default: every source."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of --input (e.g. gb18030); "
                                        "default detected."),
) -> None:
    """Label postings without a label of the current model version (database), or a file."""
    from flows.classify import UnknownSourceError, classify_file, classify_pending

    if input is not None:
        if output is None:
            raise typer.BadParameter("--output is required with --input", param_hint="--output")
        if source:
            raise typer.BadParameter("--source selects postings in the database; it does not apply to --input",
                                     param_hint="--source")
        try:
            r = classify_file(input, output, encoding=encoding)
        except ValueError as exc:  # the file as a whole: missing, directory, binary, no id/title column
            Console(stderr=True).print(f"labourwatch classify: {exc}", style="red", markup=False,
                                       soft_wrap=True)
            raise typer.Exit(2) from None
        console.print(f"labelled {r.labelled} postings from {input} → {output} with {r.model_version} "
                      f"in {r.seconds:.1f}s", markup=False)
        if r.rejects_path:
            console.print(f"{r.rejected} rows rejected, with reasons: {r.rejects_path}", markup=False)
        if r.labelled == 0:
            raise typer.Exit(1)
        return
    if output is not None:
        raise typer.BadParameter("--output needs --input", param_hint="--output")
    from db.migrate import upgrade
    from db.session import get_engine
    from labourwatch.settings import get_settings

    get_settings().ensure_dirs()
    engine = get_engine()
    upgrade(engine)
    try:
        r = classify_pending(engine, batch_size=batch_size, progress=True, sources=source or None)
    except UnknownSourceError as exc:
        raise typer.BadParameter(str(exc), param_hint="--source") from exc
    console.print(f"labelled {r.labelled} postings with {r.model_version} in {r.seconds:.1f}s "
                  f"({r.per_second:.0f}/s)")



@app.command("evaluate")
def evaluate_cmd(
    input: Path = typer.Option(..., "--input", help="Labelled CSV/JSONL: id, title, description, ... and "
                               "expected_<field> columns (role_category, experience_bucket, ai_level, "
                               "references_ai, requires_3plus_years)."),
    predictions: Path | None = typer.Option(None, "--predictions", help="A `classify --output` file to "
                                            "score instead of classifying the input now."),
    record: bool = typer.Option(False, "--record", help="Store the figures in the evaluations table."),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name when recording; default the "
                                       "file name."),
    confusion_csv: Path | None = typer.Option(None, "--confusion-csv", help="Also write every (expected, "
                                              "predicted, count) cell to this CSV."),
    errors: Path | None = typer.Option(None, "--errors", help="Also write every disagreement to this CSV: "
                                       "field, id, title, expected, predicted, confidence, board_category."),
) -> None:
    """Accuracy, macro-F1 and a confusion table for every expected_* column of a labelled file."""
    from flows.classify import ERROR_COLUMNS, evaluate_file

    wrong: list[dict[str, str]] | None = [] if errors is not None else None
    version, reports = evaluate_file(input, predictions, errors=wrong)
    _print_reports(version, reports, confusion_csv)
    if errors is not None and wrong is not None:
        import csv

        errors.parent.mkdir(parents=True, exist_ok=True)
        with errors.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=ERROR_COLUMNS)
            w.writeheader()
            w.writerows(wrong)
        console.print(f"wrote {len(wrong)} disagreement{'' if len(wrong) == 1 else 's'} to {errors}")
    if record:
        from db.labels import record_evaluation
        from db.migrate import upgrade
        from db.session import get_engine

        engine = get_engine()
        upgrade(engine)
        n = record_evaluation(engine, version, dataset or input.name,
                              [f for r in reports for f in r.figures()])
        console.print(f"recorded {n} figures for {version} on {dataset or input.name}")
