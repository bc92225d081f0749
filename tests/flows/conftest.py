"""One Prefect test harness for the whole session (it is slow to start), with Prefect state in a temp dir."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Before Prefect is imported anywhere: nothing is written to ~/.prefect, no analytics, a patient server start.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="lw-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_UI_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A temporary Prefect API server (SQLite) shared by every flow test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Trained classifier artifacts shared by the flow tests (LABOURWATCH_TEST_CACHE_DIR when set)."""
    return os.environ.get("LABOURWATCH_TEST_CACHE_DIR") or str(tmp_path_factory.mktemp("lw-cache"))


@pytest.fixture
def fake_classifier(shared_cache: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The classifiers' deterministic fake embedder (``hash:64``): real heads and rules, no model to load."""
    from labourwatch.settings import get_settings

    monkeypatch.setenv("LABOURWATCH_EMBEDDING_MODEL", "hash:64")
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", shared_cache)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def small_dataset():  # type: ignore[no-untyped-def]
    """A few hundred postings over the board's whole span (both styles, reposts, malformed pages)."""
    from demoboard.generator import generate

    return generate(n_postings=400, seed=11)


@pytest.fixture
def small_board(small_dataset, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The small dataset served on 127.0.0.1; the sources config's ``{demo_board}`` points at it."""
    from demoboard.server import DemoBoard
    from labourwatch.settings import get_settings

    with DemoBoard(small_dataset) as board:
        monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", board.url)
        get_settings.cache_clear()
        yield small_dataset, board
