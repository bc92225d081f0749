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


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A temporary Prefect API server (SQLite) shared by every flow test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
