"""One source crawled by several processes: disjoint parts that make the whole, one run row, clean resumes."""

from __future__ import annotations

import fcntl
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from db import schema
from db.queries import stored_external_ids
from db.session import get_engine, session_scope
from labourwatch.contract import CrawlStats
from labourwatch.settings import child_env, get_settings
from scrapers.crawl import CrawlJob, CrawlResult, crawl, crawl_dir, crawl_job
from scrapers.progress import CrawlProgress
from scrapers.sharding import check_shard, merge_stats, shard_of

pytestmark = pytest.mark.usefixtures("migrated_db")
generator = pytest.importorskip("demoboard.generator")
server = pytest.importorskip("demoboard.server")


def test_shards_split_keys_into_disjoint_parts_that_make_the_whole() -> None:
    keys = [f"https://board.example/jobs/{i}" for i in range(2000)]
    for n in (2, 3, 7):
        parts = [{k for k in keys if shard_of(k, n) == s} for s in range(n)]
        assert set().union(*parts) == set(keys)
        assert sum(len(p) for p in parts) == len(keys)
        assert min(len(p) for p in parts) > len(keys) / n * 0.8  # roughly even
    assert shard_of("x", 1) == 0
    assert shard_of(keys[5], 4) == shard_of(keys[5], 4)


def test_a_shard_out_of_range_is_refused_naming_the_values() -> None:
    check_shard(1, 2)
    with pytest.raises(ValueError, match="between 0 and 1 for 2 shards, got 2"):
        check_shard(2, 2)
    with pytest.raises(ValueError, match="got 0"):
        check_shard(0, 0)
    job = crawl_job("demo_html")
    with pytest.raises(ValueError, match="got 3"):
        replace(job, shards=2, shard=3)
    with pytest.raises(ValueError):
        crawl_job("demo_html", shards=65)


def test_merge_sums_counts_and_keeps_the_worst() -> None:
    a = CrawlStats(finish_reason="finished", elapsed_s=2.0, requests=10, response_count=9, items_scraped=5, items_stored=5,
                   dropped={"invalid": 1}, lost={"detail": 1}, known_at_start=40, cpu_s=1.0, peak_rss_mb=100.0,
                   drop_rate=0.1, rejected_urls=["u1"])
    b = CrawlStats(finish_reason="shutdown", elapsed_s=3.0, requests=20, response_count=21, items_scraped=7, items_stored=6,
                   dropped={"invalid": 2, "parse": 1}, known_at_start=40, cpu_s=2.0, peak_rss_mb=120.0,
                   drop_rate=0.2, store_error="disk full", rejected_urls=["u2"])
    m = merge_stats([a, b])
    assert (m.requests, m.response_count, m.items_scraped, m.items_stored) == (30, 30, 12, 11)
    assert m.dropped == {"invalid": 3, "parse": 1} and m.lost == {"detail": 1}
    assert m.known_at_start == 40  # both shards loaded the same stored set
    assert m.finish_reason == "shutdown" and m.store_error == "disk full" and m.drop_rate == 0.2
    assert m.elapsed_s == 3.0 and m.pages_per_s == 10.0 and m.cpu_s == 3.0 and m.cpu_ms_per_page == 100.0 and m.peak_rss_mb == 220.0
    assert m.rejected_urls == ["u1", "u2"]
    assert merge_stats([a, replace(b, finish_reason="finished")]).finish_reason == "finished"


