"""`labourwatch audit sample | record | record-demo-truth | report`: audit the classifier against analysts'
labels, and the role-category shares corrected for the measured error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from db.audit import CategoryAdjustment

console = Console()
app = typer.Typer(help="Audit the classifier: draw a sample, record analysts' labels, measure accuracy.",
                  no_args_is_help=True)


def _fail(msg: str) -> typer.Exit:
    console.print(msg, style="red", markup=False, highlight=False)
    return typer.Exit(2)


def _known_codes() -> dict[str, set[str]]:
    """Codes a recorded audit may use: the taxonomy's role categories, the AI levels, the experience buckets."""
    from models.ai_mentions import LEVEL_RANK
    from models.taxonomy import load_taxonomy

    return {"role_category": set(load_taxonomy().codes), "ai_level": set(LEVEL_RANK),
            "experience_bucket": {"none", "lt1", "1_3", "3_5", "5_10", "10_plus", "unstated"}}


@app.command("sample")
def audit_sample(
    output: Path = typer.Option(..., "--output", "-o", help="File to write: .xlsx or .csv (UTF-8 with BOM)."),
    n: int = typer.Option(400, "--n", help="About how many postings to draw."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same seed draws the same sample)."),
    country: str | None = typer.Option(None, "--country", help="Only this market (ISO code)."),
    model_version: str | None = typer.Option(None, "--model-version", help="Labels to audit; default the newest."),
) -> None:
    """Draw a sample stratified by predicted category and country, for analysts to label."""
    from db.audit import draw_sample
    from db.migrate import upgrade
    from db.session import get_engine
    from flows.audit import write_sample

    engine = get_engine()
    upgrade(engine)
    try:
        rows = draw_sample(engine, n, model_version=model_version, seed=seed, country=country)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    write_sample(rows, output)
    strata = {(r.role_category, r.country) for r in rows}
    console.print(f"{len(rows)} postings in {len(strata)} strata (category × country) → {output}; fill in the "
                  "true_* columns and run `labourwatch audit record FILE`", markup=False)


@app.command("record")
def audit_record(
    file: Path = typer.Argument(..., help="A filled-in sample file (.csv or .xlsx)."),
    auditor: str | None = typer.Option(None, "--auditor", help="Who labelled it (when the file does not say)."),
) -> None:
    """Store the analysts' labels from a filled-in sample file in the audit store."""
    from db.migrate import upgrade
    from db.session import get_engine
    from flows.audit import AuditFileError, record_audit_file

    engine = get_engine()
    upgrade(engine)
    try:
        n = record_audit_file(engine, file, auditor=auditor, known_codes=_known_codes())
    except (AuditFileError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"{n} verdicts recorded from {file}", markup=False)


@app.command("record-demo-truth")
def audit_record_demo_truth(
    truth: Path | None = typer.Option(None, "--truth", help="truth_postings.csv; default "
                                      "<home>/demo/truth/truth_postings.csv."),
    n: int = typer.Option(600, "--n", help="About how many postings to audit."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the sample."),
) -> None:
    """Record the demo board's known truth for a stratified sample, as an analyst's audit would."""
    from db.migrate import upgrade
    from db.session import get_engine
    from flows.audit import AuditFileError, record_demo_truth
    from labourwatch.settings import get_settings

    path = truth or get_settings().home / "demo" / "truth" / "truth_postings.csv"
    engine = get_engine()
    upgrade(engine)
    try:
        k = record_demo_truth(engine, path, n=n, seed=seed)
    except (AuditFileError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"{k} verdicts recorded from {path}", markup=False)


@app.command("report")
def audit_report_cmd(
    model_version: str | None = typer.Option(None, "--model-version", help="Only verdicts on this version."),
    fmt: str = typer.Option("table", "--format", help="table, json, or (with --month/--country) csv"),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM: print the month's role-category shares, "
                                     "observed and adjusted for the audit's labelling error (default with "
                                     "--country: the latest month)."),
    country: str | None = typer.Option(None, "--country", help="Market of the adjusted shares (ISO code, `all` "
                                       "pools); default the largest."),
) -> None:
    """Measured accuracy per label and precision/recall per code, with 95% Wilson intervals; with --month or
    --country, the role-category shares of a month corrected for the measured error instead."""
    import json
    from dataclasses import asdict

    from db.audit import audit_report
    from db.migrate import upgrade
    from db.session import get_engine

    adjusted = month is not None or country is not None
    if adjusted:
        if model_version is not None:
            raise _fail("--model-version selects the verdicts of the accuracy report; the adjusted shares use "
                        "the classifier version of the month's trend rows: drop --model-version or --month/--country")
        if fmt not in ("table", "csv", "json"):
            raise _fail(f"--format must be table, csv or json, not {fmt!r}")
    elif fmt not in ("table", "json"):
        raise _fail(f"--format must be table or json, not {fmt!r} (csv needs --month or --country)")
    engine = get_engine()
    upgrade(engine)
    if adjusted:
        _adjusted_shares(engine, month, country, fmt)
        return
    rep = audit_report(engine, model_version=model_version)
    if not rep.fields:
        raise _fail("no audit recorded: run `labourwatch audit sample`, label the file, then `audit record FILE`")
    if fmt == "json":
        sys.stdout.write(json.dumps([asdict(f) for f in rep.fields], default=str, indent=1) + "\n")
        return
    for fa in rep.fields:
        console.print(f"[bold]{fa.field}[/bold]: accuracy {fa.accuracy:.1%} (95% CI {fa.ci_low:.1%}–{fa.ci_high:.1%}), "
                      f"n={fa.n}, {fa.first_at:%Y-%m-%d}..{fa.last_at:%Y-%m-%d}, origin {', '.join(fa.origins)}, "
                      f"model {fa.model_version or 'several'}")
        if not fa.classes:
            continue
        t = Table(show_edge=False, pad_edge=False)
        for col in ("code", "precision (95% CI)", "n pred", "recall (95% CI)", "n true"):
            t.add_column(col, no_wrap=col == "code")
        for c in fa.classes:
            t.add_row(c.code, _score(c.precision, c.precision_ci), str(c.n_pred), _score(c.recall, c.recall_ci),
                      str(c.n_true))
        console.print(t)


