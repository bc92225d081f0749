"""Evaluation of the classifiers on real job-board data (kept outside the repository; pass its path)."""
