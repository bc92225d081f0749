"""Agreement metrics between expected and predicted labels (scikit-learn): accuracy, per-class precision/recall/F1,
top confusions, and the calibration of the predictions' confidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

# Label fields a labelled file may carry as expected_<field> columns.
EVALUABLE_FIELDS: tuple[str, ...] = ("role_category", "experience_bucket", "ai_level", "references_ai",
                                     "requires_3plus_years")
CONFIDENT = 0.8  # the "confident" cut for accuracy-at-confidence and its coverage


@dataclass(frozen=True)
class Calibration:
    """How well confidences match accuracy: expected calibration error over ``bins`` equal-width bins, and the
    accuracy and coverage (share of rows) of predictions with confidence >= ``CONFIDENT``."""

    ece: float
    accuracy_confident: float | None
    coverage_confident: float
    n_confident: int
    bins: int = 10


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
    per_class_precision: dict[str, float] = dc_field(default_factory=dict)
    per_class_recall: dict[str, float] = dc_field(default_factory=dict)
    calibration: Calibration | None = None

    @property
    def accuracy_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the accuracy (the rows as a sample of postings like them)."""
        from statsmodels.stats.proportion import proportion_confint

        low, high = proportion_confint(round(self.accuracy * self.n), self.n, alpha=0.05, method="wilson")
        return float(low), float(high)

    def top_confusions(self, k: int = 10) -> list[tuple[str, str, int]]:
        """The ``k`` most frequent (expected, predicted, count) disagreements."""
        wrong = [(e, p, c) for (e, p), c in self.confusion.items() if e != p]
        return sorted(wrong, key=lambda x: (-x[2], x[0], x[1]))[:k]

    def figures(self) -> list[tuple[str, str, float, int]]:
        """(field, metric, value, n) rows for the evaluations table."""
        out = [(self.field, "accuracy", self.accuracy, self.n), (self.field, "macro_f1", self.macro_f1, self.n)]
        if self.positive_f1 is not None:
            out.append((self.field, "f1", self.positive_f1, self.n))
        if self.calibration is not None:
            c = self.calibration
            out.append((self.field, "ece", c.ece, self.n))
            out.append((self.field, "coverage_at_0.8", c.coverage_confident, self.n))
            if c.accuracy_confident is not None:
                out.append((self.field, "accuracy_at_0.8", c.accuracy_confident, c.n_confident))
        return out


def calibration(correct: Sequence[bool], confidence: Sequence[float], bins: int = 10) -> Calibration:
    """Expected calibration error (|accuracy − mean confidence| per bin, weighted by the bin's share) and the
    accuracy/coverage of predictions with confidence >= CONFIDENT."""
    ok = np.asarray(correct, dtype=float)
    conf = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    if len(ok) != len(conf) or not len(ok):
        raise ValueError(f"calibration needs as many confidences as outcomes; got {len(conf)} and {len(ok)}")
    which = np.minimum((conf * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(ok[m].mean() - conf[m].mean())
    sure = conf >= CONFIDENT
    return Calibration(float(ece), float(ok[sure].mean()) if sure.any() else None, float(sure.mean()),
                       int(sure.sum()), bins)


def f1_scores(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per-class F1 over the classes seen in either list."""
    labels = sorted(set(expected) | set(predicted))
    scores = f1_score(list(expected), list(predicted), labels=labels, average=None, zero_division=0)
    return {c: float(s) for c, s in zip(labels, scores, strict=True)}


def evaluate_field(field: str, expected: Sequence[str], predicted: Sequence[str],
                   confidence: Sequence[float] | None = None) -> FieldReport:
    """Accuracy, macro-F1 (over expected classes), per-class precision/recall/F1 and confusion of ``predicted``
    against ``expected``; with ``confidence``, also its calibration."""
    if len(expected) != len(predicted):
        raise ValueError(f"{field}: {len(expected)} expected labels but {len(predicted)} predictions")
    if not expected:
        raise ValueError(f"{field}: nothing to evaluate (no rows with an expected value)")
    exp, pred = list(expected), list(predicted)
    labels = sorted(set(exp) | set(pred))
    p, r, f, _ = precision_recall_fscore_support(exp, pred, labels=labels, average=None, zero_division=0)
    per_f1 = {c: float(x) for c, x in zip(labels, f, strict=True)}
    exp_classes = sorted(set(exp))
    macro = float(f1_score(exp, pred, labels=exp_classes, average="macro", zero_division=0))
    conf = Counter(zip(exp, pred, strict=True))
    positive = per_f1.get("true", 0.0) if set(labels) <= {"true", "false"} else None
    cal = None
    if confidence is not None:
        cal = calibration([e == q for e, q in zip(exp, pred, strict=True)], confidence)
    return FieldReport(field, len(exp), float(accuracy_score(exp, pred)), macro, per_f1, dict(conf), positive,
                       {c: float(x) for c, x in zip(labels, p, strict=True)},
                       {c: float(x) for c, x in zip(labels, r, strict=True)}, cal)
