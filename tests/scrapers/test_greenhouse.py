"""Greenhouse parser on a recorded /jobs?content=true response."""

from __future__ import annotations

from datetime import date

from scrapers.parsers.greenhouse import parse_jobs, total
from scrapers.pipelines.normalise import normalise_posting
from scrapers.pipelines.validate import check_posting
from tests.scrapers.conftest import fixture_text


def test_jobs_with_escaped_content_metadata_and_dates() -> None:
    body = fixture_text("greenhouse/jobs.json")
    raws = parse_jobs(body, "https://boards-api.greenhouse.io/v1/boards/examplehq/jobs?content=true", "gh",
                      company="Example HQ", lang="en")
    assert total(body) == 3 and len(raws) == 3
    ml = normalise_posting(raws[0])
    assert (ml.external_id, ml.title, ml.company, ml.city) == (
        "4012345006", "Machine Learning Engineer, Search", "Example HQ", "Berlin")
    assert ml.url == "https://boards.greenhouse.io/examplehq/jobs/4012345006"
    assert ml.posted_at == date(2026, 3, 2)  # first_published, not updated_at
    assert (ml.salary_min, ml.salary_max, ml.salary_currency) == (70000, 85000, "EUR")
    assert ml.employment_type == "full_time"
    assert ml.board_category == "Engineering"
    assert ml.description == ("About the team\n\nWe build search ranking with large language models & "
                              "embeddings.\n\nYou have\n\n- 3+ years building ML systems\n- PyTorch")
    ae = normalise_posting(raws[1])
    assert ae.city == "Remote" and ae.posted_at == date(2026, 2, 20)
    untitled = normalise_posting(raws[2])
    _, required, _ = check_posting(untitled)
    assert required == ["title"]
