"""Seasonal adjustment with moving holidays: dates from maintained libraries, flags, and measured recovery."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlalchemy import Engine

from db.bulk import LabelledPosting, bulk_insert_labelled
from db.seasonal import (
    METHODS,
    evaluate_methods,
    holiday_date,
    holiday_for,
    holiday_regressor,
    index_error,
    index_of,
    month_range,
    moved_holiday,
    seasonal_adjust,
    seasonal_series,
    synthetic_series,
)
from db.trends import update_trends


def test_holiday_dates_and_moved_months() -> None:
    assert holiday_date("spring_festival", 2025) == date(2025, 1, 29)
    assert holiday_date("spring_festival", 2026) == date(2026, 2, 17)
    assert holiday_date("easter", 2025) == date(2025, 4, 20)
    assert holiday_for("CN") == "spring_festival" and holiday_for("GB") == "easter" and holiday_for("XX") is None
    assert [m for m in month_range("2025-01", "2026-12") if moved_holiday("CN", m)] == [
        "2025-01", "2025-02", "2026-01", "2026-02"]
    assert moved_holiday("CN", "2027-02") is None  # 17 Feb 2026 -> 6 Feb 2027: same month, no flag
    h = holiday_regressor("spring_festival", ["2025-01", "2025-02", "2026-01", "2026-02", "2026-06"])
    assert h[0] > 0 > h[1] and h[2] < 0 < h[3] and h[4] == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_adjustment_recovers_a_known_trend_better_than_raw(method: str) -> None:
    months = month_range("2021-01", "2024-12")
    for seed in (1, 2, 3):
        counts, trend = synthetic_series(seed, months)
        adj, factor = seasonal_adjust(months, counts, "spring_festival", method)
        raw_err = index_error(index_of(np.maximum(counts, 0.5)), trend)
        assert index_error(index_of(adj), trend) < raw_err / 2
        # The removed holiday effect is a dip in the holiday month: Feb 2024 (10 Feb) below Jan 2024.
        assert factor[months.index("2024-02")] < factor[months.index("2024-01")]


def test_evaluation_prints_every_method_and_raw() -> None:
    errs = {e.method: e.rmse_pct for e in evaluate_methods(n_series=3, n_months=36)}
    assert set(errs) == {*METHODS, "raw"} and all(errs[m] < errs["raw"] for m in METHODS)


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 24 months"):
        seasonal_adjust(month_range("2025-01", "2025-12"), [10] * 12, None)
    with pytest.raises(ValueError, match="consecutive"):
        seasonal_adjust([*month_range("2022-01", "2023-12"), "2025-01"], [10] * 25, None)
    with pytest.raises(ValueError, match="unknown seasonal method"):
        seasonal_adjust(month_range("2022-01", "2023-12"), [10] * 24, None, "x13")


def test_three_years_of_history_are_adjusted_and_published(engine: Engine) -> None:
    months = month_range("2022-01", "2025-12")
    counts, _ = synthetic_series(11, months)
    rows = []
    for m, n in zip(months, counts, strict=True):
        y, mo = int(m[:4]), int(m[5:])
        rows += [LabelledPosting(source="b", external_id=f"{m}-{i}", title="t", posted_at=date(y, mo, 1 + i % 28),
                                 role_category="sales_bd", country="CN") for i in range(int(n) // 10)]
    bulk_insert_labelled(engine, rows, model_version="m1", labelled_at=datetime(2026, 1, 1, tzinfo=UTC))
    update_trends(engine, {})
    ser = seasonal_series(engine, "sales_bd", "CN")
    assert ser is not None and ser.adjusted and ser.history_months == 48 and ser.method == "uc_holiday"
    idx = [p.index for p in ser.points]
    assert abs(float(np.mean(idx)) - 100) < 1e-6
    feb24 = next(p for p in ser.points if p.month == "2024-02")
    assert feb24.holiday == "spring_festival" and feb24.holiday_effect < 1.0
    assert seasonal_series(engine, "sales_bd", None) is not None  # pooled too
