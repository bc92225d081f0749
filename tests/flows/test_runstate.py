"""Month arithmetic and CLI argument checks of the flows (no Prefect API needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from flows.monthly_brief import default_month
from flows.tasks.runstate import month_range, previous_month


def test_month_range_inclusive_across_years() -> None:
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert month_range("2026-03", "2026-03") == ["2026-03"]


@pytest.mark.parametrize("start,end,msg", [("2026-13", "2026-14", "YYYY-MM"), ("2026-3", "2026-04", "YYYY-MM"),
                                           ("2026-05", "2026-04", "after end"), ("march", "2026-04", "YYYY-MM")])
def test_month_range_rejects_bad_input(start: str, end: str, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        month_range(start, end)


def test_brief_month_is_last_month_in_shanghai() -> None:
    assert previous_month(datetime(2026, 1, 15)) == "2025-12"
    # 2026-07-01 00:30 UTC is 08:30 on the 1st in Shanghai: the schedule fires then and wants June.
    assert default_month(datetime(2026, 7, 1, 0, 30, tzinfo=UTC)) == "2026-06"
    # 2026-06-30 20:00 UTC is already 1 July 04:00 in Shanghai.
    assert default_month(datetime(2026, 6, 30, 20, 0, tzinfo=UTC)) == "2026-06"
    assert default_month(datetime(2026, 6, 30, 15, 0, tzinfo=UTC)) == "2026-05"


def test_backfill_cli_rejects_bad_months_before_starting_prefect() -> None:
    from flows.cli import app

    result = CliRunner().invoke(app, ["backfill", "--start", "2026-05", "--end", "2026-02"])
    assert result.exit_code != 0
    assert "after end" in result.output
