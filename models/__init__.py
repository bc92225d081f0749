"""Classifiers: taxonomy, segmentation, embeddings, role/experience/AI-reference labelling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.classifier import Labels, PostingClassifier, PostingText, ensure_trained, load_classifier

__all__ = ["Labels", "PostingClassifier", "PostingText", "ensure_trained", "load_classifier"]


def __getattr__(name: str) -> Any:
    # Lazy: `models.taxonomy` users (trends, brief) should not pay for importing scikit-learn and torch.
    if name in __all__:
        from models import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
