"""Role classifier: title embedding ‖ jieba word and character n-gram tf-idf → logistic-regression head."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from models.embed import Embedder
from models.segment import CJK, Segmenter, embedding_key, normalise_title, pretokenized, title_parts
from models.softmax import fit_softmax

# Bump when feature extraction changes: it is part of the artifact version.
FEATURES_VERSION = "f7"  # f7: the English duty reader
DESCRIPTION_CHARS = 200  # the head of the duties carries the role; the rest costs segmentation time, adds little
DUTY_CHARS = 1500  # how much of an English description's job sentences the duty reader reads
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?])\s+|(?<=[a-z])(?=[A-Z][a-z])")  # sentences; headings glued to the next one
_COMPANY_VOICE = re.compile(r"\b(?:we|we're|we are|our|us|headquartered|founded in)\b", re.IGNORECASE)
_JOB_VOICE = re.compile(r"\b(?:you|your|must|required|requirements?|experience|responsib\w*|skills?)\b", re.IGNORECASE)


def _without_furniture(text: str) -> str:
    """Text without the short Latin-script lines a scraped page starts with (the title again, "back to last
    search", company, place, pay, "Apply for this job"): the duties start at the first real sentence."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and len(lines[i]) < 60 and not CJK.search(lines[i]):
        i += 1
    return "\n".join(lines[i:]) if i < len(lines) else text


def description_head(description: str | None) -> str:
    """The first DESCRIPTION_CHARS of a description's job sections (company blurb, benefits and page
    furniture skipped)."""
    if not description:
        return ""
    from models.sections import split_sections

    out = ""
    for section in split_sections(description):
        if section.is_job:
            text = _without_furniture(section.text) if not out else section.text
            out += text.strip() + " "
            if len(out) >= DESCRIPTION_CHARS:
                break
    return out[:DESCRIPTION_CHARS].strip()


def duty_text(description: str | None, limit: int = DUTY_CHARS) -> str:
    """The English sentences of a description's job sections that can say what the job is: page furniture and
    headings (lines under 60 characters), Chinese text, short fragments and sentences in the company's voice
    ("We are a fast-growing …") skipped; up to ``limit`` characters. Empty for a Chinese description."""
    if not description or not any("a" <= c.lower() <= "z" for c in description[:400]):
        return ""
    from models.sections import split_sections

    out: list[str] = []
    n = 0
    for section in split_sections(description):
        if not section.is_job:
            continue
        for line in section.text.split("\n"):
            if len(line) < 60 or CJK.search(line):
                continue
            for clause in _CLAUSE_SPLIT.split(line):
                clause = clause.strip()
                if len(clause) < 25 or (_COMPANY_VOICE.search(clause) and not _JOB_VOICE.search(clause)):
                    continue
                out.append(clause)
                n += len(clause)
                if n >= limit:
                    return " ".join(out)
    return " ".join(out)


@dataclass(frozen=True)
class RoleFeatureConfig:
    """How the feature blocks are weighted; saved with the artifact."""

    embedding_weight: float = 1.0
    title_word_weight: float = 1.0
    title_char_weight: float = 1.0
    description_weight: float = 1.2  # boards' skill tags and highlight lines carry the role when the title does not
    qualifier_weight: float = 0.3  # words of an English title's qualifier segments ("– Data, Azure")
    C: float = 16.0
    # The duty reader (English): when the head is less sure than ``duty_below`` of its answer, the log
    # probabilities of a small head over the words of the description's job sentences (trained on the
    # project's English duty sentences) are added with weight ``duty_weight``: a "Head of Data Science" whose
    # duties are building models reads as ai_ml, an "Analyst" who builds dashboards as data.
    duty_weight: float = 1.0
    duty_below: float = 0.8
    duty_C: float = 3.0
    other_threshold: float = 0.15  # below this top probability the posting is `other`

    def __post_init__(self) -> None:
        for name in ("embedding_weight", "title_word_weight", "title_char_weight", "description_weight",
                     "qualifier_weight", "duty_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"RoleFeatureConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.C <= 0 or self.duty_C <= 0:
            raise ValueError(f"RoleFeatureConfig.C and duty_C must be > 0, got {self.C}, {self.duty_C}")
        if not 0 <= self.other_threshold < 1:
            raise ValueError(f"RoleFeatureConfig.other_threshold must be in [0, 1), got {self.other_threshold}")


@dataclass(frozen=True)
class RolePrediction:
    code: str
    confidence: float


class RoleClassifier:
    """Predicts one taxonomy code per (title, description) with a confidence in [0, 1]."""

    def __init__(self, embedder: Embedder, segmenter: Segmenter, config: RoleFeatureConfig | None = None) -> None:
        self.embedder = embedder
        self.segmenter = segmenter
        self.config = config or RoleFeatureConfig()
        self.title_words = TfidfVectorizer(analyzer=pretokenized, sublinear_tf=True, min_df=1)
        self.title_chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1)
        self.desc_words = TfidfVectorizer(analyzer=pretokenized, sublinear_tf=True, min_df=2, max_features=30000)
        self.title_quals = TfidfVectorizer(analyzer=pretokenized, sublinear_tf=True, min_df=1)
        self.head = LogisticRegression(C=self.config.C, max_iter=3000)
        # the duty reader: None until ``fit_duties`` (an artifact without English duties has none)
        self.duty_words: TfidfVectorizer | None = None
        self.duty_head: LogisticRegression | None = None
        self._token_cache: OrderedDict[tuple[str, bool], list[str]] = OrderedDict()
        # (stage, seconds) of the last ``fit``: where training time goes (``labourwatch bench train``)
        self.fit_stages: tuple[tuple[str, float], ...] = ()

    # --- features ---------------------------------------------------------------------------------
    def _title_tokens(self, norm: str, bigrams: bool = True) -> list[str]:
        """Tokens of a normalised title part (memoised: boards repeat titles); ``bigrams`` adds word pairs."""
        key = (norm, bigrams)
        toks = self._token_cache.get(key)
        if toks is None:
            toks = self.segmenter.analyzer(norm) if bigrams else self.segmenter.cut(norm)
            self._token_cache[key] = toks
            if len(self._token_cache) > 200_000:
                self._token_cache.popitem(last=False)
        return toks

    def _tokens(self, titles: Sequence[str], descriptions: Sequence[str | None]
                ) -> tuple[list[str], list[list[str]], list[list[str]], list[list[str]]]:
        """(normalised role parts, role tokens, qualifier tokens, description-head tokens) per row."""
        parts = [title_parts(t) for t in titles]
        norms = [normalise_title(role) for role, _ in parts]
        t_tokens = [self._title_tokens(n) for n in norms]
        q_tokens = [self._title_tokens(normalise_title(q), bigrams=False) if q else [] for _, q in parts]
        d_tokens = ([self.segmenter.cut(description_head(d)) if d else [] for d in descriptions]
                    if self.config.description_weight > 0 else [[] for _ in descriptions])
        return norms, t_tokens, q_tokens, d_tokens

    def _fit_vectorizers(self, norms: list[str], t_tokens: list[list[str]], q_tokens: list[list[str]],
                         d_tokens: list[list[str]]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Fit the vectorizers; returns the title words' and characters' matrices of the rows fitted on (the
        largest blocks, computed once instead of fitting and transforming again)."""
        words = self.title_words.fit_transform(t_tokens)
        chars = self.title_chars.fit_transform(norms)
        docs = [d for d in d_tokens if d] or [["_"]]
        if len(docs) < 20:  # too few descriptions for a document-frequency cut-off
            self.desc_words.set_params(min_df=1)
        self.desc_words.fit(docs)
        self.title_quals.fit([q for q in q_tokens if q] or [["_"]])
        return words, chars

    def _blocks(self, titles: Sequence[str], norms: list[str], t_tokens: list[list[str]],
                q_tokens: list[list[str]], d_tokens: list[list[str]]) -> tuple[np.ndarray, sparse.csr_matrix]:
        """The features in two blocks: the title embeddings (dense), then the tf-idf columns (sparse)."""
        return self._dense([embedding_key(t) for t in titles]), self._rest(norms, t_tokens, q_tokens, d_tokens)

    def _dense(self, keys: Sequence[str]) -> np.ndarray:
        """The title embeddings of ``keys`` (``embedding_key``s), weighted; float64 as the head computes (the
        products of the float32 vectors and the weight, exactly)."""
        return (self.embedder.embed(keys) * self.config.embedding_weight).astype(np.float64)

    def _rest(self, norms: list[str], t_tokens: list[list[str]], q_tokens: list[list[str]],
              d_tokens: list[list[str]], words: sparse.csr_matrix | None = None,
              chars: sparse.csr_matrix | None = None) -> sparse.csr_matrix:
        """The tf-idf columns: title words, title characters (``words``/``chars`` when already computed),
        description head, qualifiers."""
        cfg = self.config
        return sparse.hstack([
            (self.title_words.transform(t_tokens) if words is None else words) * cfg.title_word_weight,
            (self.title_chars.transform(norms) if chars is None else chars) * cfg.title_char_weight,
            self.desc_words.transform(d_tokens) * cfg.description_weight,
            self.title_quals.transform(q_tokens) * cfg.qualifier_weight,
        ], format="csr")

    def _matrix(self, titles: Sequence[str], norms: list[str], t_tokens: list[list[str]],
                q_tokens: list[list[str]], d_tokens: list[list[str]]) -> sparse.csr_matrix:
        dense, rest = self._blocks(titles, norms, t_tokens, q_tokens, d_tokens)
        return sparse.hstack([sparse.csr_matrix(dense), rest], format="csr")

    def _features(self, titles: Sequence[str], descriptions: Sequence[str | None], fit: bool = False) -> sparse.csr_matrix:
        toks = self._tokens(titles, descriptions)
        if fit:
            self._fit_vectorizers(*toks)
        return self._matrix(titles, *toks)

    # --- training and prediction ------------------------------------------------------------------
    def fit(self, titles: Sequence[str], descriptions: Sequence[str | None], labels: Sequence[str]) -> RoleClassifier:
        """Train on parallel lists of titles, optional descriptions and taxonomy codes."""
        if not (len(titles) == len(descriptions) == len(labels)):
            raise ValueError(f"fit needs parallel lists; got {len(titles)} titles, {len(descriptions)} "
                             f"descriptions, {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("fit needs examples of at least two role categories")
        # Identical (title, description, label) rows are fitted once with their count as sample weight: the
        # weighted loss equals the repeated one (same optimum), and the solver passes over fewer rows. The
        # vectorizers still see every row (document frequencies count repeats).
        t = time.perf_counter()
        slot: dict[tuple[str, str | None, str], int] = {}
        keep: list[int] = []  # the first row of each distinct example
        counts: list[int] = []
        for i, key in enumerate(zip(titles, descriptions, labels, strict=True)):
            j = slot.setdefault(key, len(keep))
            if j == len(keep):
                keep.append(i)
                counts.append(0)
            counts[j] += 1
        u_titles = [titles[i] for i in keep]
        norms, t_tok, q_tok, d_tok = self._tokens(u_titles, [descriptions[i] for i in keep])
        rep = np.repeat(np.arange(len(keep)), counts).tolist()  # every row again, for the document frequencies
        words, chars = self._fit_vectorizers([norms[i] for i in rep], [t_tok[i] for i in rep],
                                             [q_tok[i] for i in rep], [d_tok[i] for i in rep])
        first = np.cumsum(counts) - counts  # each distinct example's first row among the repeated ones
        u_labels = [labels[i] for i in keep]
        weights = np.asarray(counts, dtype=np.float64)
        # each distinct embedding key once: the examples share title embeddings (decorated copies of a title)
        keys, key_rows = np.unique(np.asarray([embedding_key(t) for t in u_titles], dtype=object),
                                   return_inverse=True)
        t1 = time.perf_counter()
        vectors = self._dense(keys.tolist())
        t2 = time.perf_counter()
        rest = self._rest(norms, t_tok, q_tok, d_tok, words[first], chars[first])
        t3 = time.perf_counter()
        if len(set(u_labels)) > 2:  # scikit-learn's objective, solved faster (models/softmax.py)
            self.head = fit_softmax(vectors, rest, u_labels, weights, C=self.config.C, max_iter=self.head.max_iter,
                                    dense_rows=key_rows)
        else:
            self.head.fit(sparse.hstack([sparse.csr_matrix(vectors[key_rows]), rest], format="csr"), u_labels,
                          sample_weight=weights)
        self.fit_stages = (("tokens and tf-idf", t1 - t + t3 - t2), ("title embeddings", t2 - t1),
                           ("solver", time.perf_counter() - t3))
        return self

    def fit_duties(self, texts: Sequence[str], labels: Sequence[str]) -> RoleClassifier:
        """Train the duty reader on English duty sentences and their codes (call after ``fit``)."""
        if len(texts) != len(labels):
            raise ValueError(f"fit_duties needs parallel lists; got {len(texts)} texts, {len(labels)} labels")
        if len(set(labels)) < 2:
            self.duty_words = self.duty_head = None
            return self
        unknown = set(labels) - set(self.classes)
        if unknown:
            raise ValueError(f"fit_duties: codes the head does not know: {sorted(unknown)}")
        self.duty_words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        self.duty_head = LogisticRegression(C=self.config.duty_C, max_iter=3000)
        self.duty_head.fit(self.duty_words.fit_transform(texts), list(labels))
        return self

    def duty_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The duty reader's class probabilities for English job text, columns in ``classes`` order (codes it
        was not trained on get a small floor)."""
        if self.duty_words is None or self.duty_head is None:
            raise ValueError("this classifier has no duty reader (fit_duties was not called)")
        out = np.full((len(texts), len(self.classes)), 1e-3)
        index = {c: i for i, c in enumerate(self.classes)}
        p = self.duty_head.predict_proba(self.duty_words.transform(list(texts)))
        for k, c in enumerate(self.duty_head.classes_):
            out[:, index[str(c)]] = p[:, k]
        return out / out.sum(axis=1, keepdims=True)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.head.classes_)

    def predict_proba(self, titles: Sequence[str], descriptions: Sequence[str | None]) -> np.ndarray:
        """Class probabilities, columns in ``classes`` order; where the head is unsure and an English
        description has job sentences, the duty reader's reading of them is added (``duty_weight``)."""
        proba = np.asarray(self.head.predict_proba(self._features(titles, descriptions)))
        cfg = self.config
        if self.duty_head is None or cfg.duty_weight == 0:
            return proba
        rows, texts = [], []
        for i, d in enumerate(descriptions):
            if d and proba[i].max() < cfg.duty_below:
                text = duty_text(d)
                if text:
                    rows.append(i)
                    texts.append(text)
        if rows:
            logits = np.log(np.clip(proba[rows], 1e-12, None)) + cfg.duty_weight * np.log(self.duty_proba(texts))
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            proba[rows] = e / e.sum(axis=1, keepdims=True)
        return proba

    def predict(self, titles: Sequence[str], descriptions: Sequence[str | None] | None = None) -> list[RolePrediction]:
        """One prediction per title; low-confidence predictions become ``other``."""
        descs: Sequence[str | None] = descriptions if descriptions is not None else [None] * len(titles)
        if not titles:
            return []
        proba = self.predict_proba(titles, descs)
        classes = self.classes
        best = proba.argmax(axis=1)
        out = []
        for i, j in enumerate(best):
            conf = float(proba[i, j])
            code = classes[j] if conf >= self.config.other_threshold else "other"
            out.append(RolePrediction(code, round(conf, 4)))
        return out

    def state(self) -> dict[str, object]:
        """The picklable learned state (vectorizers and head), without the embedder or segmenter."""
        return {"title_words": self.title_words, "title_chars": self.title_chars, "desc_words": self.desc_words,
                "title_quals": self.title_quals, "head": self.head, "duty_words": self.duty_words,
                "duty_head": self.duty_head}

    def load_state(self, state: dict[str, object]) -> None:
        self.title_words = state["title_words"]  # type: ignore[assignment]
        self.title_chars = state["title_chars"]  # type: ignore[assignment]
        self.desc_words = state["desc_words"]  # type: ignore[assignment]
        self.title_quals = state["title_quals"]  # type: ignore[assignment]
        self.head = state["head"]  # type: ignore[assignment]
        self.duty_words = state.get("duty_words")  # type: ignore[assignment]
        self.duty_head = state.get("duty_head")  # type: ignore[assignment]
