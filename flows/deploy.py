"""Schedules: nightly at 02:00 and the monthly brief at 08:00 on the 1st (Asia/Shanghai), served or on a pool."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from labourwatch.settings import get_settings

if TYPE_CHECKING:
    from prefect import Flow

NIGHTLY_CRON = "0 2 * * *"
MONTHLY_BRIEF_CRON = "0 8 1 * *"
REPO_ROOT = Path(__file__).resolve().parent.parent
# name -> (entrypoint, cron); deployment names are "<flow name>/<deployment name>" on the server.
SCHEDULED = {
    "nightly": ("flows/nightly.py:nightly", NIGHTLY_CRON),
    "monthly-brief": ("flows/monthly_brief.py:monthly_brief", MONTHLY_BRIEF_CRON),
}


def schedules(timezone: str | None = None) -> dict[str, Any]:
    """The cron schedule of each scheduled deployment, in ``timezone`` (default: the settings' timezone)."""
    from prefect.schedules import Cron

    tz = timezone or get_settings().timezone
    return {name: Cron(cron, timezone=tz) for name, (_, cron) in SCHEDULED.items()}


def deployments(timezone: str | None = None) -> list[Any]:
    """Runner deployments of the scheduled flows, for ``serve`` in this process."""
    from flows.monthly_brief import monthly_brief
    from flows.nightly import nightly

    sched = schedules(timezone)
    return [
        nightly.to_deployment(name="nightly", schedules=[sched["nightly"]], tags=["labourwatch"],
                              description="Crawl → classify → dedupe → trends, every night."),
        monthly_brief.to_deployment(name="monthly-brief", schedules=[sched["monthly-brief"]],
                                    tags=["labourwatch"], description="Last month's PDF brief, on the 1st."),
    ]


def require_server() -> str:
    """The configured Prefect server URL; a clear error when there is none (schedules need a real server)."""
    from prefect.settings import get_current_settings

    url = os.environ.get("PREFECT_API_URL") or get_current_settings().api.url
    if not url:
        raise RuntimeError(
            "schedules need a running Prefect server, and PREFECT_API_URL is not set. Start one with "
            "`prefect server start` (in another terminal) and run "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api`, then try again."
        )
    return url


def register(timezone: str | None = None) -> list[UUID]:
    """Create or update the scheduled deployments on the server (what ``serve`` does first)."""
    return [d.apply() for d in deployments(timezone)]


def serve(timezone: str | None = None, limit: int | None = None) -> None:
    """Register the schedules and run their flow runs in this process until interrupted."""
    from prefect import serve as prefect_serve

    require_server()
    prefect_serve(*deployments(timezone), limit=limit)


def deploy_to_pool(work_pool: str, timezone: str | None = None, source: Path = REPO_ROOT) -> list[UUID]:
    """Deploy the scheduled flows to ``work_pool``; its workers (process, Docker, Kubernetes) run them.

    The code is read from ``source`` (this checkout) by process workers on the same machine; for Docker
    or Kubernetes pools build an image from the repository and pass it as the pool's image job variable.
    """
    from prefect import flow

    require_server()
    sched = schedules(timezone)
    ids = []
    for name, (entrypoint, _) in SCHEDULED.items():
        # from_source and deploy run synchronously here (Prefect's sync/async dispatch types them as either).
        remote = cast("Flow[..., Any]", flow.from_source(source=str(source), entrypoint=entrypoint))
        ids.append(cast(UUID, remote.deploy(name=name, work_pool_name=work_pool, schedules=[sched[name]],
                                            tags=["labourwatch"], build=False, push=False,
                                            print_next_steps=False)))
    return ids
