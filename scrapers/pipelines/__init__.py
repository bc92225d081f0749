"""Item pipelines in order: normalise (300), validate (400), dedupe (500), store (900)."""
