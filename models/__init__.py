"""Classifiers: taxonomy, segmentation, embeddings, role/experience/AI-reference labelling."""

from models.classifier import Labels, PostingClassifier, PostingText, load_classifier

__all__ = ["Labels", "PostingClassifier", "PostingText", "load_classifier"]
