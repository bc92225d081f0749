"""The classifier API: PostingText in, Labels out (role, experience, AI level), from a versioned artifact."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from models.ai_mentions import detect_ai_batch
from models.board_categories import load_board_map
from models.experience import extract_experience
from models.roles import RoleFeatureConfig
from models.taxonomy import load_taxonomy
from models.train import Artifact, artifact_version, list_artifacts, load_artifact, train

log = logging.getLogger(__name__)

# Confidence of a role the board's category decided: the mapping table's agreement with labels read by people
# (0.99 on 2,500 board-decided postings of an all-sector Chinese board; board filing itself is a little noisy).
BOARD_CONFIDENCE = 0.97
# A broad board category (one that only narrows the choice) yields to a text answer this sure of another code.
TEXT_OVERRIDES_NARROWING = 0.9


@dataclass(frozen=True)
class PostingText:
    """What the classifiers read of a posting; ``experience_text`` is a board's structured field."""

    id: str | int
    title: str
    description: str | None = None
    experience_text: str | None = None
    lang: str | None = None
    board_category: str | None = None  # the board's own category path ("L1/L2/L3" or "L1 > L2 > L3")
    source: str | None = None  # the board's name: picks its table in the board-category mapping

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"PostingText {self.id!r}: title is empty; every posting needs a title")


@dataclass(frozen=True)
class Labels:
    """The labels of one posting (codes and buckets as in taxonomy.md)."""

    role_category: str
    role_confidence: float
    experience_min_years: float | None
    experience_max_years: float | None
    experience_bucket: str
    requires_3plus_years: bool | None
    ai_level: str
    ai_terms: tuple[str, ...]
    role_source: str = "text"  # board: the board's category decided; text: the title/description classifier
    role_category_text: str | None = None  # the text classifier's own answer (also when the board decided)
    role_confidence_text: float | None = None  # its confidence

    @property
    def references_ai(self) -> bool:
        return self.ai_level != "none"


class PostingClassifier:
    """Labels postings with one artifact's role head plus the experience and AI-reference rules."""

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self.model_version = artifact.version
        self.taxonomy_version = str(artifact.meta["taxonomy_version"])
        codes = set(load_taxonomy().codes)
        unknown = set(artifact.roles.classes) - codes
        if unknown:
            raise ValueError(f"artifact {artifact.path} predicts codes not in the taxonomy: {sorted(unknown)}")
        self.board_map = load_board_map()

    @overload
    def classify(self, postings: PostingText) -> Labels: ...
    @overload
    def classify(self, postings: Sequence[PostingText]) -> list[Labels]: ...

    def classify(self, postings: PostingText | Sequence[PostingText]) -> Labels | list[Labels]:
        """Labels for one posting, or for a list (in order)."""
        if isinstance(postings, PostingText):
            return self.classify([postings])[0]
        items = list(postings)
        if not items:
            return []
        roles = self.artifact.roles
        proba = roles.predict_proba([p.title for p in items], [p.description for p in items])
        classes = roles.classes
        index = {c: i for i, c in enumerate(classes)}
        threshold = roles.config.other_threshold
        mentions = detect_ai_batch([(p.title, p.description) for p in items], context=self.artifact.ai_context)
        out = []
        for row, p in enumerate(items):
            j = int(proba[row].argmax())
            text_conf = float(proba[row, j])
            text_code = classes[j] if text_conf >= threshold else "other"
            code, conf, source = text_code, text_conf, "text"
            decision = self.board_map.lookup(p.board_category, p.source) if p.board_category else None
            if decision is not None and decision.decides:
                code, conf, source = decision.codes[0], max(text_conf, BOARD_CONFIDENCE), "board"
            elif decision is not None and not (text_conf >= TEXT_OVERRIDES_NARROWING
                                               and text_code not in decision.codes):
                # the board narrows: the text picks among the board's codes (unless it is sure of another)
                allowed = [index[c] for c in decision.codes if c in index]
                if allowed:
                    k = max(allowed, key=lambda i: proba[row, i])
                    share = float(proba[row, allowed].sum())
                    code, conf = classes[k], float(proba[row, k]) / share if share > 0 else text_conf
            exp = extract_experience(p.experience_text, p.title, p.description)
            ai = mentions[row]
            out.append(Labels(code, round(conf, 4), exp.min_years, exp.max_years, exp.bucket,
                              exp.requires_3plus_years, ai.level, ai.terms, source, text_code,
                              round(text_conf, 4)))
        return out


def load_classifier(settings: object | None = None) -> PostingClassifier:
    """The configured classifier: ``classifier_version`` if set, else the artifact that this code and the
    configured embedding model define (``artifact_version``); if it is not trained yet, it is trained from the
    shipped exemplars (logged)."""
    from labourwatch.settings import Settings, get_settings

    s = settings if isinstance(settings, Settings) else get_settings()
    return PostingClassifier(load_artifact(ensure_trained(s), s.cache_path))


def ensure_trained(settings: object | None = None) -> Path:
    """The folder of the classifier ``load_classifier`` would load, trained first from the shipped exemplars when
    it is not there yet (one training per cache: callers asking together wait for the first). A configured
    ``classifier_version`` that does not exist raises FileNotFoundError naming the known ones."""
    from labourwatch.settings import Settings, get_settings

    s = settings if isinstance(settings, Settings) else get_settings()
    cache: Path = s.cache_path
    if s.classifier_version:
        path = cache / "classifiers" / s.classifier_version
        if not path.exists():
            known = ", ".join(v for v, _ in list_artifacts(cache)) or "none"
            raise FileNotFoundError(f"classifier version {s.classifier_version!r} not found in {cache / 'classifiers'}"
                                    f" (known: {known}); run `labourwatch train` or unset LABOURWATCH_CLASSIFIER_VERSION")
        return path
    # The shipped exemplars, contexts, rules and features define the default classifier: after an upgrade that
    # changes any of them, the matching artifact is trained once rather than an older one reused.
    current = cache / "classifiers" / artifact_version(s.embedding_model, RoleFeatureConfig())
    if (current / "config.json").exists():
        return current
    log.warning("no trained classifier for embedding model %s in %s: training one from the shipped exemplars",
                s.embedding_model, cache)
    return train(s.embedding_model, cache).path
