"""Agreement metrics between expected and predicted labels: accuracy, macro-F1, confusion table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Label fields a labelled file may carry as expected_<field> columns.
EVALUABLE_FIELDS: tuple[str, ...] = ("role_category", "experience_bucket", "ai_level", "references_ai",
                                     "requires_3plus_years")


@dataclass(frozen=True)
class FieldReport:
    """How predictions of one field agree with expectations."""

    field: str
    n: int
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    confusion: dict[tuple[str, str], int]  # (expected, predicted) → count
    positive_f1: float | None = None  # for binary fields: F1 of the positive class ("true")

    @property
    def accuracy_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the accuracy (the rows as a sample of postings like them)."""
        from db.stats import wilson_interval

        return wilson_interval(round(self.accuracy * self.n), self.n)

    def figures(self) -> list[tuple[str, str, float, int]]:
        """(field, metric, value, n) rows for the evaluations table."""
        out = [(self.field, "accuracy", self.accuracy, self.n), (self.field, "macro_f1", self.macro_f1, self.n)]
        if self.positive_f1 is not None:
            out.append((self.field, "f1", self.positive_f1, self.n))
        return out


def f1_scores(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per-class F1 over the classes seen in either list."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for e, p in zip(expected, predicted, strict=True):
        if e == p:
            tp[e] += 1
        else:
            fp[p] += 1
            fn[e] += 1
    out = {}
    for c in sorted(set(expected) | set(predicted)):
        denom = 2 * tp[c] + fp[c] + fn[c]
        out[c] = 2 * tp[c] / denom if denom else 0.0
    return out


def evaluate_field(field: str, expected: Sequence[str], predicted: Sequence[str]) -> FieldReport:
    """Accuracy, macro-F1 (over expected classes) and confusion of ``predicted`` against ``expected``."""
    if len(expected) != len(predicted):
        raise ValueError(f"{field}: {len(expected)} expected labels but {len(predicted)} predictions")
    if not expected:
        raise ValueError(f"{field}: nothing to evaluate (no rows with an expected value)")
    n = len(expected)
    acc = sum(e == p for e, p in zip(expected, predicted, strict=True)) / n
    per = f1_scores(expected, predicted)
    exp_classes = sorted(set(expected))
    macro = sum(per[c] for c in exp_classes) / len(exp_classes)
    conf = Counter(zip(expected, predicted, strict=True))
    positive = per.get("true", 0.0) if set(expected) | set(predicted) <= {"true", "false"} else None
    return FieldReport(field, n, acc, macro, per, dict(conf), positive)
