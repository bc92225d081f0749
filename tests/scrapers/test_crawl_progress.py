"""A crawl's live counters: written by the crawl process to a progress file, passed to the caller's callback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labourwatch.settings import get_settings
from scrapers.crawl import crawl, crawl_dir, crawl_job
from scrapers.progress import CrawlProgress, read_progress, write_progress

pytestmark = pytest.mark.usefixtures("migrated_db")
generator = pytest.importorskip("demoboard.generator")
server = pytest.importorskip("demoboard.server")


def test_progress_file_round_trip_is_atomic(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    path = tmp_path / "p" / "run-1.progress.json"
    assert read_progress(path) is None
    snap = CrawlProgress(source="s", pages=10, scraped=6, stored=4, dropped=1, elapsed_s=2.0)
    write_progress(path, snap)
    assert read_progress(path) == snap and snap.pages_per_s == 5.0
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    assert snap.line() == "10 pages, 6 postings (4 stored), 1 dropped, 5 pages/s"
    path.write_text("{half", encoding="utf-8")
    assert read_progress(path) is None


@pytest.fixture
def small_board(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with server.DemoBoard(generator.generate(60, 11)) as b:
        monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", b.url)
        get_settings.cache_clear()
        yield b


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_crawl_passes_increasing_counts_and_the_final_ones(db_url: str, small_board: object) -> None:
    seen: list[CrawlProgress] = []
    # one request at a time, a little delay: the crawl lasts long enough for several snapshots
    job = crawl_job("demo_html", extra_settings={"LW_PROGRESS_INTERVAL": 0.1, "DOWNLOAD_DELAY": 0.02,
                                                 "CONCURRENT_REQUESTS_PER_DOMAIN": 1})
    result = crawl(job, progress=seen.append, poll_s=0.05)
    assert result.status == "succeeded", result.error
    assert len(seen) >= 3
    assert all(p.source == "demo_html" for p in seen)
    pages = [p.pages for p in seen]
    assert pages == sorted(pages) and pages[0] < pages[-1]
    assert [p.finished for p in seen] == [False] * (len(seen) - 1) + [True]
    last = seen[-1]
    assert last.pages == result.stats.response_count and last.requests == result.stats.requests
    assert last.scraped == result.stats.items_scraped and last.stored == result.stats.items_stored
    assert last.dropped == result.stats.dropped_total
    assert not list(crawl_dir("demo_html").glob("*.progress.json"))  # the file goes with the run


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_crawl_without_progress_writes_no_progress_file(db_url: str, small_board: object) -> None:
    seen: list[Path] = []
    result = crawl(crawl_job("demo_api"))
    assert result.ok, result.error
    seen += crawl_dir("demo_api").glob("*.progress.json")
    assert seen == []
