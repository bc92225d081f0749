"""Classification wiring: label pending postings in the database, label files, evaluate and benchmark."""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from db.session import Engine
from labourwatch.contract import LabelRow, PendingPosting, PostingIn
from models import Labels, PostingClassifier, PostingText, load_classifier
from scrapers.fileimport import Reject, read_records

if TYPE_CHECKING:
    from models.evaluate import FieldReport
    from models.train import TrainReport

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("id", "role_category", "role_confidence", "experience_min_years", "experience_max_years",
                  "experience_bucket", "requires_3plus_years", "ai_level", "ai_terms", "role_source",
                  "role_category_text", "role_confidence_text")


@dataclass(frozen=True)
class ClassifyReport:
    """How many postings were labelled, by which model version, in how long."""

    labelled: int
    model_version: str
    seconds: float
    rejected: int = 0
    rejects_path: Path | None = None

    @property
    def per_second(self) -> float:
        return self.labelled / self.seconds if self.seconds > 0 else 0.0


class UnknownSourceError(ValueError):
    """``classify_pending`` was asked for sources the database does not hold."""


def label_rows(clf: PostingClassifier, batch: Sequence[PendingPosting]) -> list[LabelRow]:
    """The label rows of a batch of pending postings under ``clf``: the one place a classifier's answer becomes
    a stored row, for the single-process and the partitioned paths."""
    labels = clf.classify([PostingText(p.id, p.title, p.description, p.experience_text, p.lang,
                                       p.board_category, p.source) for p in batch])
    return [LabelRow(p.id, clf.model_version, clf.taxonomy_version, lab.role_category, lab.role_confidence,
                     lab.experience_min_years, lab.experience_max_years, lab.experience_bucket,
                     lab.requires_3plus_years, lab.ai_level, lab.ai_terms, lab.role_source, lab.role_category_text)
            for p, lab in zip(batch, labels, strict=True)]


def classify_pending(engine: Engine | None = None, batch_size: int | None = None, progress: bool = False,
                     classifier: PostingClassifier | None = None,
                     sources: Sequence[str] | None = None,
                     on_batch: Callable[[int, int], None] | None = None) -> ClassifyReport:
    """Label every posting that has no label of the current model version, in committed batches; with
    ``sources``, only the postings of those sources (unknown names are an error naming them). The caller has
    migrated the database. ``on_batch(done, total)`` is called after each committed batch."""
    from db import labels as db_labels
    from db.session import get_engine
    from labourwatch.settings import get_settings

    settings = get_settings()
    engine = engine or get_engine()
    batch_size = batch_size or settings.classify_batch_size
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if sources is not None:
        unknown = sorted(set(sources) - db_labels.known_sources(engine, sources))
        if unknown:
            raise UnknownSourceError(f"unknown source(s) {', '.join(unknown)}: see `labourwatch status` for the stored "
                             "sources")
    clf = classifier or load_classifier(settings)
    version = clf.model_version
    t0 = time.perf_counter()
    total = db_labels.pending_count(engine, version, sources)
    bar = None
    if progress and total:
        from rich.progress import Progress

        bar = Progress(transient=False)
        bar.start()
        task = bar.add_task(f"classifying ({version})", total=total)
    done, after = 0, 0
    try:
        while True:
            batch = db_labels.label_pending_batch(engine, version, batch_size, after, partial(label_rows, clf),
                                                  sources=sources)
            if not batch:
                break
            after = batch[-1].id
            done += len(batch)
            if bar is not None:
                bar.update(task, advance=len(batch))
            if on_batch is not None:
                on_batch(done, total)
    finally:
        if bar is not None:
            bar.stop()
    secs = time.perf_counter() - t0
    log.info("labelled %d postings with %s in %.1fs", done, version, secs)
    return ClassifyReport(done, version, secs)