@pytest.fixture
def board(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    dataset = generator.generate(300, 7)
    with server.DemoBoard(dataset) as b:
        monkeypatch.setenv("LABOURWATCH_DEMO_BOARD_URL", b.url)
        get_settings.cache_clear()
        yield dataset


def _expected(dataset: object, style: str) -> set[str]:
    return {str(p.external_id) for p in dataset.postings if p.style == style and not p.malformed}  # type: ignore[attr-defined]


def _runs(source: str) -> list[schema.CrawlRun]:
    with session_scope(get_engine()) as s:
        rows = list(s.scalars(select(schema.CrawlRun).join(schema.Source, schema.Source.id == schema.CrawlRun.source_id)
                              .where(schema.Source.name == source).order_by(schema.CrawlRun.id)))
        s.expunge_all()
    return rows


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("style", ["html", "api"])
def test_two_shards_store_the_whole_board_once_in_one_run(db_url: str, board: object, style: str) -> None:
    seen: list[CrawlProgress] = []
    result = crawl(crawl_job(f"demo_{style}", shards=2, extra_settings={"LW_PROGRESS_INTERVAL": 0.2}),
                   progress=seen.append, poll_s=0.05)
    assert result.status == "succeeded", result.error
    ids = stored_external_ids(get_engine(), f"demo_{style}")
    assert len(ids) == len(set(ids))  # no posting stored twice
    assert set(ids) == _expected(board, style)
    runs = _runs(f"demo_{style}")
    assert [r.status for r in runs] == ["succeeded"]  # one run for both processes
    stats = CrawlStats.from_dict(runs[0].stats)
    assert stats.items_scraped == len(ids) and stats.items_stored == len(ids) and stats.duplicates_in_run == 0
    assert stats.finish_reason == "finished" and stats.response_count == result.stats.response_count
    # each process fetched its own detail pages: both logs exist and name their shard
    cdir = crawl_dir(f"demo_{style}")
    logs = sorted(p.name for p in cdir.glob(f"run-{result.run_id}.shard-*.log"))
    assert logs == [f"run-{result.run_id}.shard-0.log", f"run-{result.run_id}.shard-1.log"]
    assert "shard 1 of 2: succeeded" in (cdir / f"run-{result.run_id}.log").read_text(encoding="utf-8")
    assert seen and seen[-1].finished and seen[-1].stored == len(ids)
    assert not list(cdir.glob("*.progress.json")) and not list(cdir.glob("*.result.json"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sharded_and_single_crawls_fetch_each_detail_page_once(db_url: str, board: object) -> None:
    one = crawl(crawl_job("demo_html"))
    assert one.status == "succeeded", one.error
    get_settings.cache_clear()
    two = crawl(crawl_job("demo_html", shards=2, extra_settings={"LW_INCREMENTAL": False}))
    assert two.status == "succeeded", two.error
    # the second crawl refetched every detail page (not incremental) but split them: stored once each
    assert two.stats.items_scraped == one.stats.items_scraped
    assert two.stats.unchanged == one.stats.inserted and two.stats.inserted == 0
    ids = stored_external_ids(get_engine(), "demo_html")
    assert len(ids) == len(set(ids)) == one.stats.inserted


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sharded_crawl_fails_at_once_while_another_holds_the_source(db_url: str, board: object) -> None:
    cdir = crawl_dir("demo_html")
    cdir.mkdir(parents=True, exist_ok=True)
    with open(cdir / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = crawl(crawl_job("demo_html", shards=2))
    assert result.status == "failed" and "another crawl of source 'demo_html' is running" in (result.error or "")
    assert [r.status for r in _runs("demo_html")] == ["failed"]
    assert stored_external_ids(get_engine(), "demo_html") == []


SLOW = {"DOWNLOAD_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
        "LW_STORE_BATCH": 5, "LW_PROGRESS_INTERVAL": 0.1}
# For the tests that stop a crawl and expect every shard paused: a shard must not finish its part before the
# stop. At 0.05 s a page a shard's part took about 8 s, and on a loaded CI machine one shard could finish it while
# the other was still starting; at 0.5 s it takes over a minute, and 10 postings are still stored in seconds.
PAUSABLE = {**SLOW, "DOWNLOAD_DELAY": 0.5}


def _kill_crawl_processes_once_stored(n: int) -> Callable[[CrawlProgress], None]:
    """A progress callback that SIGKILLs this process's crawl subprocesses once ``n`` postings are stored."""
    import psutil

    def on_progress(snap: CrawlProgress) -> None:
        if snap.stored >= n:
            for child in psutil.Process().children():
                if "scrapers.crawl_process" in " ".join(child.cmdline()):
                    child.kill()

    return on_progress


def _start_crawl_script(script: str, stdout: int | None = None, shards: int = 0) -> subprocess.Popen[str]:
    """``script`` in a Python process of its own, returned once it has stored 10 postings of demo_html and, with
    ``shards``, once each of that many shards has its crawl under way (its Scrapy queue on disk): on a loaded
    machine the first 10 postings can all come from one shard while the other is still starting."""
    proc = subprocess.Popen([sys.executable, "-c", script], env=child_env(), stdout=stdout, text=True)
    deadline = time.monotonic() + 90
    cdir = crawl_dir("demo_html")

    def started() -> bool:
        return all((cdir / f"shard-{k}-of-{shards}" / "jobdir").exists() for k in range(shards))

    while len(stored_external_ids(get_engine(), "demo_html")) < 10 or not started():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def _next_crawl_completes(board: object, stored_before: list[str]) -> CrawlResult:
    """A two-shard crawl of demo_html after an interrupted one: it succeeds, stores the whole board once and
    inserts only what the first left out."""
    result = crawl(crawl_job("demo_html", shards=2))
    assert result.status == "succeeded", result.error
    ids = stored_external_ids(get_engine(), "demo_html")
    assert len(ids) == len(set(ids)) and set(ids) == _expected(board, "html")
    assert result.stats.inserted == len(ids) - len(stored_before)
    return result


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_killed_shards_are_recorded_and_the_next_crawl_completes_without_duplicates(db_url: str,
                                                                                     board: object) -> None:
    killed = crawl(crawl_job("demo_html", shards=2, extra_settings=SLOW),
                   progress=_kill_crawl_processes_once_stored(10), poll_s=0.05)
    assert killed.status == "failed" and "shard 0 of 2" in (killed.error or "")
    part = stored_external_ids(get_engine(), "demo_html")
    assert 10 <= len(part) < len(_expected(board, "html"))
    again = _next_crawl_completes(board, part)
    assert again.stats.skipped_unchanged + again.stats.unchanged >= len(part)  # stored before the kill: kept
    assert [r.status for r in _runs("demo_html")] == ["failed", "succeeded"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ctrl_c_pauses_every_shard_and_the_next_crawl_resumes_their_queues(db_url: str, board: object) -> None:
    script = ("import sys; from scrapers.crawl import crawl, crawl_job\n"
              "try:\n"
              f"    crawl(crawl_job('demo_html', shards=2, extra_settings={PAUSABLE!r}))\n"
              "except KeyboardInterrupt as exc:\n"
              "    print('interrupted:', exc); sys.exit(130)\n")
    proc = _start_crawl_script(script, stdout=subprocess.PIPE, shards=2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130 and "interrupted: crawl of demo_html interrupted" in out
    cdir = crawl_dir("demo_html")
    assert all((cdir / f"shard-{k}-of-2" / "paused").exists() for k in range(2))
    assert [r.status for r in _runs("demo_html")] == ["partial"]
    _next_crawl_completes(board, stored_external_ids(get_engine(), "demo_html"))
    assert not any((cdir / f"shard-{k}-of-2" / "jobdir").exists() for k in range(2))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_changing_the_number_of_shards_drops_the_old_queues(db_url: str, board: object) -> None:
    cdir = crawl_dir("demo_html")
    stale = [cdir / "jobdir", cdir / "shard-0-of-3" / "jobdir"]
    for d in stale:
        d.mkdir(parents=True)
    (cdir / "paused").write_text("1")
    result = crawl(crawl_job("demo_html", shards=2))
    assert result.status == "succeeded", result.error
    assert not any(d.exists() for d in stale) and not (cdir / "paused").exists()
    assert not (cdir / "shard-0-of-2" / "jobdir").exists()  # finished: its queue is cleared too
    job = CrawlJob.from_json(crawl_job("demo_html", shards=3).to_json())
    assert job.shards == 3 and job.shard == 0


def test_the_shard_count_comes_from_the_setting_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("LABOURWATCH_CRAWL_SHARDS", "3")
    get_settings.cache_clear()
    assert crawl_job("demo_html").shards == 3
    assert crawl_job("demo_html", shards=1).shards == 1
    monkeypatch.setenv("LABOURWATCH_CRAWL_SHARDS", "0")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match="crawl_shards"):
        get_settings()
    get_settings.cache_clear()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_killed_parent_leaves_no_shard_crawling_and_the_next_crawl_resumes(db_url: str, board: object) -> None:
    import psutil

    parent = _start_crawl_script("from scrapers.crawl import crawl, crawl_job\n"
                                 f"crawl(crawl_job('demo_html', shards=2, extra_settings={PAUSABLE!r}))\n", shards=2)
    shards = [c for c in psutil.Process(parent.pid).children() if "scrapers.crawl_process" in " ".join(c.cmdline())]
    assert len(shards) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    gone, alive = psutil.wait_procs(shards, timeout=60)
    assert not alive  # each shard stopped by itself once its parent was gone
    cdir = crawl_dir("demo_html")
    assert all((cdir / f"shard-{k}-of-2" / "paused").exists() for k in range(2))  # a clean stop: queues kept
    _next_crawl_completes(board, stored_external_ids(get_engine(), "demo_html"))
    # the killed parent's run, left 'running', was closed by the next crawl
    assert [r.status for r in _runs("demo_html")][-1] == "succeeded"
    assert "running" not in [r.status for r in _runs("demo_html")]
