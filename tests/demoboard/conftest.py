"""Generated boards shared by the demo board tests (generation is deterministic, so sharing is safe)."""

from __future__ import annotations

import pytest

from demoboard.generator import DemoDataset, generate


@pytest.fixture(scope="session")
def default_dataset() -> DemoDataset:
    """The board the product ships: 20,000 postings, seed 2026."""
    return generate()


@pytest.fixture(scope="session")
def small_dataset() -> DemoDataset:
    return generate(1500, 7)