def train_classifier(force: bool = False, include_audit: bool = False,
                     engine: Engine | None = None) -> TrainReport:
    """Train the configured classifier; with ``include_audit``, the audited role labels of the database are added
    (a separate version whose config records how many). Returns the ``TrainReport``."""
    from labourwatch.settings import get_settings
    from models.train import Exemplar, train

    s = get_settings()
    s.ensure_dirs()
    audit = None
    if include_audit:
        from db.labels import audited_roles
        from db.session import get_engine

        engine = engine or get_engine()
        audit = [Exemplar(a.title, a.description, a.role_category) for a in audited_roles(engine)]
        if not audit:
            raise ValueError("--include-audit: the audit store holds no role labels yet (mark labels in the "
                             "dashboard or import an audit file first)")
    return train(s.embedding_model, s.cache_path, force=force, audit=audit)


# --- files -------------------------------------------------------------------------------------------


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson", ".json")


def read_rows(path: Path, encoding: str | None = None,
              rejects: list[Reject] | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV or JSONL file as dicts (empty strings become None).

    Unreadable records (broken quoting, bad JSON line, NUL byte, undecodable bytes, oversized field) are
    appended to ``rejects`` when given, else the first one raises ValueError naming file and line. Raises
    ImportFileError (a ValueError) naming the file when it is missing, a directory, binary or of unknown
    encoding.
    """
    suffix = path.suffix.lower()
    kind = "jsonl" if _is_jsonl(path) else "xlsx" if suffix == ".xlsx" else "csv"
    _enc, records = read_records(path, encoding, kind=kind)
    rows: list[dict[str, Any]] = []
    for rec in records:
        if rec.row is None:
            if rejects is None:
                raise ValueError(f"{path}:{rec.line}: {rec.error}")
            rejects.append(Reject(rec.line, rec.error or "unreadable row", {}, rec.raw))
            continue
        row = {k: (None if v == "" else v) for k, v in rec.row.items()}
        row["__line__"] = rec.line
        row["__raw__"] = rec.raw
        rows.append(row)
    return rows


def rows_to_postings(rows: list[dict[str, Any]], path: Path,
                     rejects: list[Reject] | None = None) -> list[PostingText]:
    """PostingText per row; names the row and column when something required is missing.

    A file without an ``id`` or ``title`` column raises ValueError; a row lacking either is appended to
    ``rejects`` when given (else raises).
    """
    columns = {k for r in rows for k in r} - {"__line__", "__raw__"}
    if rows and ("id" not in columns or "title" not in columns):
        raise ValueError(f"{path}: needs columns id and title (optional: description, experience_text, lang, "
                         "board_category, source); "
                         f"found {', '.join(sorted(columns)) or 'none'}")
    out = []
    for i, r in enumerate(rows, 1):
        line = r.get("__line__", i)
        reason = None
        if r.get("id") is None or (isinstance(r.get("id"), str) and not r["id"].strip()):
            reason = "no id"
        elif not isinstance(r.get("title"), str) or not r["title"].strip():
            reason = "no title" if r.get("title") is None or isinstance(r.get("title"), str) else \
                f"title must be text, got {type(r['title']).__name__}"
        elif any(r.get(k) is not None and not isinstance(r.get(k), str)
                 for k in ("description", "experience_text", "lang")):
            reason = "description, experience_text and lang must be text"
        if reason:
            if rejects is None:
                raise ValueError(f"{path}:{line}: {reason}")
            clean = {k: v for k, v in r.items() if k not in ("__line__", "__raw__")}
            rejects.append(Reject(line, reason, clean, r.get("__raw__", "")))
            continue
        out.append(PostingText(str(r["id"]), str(r["title"]), r.get("description"), r.get("experience_text"),
                               r.get("lang"), r.get("board_category"), r.get("source")))
    return out


def label_record(posting_id: str | int, lab: Labels) -> dict[str, Any]:
    """One output row in the file-mode column contract."""
    return {"id": posting_id, "role_category": lab.role_category, "role_confidence": lab.role_confidence,
            "experience_min_years": lab.experience_min_years, "experience_max_years": lab.experience_max_years,
            "experience_bucket": lab.experience_bucket, "requires_3plus_years": lab.requires_3plus_years,
            "ai_level": lab.ai_level, "ai_terms": list(lab.ai_terms), "role_source": lab.role_source,
            "role_category_text": lab.role_category_text, "role_confidence_text": lab.role_confidence_text}


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return json.dumps(v, ensure_ascii=False)
    return v


def _batches(items: list[PostingText], n: int) -> Iterator[list[PostingText]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def classify_records(postings: list[PostingText], classifier: PostingClassifier | None = None,
                     batch_size: int = 512) -> list[dict[str, Any]]:
    """Output records for ``postings`` in input order."""
    clf = classifier or load_classifier()
    out: list[dict[str, Any]] = []
    for batch in _batches(postings, batch_size):
        out.extend(label_record(p.id, lab) for p, lab in zip(batch, clf.classify(batch), strict=True))
    return out


def write_records(records: list[dict[str, Any]], path: Path) -> None:
    """Write output records as CSV (default) or JSONL (.jsonl/.json) with the contract's columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_jsonl(path):
        with path.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({k: r[k] for k in OUTPUT_COLUMNS}, ensure_ascii=False) + "\n")
        return
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(OUTPUT_COLUMNS)
        for r in records:
            w.writerow([_csv_value(r[k]) for k in OUTPUT_COLUMNS])


