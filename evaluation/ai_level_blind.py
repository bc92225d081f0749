"""The blind English AI-level check set scored through the shipped classifier, development and held-out parts apart.

    python -m evaluation.ai_level_blind [--labels FILE]

``labels/ai_level_blind_en.csv`` holds 240 job-ad passages the project wrote from taxonomy.md section 3 alone,
before reading the AI rules or their tests (60 per level, every sector and the taxonomy's traps), each with its
``split`` fixed by a hash of its id. A passage is classified as the description of a posting whose title names no
job (``BLIND_TITLE``), by the same ``PostingClassifier.classify`` that ``labourwatch classify`` runs, with the
packaged AI context head. Printed per part: accuracy with its 95% Wilson interval, F1 of ``references_ai`` and the
4x4 confusion; the errors of the development part only, so the held-out part stays an unseen measure.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.prepare import LABELS_DIR
from labourwatch.contract import AI_LEVELS
from models.evaluate import FieldReport, evaluate_field

BLIND_FILE = LABELS_DIR / "ai_level_blind_en.csv"
BLIND_TITLE = "Vacancy"  # a title that names no job, so the passage alone decides
PARTS = ("dev", "held-out")


@dataclass(frozen=True)
class BlindScore:
    """One part's ai_level report and its references_ai report."""

    part: str
    level: FieldReport
    references: FieldReport


def load_blind(path: Path = BLIND_FILE) -> pd.DataFrame:
    """The labelled passages (id, text, expected_ai_level, split); errors name the file and what is wrong."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"id", "text", "expected_ai_level", "split"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    bad = sorted(set(df["expected_ai_level"]) - set(AI_LEVELS)) + sorted(set(df["split"]) - set(PARTS))
    if bad:
        raise ValueError(f"{path}: unknown levels or splits {bad} (levels {list(AI_LEVELS)}, splits {list(PARTS)})")
    return df


def predict(df: pd.DataFrame, classifier: object | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """(ai_level, ai_terms) per passage, through the shipped classifier (loaded when not given)."""
    from models import load_classifier
    from models.classifier import PostingClassifier, PostingText

    clf = classifier if isinstance(classifier, PostingClassifier) else load_classifier()
    posts = [PostingText(i, BLIND_TITLE, t, lang="en") for i, t in zip(df["id"], df["text"], strict=True)]
    return [(lab.ai_level, lab.ai_terms) for lab in clf.classify(posts)]


def score(expected: list[str], predicted: list[str], part: str) -> BlindScore:
    """The ai_level and references_ai reports of one part."""
    refs = evaluate_field("references_ai", [str(e != "none").lower() for e in expected],
                          [str(p != "none").lower() for p in predicted])
    return BlindScore(part, evaluate_field("ai_level", expected, predicted), refs)


def render(s: BlindScore) -> str:
    """A part's figures: accuracy with its interval, F1 of references_ai and the confusion (rows expected)."""
    lo, hi = s.level.accuracy_interval
    lines = [f"  {s.part:10s} n={s.level.n:4d}  accuracy={s.level.accuracy:.3f} (95% CI {lo:.3f}–{hi:.3f})  "
             f"F1(references_ai)={s.references.positive_f1:.3f}",
             "    expected \\ predicted " + "".join(f"{c:>12s}" for c in AI_LEVELS)]
    for e in AI_LEVELS:
        lines.append(f"    {e:22s}" + "".join(f"{s.level.confusion.get((e, p), 0):12d}" for p in AI_LEVELS))
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--labels", type=Path, default=BLIND_FILE)
    args = p.parse_args()
    df = load_blind(args.labels)
    from models import load_classifier

    clf = load_classifier()
    print(f"classifier {clf.model_version}")
    got = predict(df, clf)
    df = df.assign(predicted=[g[0] for g in got], terms=[list(g[1]) for g in got])
    print(f"ai_level, blind English passages ({args.labels.name})")
    for part, rows in (("dev", df[df["split"] == "dev"]), ("held-out", df[df["split"] == "held-out"]), ("all", df)):
        print(render(score(list(rows["expected_ai_level"]), list(rows["predicted"]), part)))
    print("\nerrors, development part only (expected ← predicted, terms, passage)")
    dev = df[(df["split"] == "dev") & (df["expected_ai_level"] != df["predicted"])]
    for r in dev.sort_values(["expected_ai_level", "predicted", "id"]).itertuples():
        print(f"  {r.id}  {r.expected_ai_level:10s} ← {r.predicted:10s} {r.terms}  {r.text}")


if __name__ == "__main__":
    main()
