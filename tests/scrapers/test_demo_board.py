"""Spiders against the real demo board on 127.0.0.1, compared with the generated ground truth."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import schema
from db.migrate import upgrade
from db.session import get_engine, session_scope
from labourwatch.settings import child_env, get_settings
from scrapers.config import sources_path
from scrapers.crawl import command, crawl, crawl_job

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("migrated_db")]
generator = pytest.importorskip("demoboard.generator")
server = pytest.importorskip("demoboard.server")

N_POSTINGS = 300


@pytest.fixture(scope="module")
def dataset():  # noqa: ANN201
    return generator.generate(N_POSTINGS, 11)


def expected(dataset, style: str) -> set[str]:  # noqa: ANN001
    return {p.external_id for p in dataset.postings if p.style == style and not p.malformed}


def malformed(dataset, style: str) -> int:  # noqa: ANN001
    return sum(1 for p in dataset.postings if p.style == style and p.malformed)


def stored(source: str) -> dict[str, str]:
    """external_id -> content_hash of every stored posting of ``source``."""
    with session_scope(get_engine()) as s:
        rows = s.execute(select(schema.Posting.external_id, schema.Posting.content_hash).join(schema.Source)
                         .where(schema.Source.name == source)).all()
    assert len(rows) == len({r[0] for r in rows}), "duplicate postings stored"
    return dict(rows)


def count(source: str) -> int:
    with session_scope(get_engine()) as s:
        return s.scalar(select(func.count(schema.Posting.id)).join(schema.Source)
                        .where(schema.Source.name == source)) or 0


@pytest.fixture
def board(dataset, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[object]:  # noqa: ANN001
    faults = getattr(request, "param", None) or server.FaultConfig()
    with server.DemoBoard(dataset, faults=faults) as b:
        monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", b.url)
        get_settings.cache_clear()
        yield b


@pytest.mark.parametrize("style", ["html", "api"])
def test_crawl_collects_every_wellformed_posting_once(db_url: str, board, dataset, style: str) -> None:  # noqa: ANN001
    source = f"demo_{style}"
    first = crawl(crawl_job(source))
    assert first.status == "succeeded", first.error
    assert set(stored(source)) == expected(dataset, style)
    assert sum(first.stats.dropped.values()) == malformed(dataset, style)
    assert first.stats.inserted == len(expected(dataset, style))
    assert first.stats.lost == {}

    again = crawl(crawl_job(source, extra_settings={"LW_DROP_RATE_MIN_ITEMS": 1}))  # malformed pages again, few items
    assert again.status == "succeeded", again.error
    assert again.stats.inserted == 0 and again.stats.updated == 0
    # Incremental: nothing changed on the board, so no stored detail page is fetched again.
    assert again.stats.skipped_unchanged == len(expected(dataset, style))
    assert again.stats.items_scraped == 0
    assert set(stored(source)) == expected(dataset, style)


@pytest.mark.parametrize("style", ["html", "api"])
def test_sigkill_half_way_then_resume_equals_uninterrupted(tmp_path: Path, board, dataset, style: str) -> None:  # noqa: ANN001
    source = f"demo_{style}"
    want = expected(dataset, style)
    # Slow the first crawl down so it can be killed half-way through.
    slow = {"DOWNLOAD_DELAY": 0.02, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
            "LW_STORE_BATCH": 10}
    upgrade(get_engine())
    cmd = command(crawl_job(source, extra_settings=slow))
    proc = subprocess.Popen(cmd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while count(source) < len(want) // 3:
            assert proc.poll() is None, "crawl ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    before = count(source)
    assert 0 < before < len(want)

    resumed = crawl(crawl_job(source))
    assert resumed.status == "succeeded", resumed.error
    after = stored(source)
    assert set(after) == want
    assert resumed.stats.inserted == len(want) - before  # continued: only the missing ones were new
    assert resumed.stats.skipped_unchanged >= before  # ... and stored pages were not fetched again
    with session_scope(get_engine()) as s:
        statuses = [r.status for r in s.scalars(select(schema.CrawlRun).order_by(schema.CrawlRun.id))]
    assert statuses == ["interrupted", "succeeded"]  # the killed run is closed as interrupted

    # The same board crawled without interruption into another source gives the same postings.
    ref = tmp_path / "ref.yaml"
    text = sources_path().read_text(encoding="utf-8")
    ref.write_text(text.replace(f"name: {source}\n", f"name: {source}_ref\n"), encoding="utf-8")
    os.environ["LABOURWATCH_SOURCES_FILE"] = str(ref)
    get_settings.cache_clear()
    try:
        uninterrupted = crawl(crawl_job(f"{source}_ref"))
    finally:
        del os.environ["LABOURWATCH_SOURCES_FILE"]
        get_settings.cache_clear()
    assert uninterrupted.status == "succeeded", uninterrupted.error
    assert stored(f"{source}_ref") == after


def test_cli_adhoc_listing_crawl_obeys_robots(board, dataset) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from flows.cli import app

    res = CliRunner().invoke(app, ["crawl", "--spider", "jobposting", "--url", f"{board.url}/jobs",
                                   "--source", "demo_listing", "--set", "DOWNLOAD_DELAY=0"])
    assert res.exit_code == 0, res.output
    assert "demo_listing: succeeded" in res.output
    assert set(stored("demo_listing")) == expected(dataset, "html")
    html_pages = len([p for p in dataset.postings if p.style == "html"])
    assert board.requests["listing"] == -(-html_pages // server.LISTING_PAGE_SIZE)
    assert board.requests["robots"] == 1 and board.requests["private"] == 0


FAULTS = server.FaultConfig(rate_500=0.08, rate_429=0.08, burst=2, slow_rate=0.02, slow_seconds=0.3,
                            truncate_rate=0.08, bad_encoding_rate=0.08, seed=5)


@pytest.mark.parametrize("board", [FAULTS], indirect=True)
@pytest.mark.parametrize("style", ["html", "api"])
def test_faults_lose_nothing_served_correctly(board, dataset, style: str) -> None:  # noqa: ANN001
    source = f"demo_{style}"
    report = crawl(crawl_job(source, extra_settings={"LW_RETRY_BACKOFF_BASE": 0.05, "LW_RETRY_MAX_DELAY": 2}))
    assert report.status == "succeeded", report.error
    assert set(stored(source)) == expected(dataset, style)
    assert report.stats.retries > 0
    assert sum(report.stats.dropped.values()) == malformed(dataset, style)


@pytest.mark.parametrize(("style", "batch"), [("html", 7), ("api", 1)])
def test_store_batch_boundaries_lose_nothing(db_url: str, board, dataset, style: str, batch: int) -> None:  # noqa: ANN001
    # Batches that end anywhere (7 does not divide the postings; 1 commits each posting alone) and a flush
    # on every item by the clock store every posting exactly once, as one big final batch does.
    source = f"demo_{style}"
    report = crawl(crawl_job(source, extra_settings={"LW_STORE_BATCH": batch, "LW_STORE_INTERVAL": 0.0}))
    assert report.status == "succeeded", report.error
    assert set(stored(source)) == expected(dataset, style)
    assert report.stats.inserted == report.stats.items_stored == len(expected(dataset, style))
