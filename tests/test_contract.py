"""The records and vocabulary that cross package borders (labourwatch.contract)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from labourwatch.contract import (
    AI_LEVELS,
    EXPERIENCE_BUCKETS,
    CrawlStats,
    Month,
    PostingIn,
    check_month,
    experience_bucket,
    month_add,
    month_range,
    vocabulary,
)

TAXONOMY_MD = Path(__file__).resolve().parents[2] / "shared" / "taxonomy.md"


def test_month_arithmetic_crosses_years() -> None:
    m = Month.parse("2025-11")
    assert str(m + 2) == "2026-01"
    assert str(m + -11) == "2024-12"
    assert Month.parse("2026-03") - m == 4
    assert month_add("2024-01", -1) == "2023-12"
    assert Month.of(date(2026, 2, 17)) == Month(2026, 2)
    assert Month(2026, 2).first_day() == date(2026, 2, 1)
    assert sorted([Month(2026, 1), Month(2025, 12)]) == [Month(2025, 12), Month(2026, 1)]


def test_month_range_is_inclusive_and_empty_when_reversed() -> None:
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert month_range("2026-02", "2026-02") == ["2026-02"]
    assert month_range("2026-03", "2026-02") == []


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", "2026-01-01"])
def test_bad_months_are_refused_naming_the_input(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as exc:
        check_month(bad, "--since")
    assert "--since" in str(exc.value)


def test_experience_bucket_follows_the_taxonomy() -> None:
    cases = {(None, None): "unstated", (0, None): "none", (0, 1): "lt1", (0.5, None): "lt1", (1, 2): "1_3",
             (2.9, None): "1_3", (3, 5): "3_5", (4.5, None): "3_5", (5, None): "5_10", (9, 12): "5_10",
             (10, None): "10_plus"}
    assert {k: experience_bucket(*k) for k in cases} == cases
    assert set(cases.values()) == set(EXPERIENCE_BUCKETS)


def test_vocabulary_is_the_taxonomy_file() -> None:
    v = vocabulary()
    assert len(v.role_codes) == 25 and v.role_codes[-1] == "other"
    assert v.groups["all"] == v.role_codes
    assert set(v.groups["new_economy"]) < set(v.role_codes)
    assert v.name("software_dev", "zh") != v.name("software_dev", "en")
    assert v.name("no_such_code") == "no_such_code"
    if TAXONOMY_MD.exists():  # the public interface: every code in taxonomy.md, in its order
        documented = re.findall(r"`([a-z0-9_]+)`", TAXONOMY_MD.read_text(encoding="utf-8"))
        first_seen = list(dict.fromkeys(c for c in documented if c in v.role_codes))
        assert first_seen == list(v.role_codes)
        assert set(AI_LEVELS) <= set(documented) and set(EXPERIENCE_BUCKETS) <= set(documented)


def test_crawl_stats_round_trip_and_old_rows() -> None:
    s = CrawlStats(requests=12, dropped={"invalid": 2, "no_jobposting": 1}, inserted=9, pages_per_s=3.5)
    assert CrawlStats.from_dict(s.to_dict()) == s
    assert s.dropped_total == 3
    old = CrawlStats.from_dict({"requests": 4, "a_key_from_the_future": 1, "pages_per_s": None})
    assert old.requests == 4 and old.pages_per_s is None and old.dropped == {}
    assert CrawlStats.from_dict(None) == CrawlStats()


def test_posting_in_refuses_a_posting_without_identity() -> None:
    with pytest.raises(ValueError, match="title is empty for board:7"):
        PostingIn(source="board", external_id="7", title="  ")
    with pytest.raises(ValueError, match="external_id is empty"):
        PostingIn(source="board", external_id=" ", title="Engineer")