def classify_file(input_path: Path, output_path: Path, classifier: PostingClassifier | None = None,
                  encoding: str | None = None) -> ClassifyReport:
    """Label a CSV/JSONL file of postings into ``output_path`` (columns: OUTPUT_COLUMNS)."""
    t0 = time.perf_counter()
    rejects: list[Reject] = []
    rows = read_rows(input_path, encoding, rejects)
    postings = rows_to_postings(rows, input_path, rejects)
    clf = classifier or load_classifier()
    write_records(classify_records(postings, clf), output_path)
    rejects_path = None
    if rejects:
        from flows.importing import write_rejects

        rejects_path = output_path.with_name(output_path.name + ".rejects.csv")
        write_rejects(rejects_path, input_path, sorted(rejects, key=lambda r: r.line))
    return ClassifyReport(len(postings), clf.model_version, time.perf_counter() - t0, len(rejects), rejects_path)


# --- evaluation --------------------------------------------------------------------------------------


def _norm_expected(field: str, value: Any) -> str | None:
    if value is None:
        return None
    v = str(value).strip()
    if not v:
        return None
    if field in ("references_ai", "requires_3plus_years"):
        return "true" if v.lower() in ("true", "1", "yes", "y", "t") else "false"
    return v


ERROR_COLUMNS = ("field", "id", "title", "expected", "predicted", "confidence", "board_category")