ADJUSTED_COLUMNS = ("category", "postings", "observed_share", "adjusted_share", "ci_low", "ci_high", "audited")


def _adjusted_shares(engine: Any, month: str | None, country: str | None, fmt: str) -> None:
    """Print a month's role-category shares, observed and corrected with the audit's confusion matrix
    (``fmt`` table, csv or json: the command checked it)."""
    import csv
    import json

    from db.audit import category_adjustment
    from models.taxonomy import load_taxonomy

    try:
        adj = category_adjustment(engine, month, country, exclude=load_taxonomy().groups)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not adj.adjusted:
        raise _fail(_shortfall(adj))
    market = adj.country or "all countries pooled"
    if fmt == "json":
        sys.stdout.write(json.dumps({
            "month": adj.month, "country": adj.country, "model_version": adj.model_version, "postings": adj.total,
            "audit_n": adj.n_audit, "method": "confusion_matrix",
            "categories": [dict(zip(ADJUSTED_COLUMNS, (r.code, r.n, r.observed, r.adjusted, r.ci_low, r.ci_high,
                                                        r.audited), strict=True)) for r in adj.rows]},
            ensure_ascii=False, indent=1) + "\n")
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(ADJUSTED_COLUMNS)
        w.writerows([[r.code, r.n, f"{r.observed:.6f}", *(("" if v is None else f"{v:.6f}")
                                                           for v in (r.adjusted, r.ci_low, r.ci_high)), r.audited]
                      for r in adj.rows])
        return
    console.print(f"role categories {adj.month} · {market}: {adj.total:,} postings (model {adj.model_version or '—'}), "
                  f"adjusted with {adj.n_audit:,} audited postings (newest role_category verdicts with a true value; "
                  "confusion-matrix correction, bootstrap 95% interval)", markup=False, highlight=False)
    from rich import box

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("category", "postings", "observed", "adjusted (95% CI)", "audited"):
        t.add_column(col, no_wrap=col == "category", justify="left" if col == "category" else "right")
    for r in adj.rows:
        t.add_row(r.code, f"{r.n:,}", _pct(r.observed), "—" if r.adjusted is None else
                  f"{_pct(r.adjusted)} ({_pct(r.ci_low)}–{_pct(r.ci_high)})", f"{r.audited:,}")
    console.print(t)
    console.print("audited: audited postings the classifier put in the category"
                  + ("; 0 = none, so its postings are kept as labelled" if any(r.audited == 0 for r in adj.rows)
                     else ""), markup=False, highlight=False)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _score(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None or ci is None:
        return "—"
    return f"{value * 100:.0f}% ({ci[0] * 100:.0f}–{ci[1] * 100:.0f})"


def _shortfall(adj: CategoryAdjustment) -> str:
    """Why the shares are not corrected, in plain words, with the commands that fix it."""
    where = f"{adj.country} postings" if adj.country else "postings (all countries)"
    version = f" labelled by {adj.model_version}" if adj.model_version else ""
    return (f"role categories not adjusted for labelling error: the audit holds {adj.n_audit} role_category "
            f"label{'s' if adj.n_audit != 1 else ''} with a true value on {where}{version}; at least "
            f"{adj.min_audit} are needed. Draw more with `labourwatch audit sample"
            + (f" --country {adj.country}" if adj.country else "") + "`, label them, then `audit record FILE`.")
