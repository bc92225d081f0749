"""Prefect environment set-up: state under LABOURWATCH_HOME, analytics off, a patient temporary server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from labourwatch.settings import get_settings

# The temporary (ephemeral) API server takes 12–25 s to start cold on 2 cores; Prefect's default is 20 s.
EPHEMERAL_STARTUP_TIMEOUT_S = 120


def configure_prefect(home: Path | None = None) -> dict[str, str]:
    """Point Prefect at ``<home>/prefect`` unless the user configured it, and return the values used.

    Call before Prefect runs anything. An explicit ``PREFECT_API_URL`` (a real ``prefect server``) or
    ``PREFECT_HOME`` in the environment is kept: this only fills in defaults. When Prefect is already
    imported its global settings context is refreshed so the values take effect.
    """
    settings = get_settings()
    home = Path(home or settings.home).resolve()
    prefect_home = home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_S),
        "PREFECT_UI_ENABLED": "false",
    }
    used: dict[str, str] = {}
    changed = False
    for key, value in defaults.items():
        if key not in os.environ:
            os.environ[key] = value
            changed = True
        used[key] = os.environ[key]
    # The temporary server's timeout is raised even if something lower was inherited: 20 s fails cold starts.
    current = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "0")
    if not current.isdigit() or int(current) < EPHEMERAL_STARTUP_TIMEOUT_S:
        os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(EPHEMERAL_STARTUP_TIMEOUT_S)
        used["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = str(EPHEMERAL_STARTUP_TIMEOUT_S)
        changed = True
    if changed and "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()
    return used
