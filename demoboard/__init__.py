"""The demo job board: a seeded generator of postings with known labels, its ground truth, and a local server."""
