"""The scheduled deployments are registered with the right cron and timezone, read back through the API."""

from __future__ import annotations

import pytest

from flows.deploy import MONTHLY_BRIEF_CRON, NIGHTLY_CRON, SCHEDULED, register, require_server, schedules


def test_crons_are_the_documented_ones() -> None:
    assert NIGHTLY_CRON == "0 2 * * *"
    assert MONTHLY_BRIEF_CRON == "0 8 1 * *"
    s = schedules()
    assert {name: (sch.cron, sch.timezone) for name, sch in s.items()} == {
        "nightly": ("0 2 * * *", "Asia/Shanghai"),
        "monthly-brief": ("0 8 1 * *", "Asia/Shanghai"),
    }


def test_serve_without_a_server_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(RuntimeError,
                                                                                match="prefect server start"):
        require_server()


@pytest.mark.slow
def test_schedules_registered_through_the_api(prefect_api: None) -> None:
    from prefect.client.orchestration import get_client

    ids = register()
    assert len(ids) == 2
    with get_client(sync_client=True) as client:
        got = {}
        for flow_name, dep_name in (("nightly", "nightly"), ("monthly-brief", "monthly-brief")):
            dep = client.read_deployment_by_name(f"{flow_name}/{dep_name}")
            assert dep.id in ids
            assert len(dep.schedules) == 1
            sch = dep.schedules[0]
            assert sch.active
            got[dep_name] = (sch.schedule.cron, sch.schedule.timezone)
            # Ask the server to schedule the next runs from the stored schedule (what its scheduler does),
            # and check their wall-clock time in Shanghai.
            from zoneinfo import ZoneInfo

            import httpx
            from prefect.settings import PREFECT_API_URL

            resp = httpx.post(f"{PREFECT_API_URL.value()}/deployments/{dep.id}/schedule",
                              json={"min_runs": 3, "max_runs": 3}, timeout=30)
            resp.raise_for_status()
            runs = client.get_scheduled_flow_runs_for_deployments([dep.id])
            assert len(runs) >= 3
            for run in runs:
                local = run.expected_start_time.astimezone(ZoneInfo("Asia/Shanghai"))
                assert (local.hour, local.minute) == ((2, 0) if dep_name == "nightly" else (8, 0))
                if dep_name == "monthly-brief":
                    assert local.day == 1
    assert got == {"nightly": (NIGHTLY_CRON, "Asia/Shanghai"), "monthly-brief": (MONTHLY_BRIEF_CRON, "Asia/Shanghai")}
    assert set(SCHEDULED) == set(got)
    # Registering again updates in place: still one deployment each.
    assert register() == ids
