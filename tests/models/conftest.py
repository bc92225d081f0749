"""Fixtures for classifier tests: a fake embedder and one artifact trained per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labourwatch.settings import get_settings

FAKE_MODEL = "hash:32"


@pytest.fixture(scope="session")
def trained_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir holding one artifact trained from the shipped exemplars with the fake embedder."""
    from models.train import train

    cache = tmp_path_factory.mktemp("lw-cache")
    train(FAKE_MODEL, cache)
    return cache


@pytest.fixture
def fake_settings(lw_home: Path, trained_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at the session's trained cache and the fake embedder."""
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(trained_cache))
    monkeypatch.setenv("LABOURWATCH_EMBEDDING_MODEL", FAKE_MODEL)
    get_settings.cache_clear()
    yield trained_cache
    get_settings.cache_clear()


@pytest.fixture
def classifier(fake_settings: Path):  # type: ignore[no-untyped-def]
    from models import load_classifier

    return load_classifier()