def evaluate_file(input_path: Path, predictions_path: Path | None = None,
                  classifier: PostingClassifier | None = None,
                  errors: list[dict[str, str]] | None = None) -> tuple[str, list[FieldReport]]:
    """Compare a labelled file's ``expected_<field>`` columns with predictions; returns (model version, reports).

    Predictions come from ``predictions_path`` (a file-mode output) or, without it, from classifying the
    file's own rows. Rows with an empty expected value are skipped for that field. ``errors``, when given,
    receives one dict per disagreement (``ERROR_COLUMNS``), in the file's order within each field.
    """
    from models.evaluate import EVALUABLE_FIELDS, evaluate_field

    rows = read_rows(input_path)
    fields = [f for f in EVALUABLE_FIELDS if rows and f"expected_{f}" in rows[0]]
    if not fields:
        raise ValueError(f"{input_path}: no expected_<field> columns; expected one of "
                         + ", ".join(f"expected_{f}" for f in EVALUABLE_FIELDS))
    if predictions_path is not None:
        preds = {str(r["id"]): r for r in read_rows(predictions_path)}
        version = "file:" + predictions_path.name
    else:
        clf = classifier or load_classifier()
        version = clf.model_version
        preds = {str(r["id"]): r for r in classify_records(rows_to_postings(rows, input_path), clf)}
    # With board categories in the file, the text classifier's own answer is scored too (role_category_text).
    has_board = bool(rows) and "board_category" in rows[0] and "role_category" in fields
    plan: list[tuple[str, str, str | None]] = [(f, f, None) for f in fields]
    if "role_category" in fields:
        plan = [(f, f, "role_confidence" if f == "role_category" else None) for f in fields]
        if has_board:
            plan.insert(1, ("role_category_text", "role_category", "role_confidence_text"))
    reports: list[FieldReport] = []
    for field, expected_field, conf_field in plan:
        exp: list[str] = []
        pred: list[str] = []
        conf: list[float] = []
        for r in rows:
            e = _norm_expected(expected_field, r.get(f"expected_{expected_field}"))
            if e is None:
                continue
            p = preds.get(str(r["id"]))
            if p is None:
                raise ValueError(f"{input_path}: no prediction for id {r['id']!r}")
            if field == "references_ai":
                pv = "false" if str(p.get("ai_level")) == "none" else "true"
            else:
                pv = _norm_expected(field, _csv_value(p.get(field))) or "unstated"
            exp.append(e)
            pred.append(pv)
            c = p.get(conf_field) if conf_field is not None else None
            if conf_field is not None:
                conf.append(float(c) if c not in (None, "") else float("nan"))
            if errors is not None and pv != e:
                errors.append({"field": field, "id": str(r["id"]), "title": str(r.get("title") or ""),
                               "expected": e, "predicted": pv, "confidence": "" if c in (None, "") else str(c),
                               "board_category": str(r.get("board_category") or "")})
        if exp:
            usable = conf_field is not None and conf and not any(c != c for c in conf)
            reports.append(evaluate_field(field, exp, pred, conf if usable else None))
    return version, reports


# --- benchmark ---------------------------------------------------------------------------------------


def synthetic_postings(n: int, seed: int = 7, prefix: str = "") -> list[PostingIn]:
    """A realistic mix for the benchmark: repeated titles (Zipf-like), zh descriptions of 200–600 chars,
    some English postings and board experience fields."""
    import random

    from models.train import load_exemplars

    rng = random.Random(seed)
    data = load_exemplars()
    titles: list[tuple[str, str]] = []
    for code in sorted(data):
        titles += [(t, "zh") for t in data[code]["zh"]] + [(t, "en") for t in data[code]["en"]]
    rng.shuffle(titles)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(titles))]
    snippets = [s for code in sorted(data) for s in data[code]["snippets"]]
    blurb = ("公司介绍：我们是一家快速发展的互联网公司，团队成员来自国内外知名企业，提供有竞争力的薪酬。"
             "福利待遇：五险一金，年终奖13薪，带薪年假，节日福利，定期团建。")
    reqs = ["任职要求：1、本科及以上学历；2、3年以上相关工作经验；3、良好的沟通能力和团队合作精神。",
            "任职要求：1、大专以上学历，经验不限，接受应届生；2、熟练使用办公软件；3、责任心强。",
            "任职要求：1、5年以上行业经验，有管理经验者优先；2、熟悉ChatGPT等AI工具者优先。",
            "任职要求：1、熟悉机器学习和深度学习框架；2、1-3年经验。"]
    years = ["不限", "1-3年", "3-5年", "5-10年", "应届毕业生", None, None]
    out = []
    for i in range(n):
        title, lang = rng.choices(titles, weights)[0]
        desc = "岗位职责：" + "；".join(rng.sample(snippets, 3)) + "。" + rng.choice(reqs) + blurb
        while len(desc) < 200:
            desc += rng.choice(snippets) + "。"
        desc = desc[: rng.randint(200, 600)]
        out.append(PostingIn(source="bench", external_id=f"{prefix}{i}", title=title, description=desc, lang=lang,
                             experience_text=rng.choice(years)))
    return out
