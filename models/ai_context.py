"""What an AI mention means where the rules cannot tell: a clause classifier over embeddings and jieba words.

The rules in ``ai_mentions`` decide most mentions from the words around them (build verbs, use verbs, company
voice, majors, hiring notices). Two kinds of clause are left open:

- a bare mention in the job's own text with no cue ("AI相关项目经验优先", "exposure to AI in production"), which
  the rules alone would call incidental;
- a term that is only sometimes machine learning ("clustering" in "BigQuery partitioning and clustering",
  "分类模型" beside "数据分级分类").

For those the clause is embedded (e5 ``query: `` convention, through the configured embedder) and segmented
with the project's jieba tokenizer, and a logistic-regression head trained on clauses the project wrote
(``resources/ai_contexts.yaml``) says whether it is ``ai_skills``, ``ai_tools``, ``incidental`` or ``not_ai``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from models.embed import Embedder
from models.segment import CJK, RESOURCES, Segmenter, pretokenized
from models.taxonomy import load_yaml

CONTEXTS_FILE = RESOURCES / "ai_contexts.yaml"
CONTEXT_CLASSES = ("ai_skills", "ai_tools", "incidental", "not_ai")
# Head settings (5-fold cross-validation on the shipped clauses: accuracy 0.85; 0.92 on the 79% of clauses read
# with probability >= 0.5, the level at which the detector uses a reading). Part of the artifact version.
CONTEXT_HEAD = {"C": 16.0, "word_weight": 0.2}
WINDOW_EN = 90  # characters either side of a mention that the head reads, English
WINDOW_ZH = 30  # … Chinese (denser)
_PART = re.compile(r"[,，、:：]\s*")


def load_contexts(path: Path = CONTEXTS_FILE) -> tuple[list[str], list[str]]:
    """(clauses, labels) from the contexts file; every class must have examples and nothing else is allowed."""
    data = load_yaml(path) or {}
    unknown = set(data) - set(CONTEXT_CLASSES)
    if unknown:
        raise ValueError(f"{path}: unknown AI context classes {sorted(unknown)} (allowed: {list(CONTEXT_CLASSES)})")
    missing = [c for c in CONTEXT_CLASSES if not data.get(c)]
    if missing:
        raise ValueError(f"{path}: no example clauses for {missing}")
    clauses, labels = [], []
    for label in CONTEXT_CLASSES:
        for clause in data[label]:
            if not isinstance(clause, str) or not clause.strip():
                raise ValueError(f"{path}: class {label} has an empty or non-text clause: {clause!r}")
            clauses.append(clause.strip())
            labels.append(label)
    return clauses, labels


@dataclass(frozen=True)
class ContextPrediction:
    label: str
    confidence: float


class AIContextModel:
    """Clause → one of ``CONTEXT_CLASSES`` with a probability."""

    def __init__(self, embedder: Embedder, segmenter: Segmenter, C: float = CONTEXT_HEAD["C"],
                 word_weight: float = CONTEXT_HEAD["word_weight"]) -> None:
        self.embedder = embedder
        self.segmenter = segmenter
        self.word_weight = word_weight
        self.words = TfidfVectorizer(analyzer=pretokenized, sublinear_tf=True, min_df=1)
        self.head = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
        self._cache: OrderedDict[str, ContextPrediction] = OrderedDict()

    def _features(self, clauses: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        tokens = [self.segmenter.analyzer(c) for c in clauses]
        if fit:
            self.words.fit(tokens)
        emb = sparse.csr_matrix(self.embedder.embed(list(clauses)))
        return sparse.hstack([emb, self.words.transform(tokens) * self.word_weight], format="csr")

    def fit(self, clauses: Sequence[str], labels: Sequence[str]) -> AIContextModel:
        if len(clauses) != len(labels):
            raise ValueError(f"fit needs parallel lists; got {len(clauses)} clauses and {len(labels)} labels")
        self.head.fit(self._features(clauses, fit=True), list(labels))
        return self

    def known(self, clause: str) -> ContextPrediction | None:
        """The memoised prediction of ``clause``, or None where it has not been predicted (nothing computed)."""
        return self._cache.get(clause)

    def predict(self, clauses: Sequence[str]) -> list[ContextPrediction]:
        """One prediction per clause (memoised: boards repeat their boilerplate). Clauses are best asked
        together: the embedding engine takes its products over blocks of 512 token rows, so a clause asked
        alone costs a whole block."""
        todo = [c for c in dict.fromkeys(clauses) if c not in self._cache]
        if todo:
            proba = np.asarray(self.head.predict_proba(self._features(todo)))
            classes = [str(c) for c in self.head.classes_]
            for clause, row in zip(todo, proba, strict=True):
                j = int(row.argmax())
                self._cache[clause] = ContextPrediction(classes[j], round(float(row[j]), 4))
                if len(self._cache) > 50_000:
                    self._cache.popitem(last=False)
        return [self._cache[c] for c in clauses]

    def state(self) -> dict[str, object]:
        """The picklable learned state (vectorizer and head), without the embedder or segmenter."""
        return {"words": self.words, "head": self.head, "word_weight": self.word_weight}

    def load_state(self, state: dict[str, object]) -> None:
        self.words = state["words"]  # type: ignore[assignment]
        self.head = state["head"]  # type: ignore[assignment]
        self.word_weight = float(state["word_weight"])  # type: ignore[arg-type]


def clause_around(clause: str, start: int, end: int) -> str:
    """The words around a mention at [start, end): the part of the clause between commas that holds it, widened
    to neighbouring parts while short, and at most about ``WINDOW_EN`` characters (``WINDOW_ZH`` for Chinese)
    either side — the length of the clauses the head was trained on."""
    cjk = bool(CJK.search(clause[max(0, start - 10) : end + 10]))
    reach = WINDOW_ZH if cjk else WINDOW_EN
    cuts = [0] + [m.end() for m in _PART.finditer(clause)] + [len(clause)]
    lo = max(c for c in cuts if c <= start)
    hi = min(c for c in cuts if c >= end)
    while hi - lo < reach:
        left = max((c for c in cuts if c < lo), default=None)
        right = min((c for c in cuts if c > hi), default=None)
        if left is None and right is None:
            break
        if right is not None:
            hi = right
        if left is not None and hi - lo < reach:
            lo = left
    lo, hi = max(lo, start - reach), min(hi, end + reach)
    text = clause[lo:hi]
    if not cjk:  # do not start or end inside a word
        if lo > 0 and clause[lo - 1].isalnum():
            text = text.split(" ", 1)[-1]
        if hi < len(clause) and clause[hi].isalnum():
            text = text.rsplit(" ", 1)[0]
    return text.strip(" ,，、:：-•*")
