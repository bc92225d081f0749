"""Classifiers: taxonomy, segmentation, embeddings, role/experience/AI-reference labelling."""
