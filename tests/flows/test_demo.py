"""The one-command demo on a small board: every output it promises exists and the nightly adds nothing."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from db.session import get_engine

pytestmark = pytest.mark.slow


def test_demo_produces_tables_brief_truth_and_findings(prefect_api: None, fake_classifier: None,
                                                       lw_home: Path) -> None:
    from flows.demo import run_demo
    from flows.prefect_env import configure_prefect
    from flows.progress import StageProgress, listening

    lines: list[str] = []
    events: list[object] = []
    with listening(events.append):
        result = run_demo(postings=300, seed=5, say=lines.append)

    # Prefect keeps its state under the data directory, never in ~/.prefect.
    assert Path(configure_prefect()["PREFECT_HOME"]).is_dir()
    assert result.months == ("2024-01", "2026-06")
    assert result.database.endswith(f"{lw_home.name}/labourwatch.db")
    assert Path(result.brief).is_file() and Path(result.brief).suffix == ".pdf"
    truth = Path(result.truth_dir)
    assert {p.name for p in truth.iterdir()} >= {"truth_postings.csv", "truth_monthly.csv", "truth_headline.json"}
    with (truth / "truth_postings.csv").open(encoding="utf-8") as fh:
        well_formed = sum(r["malformed"] == "false" for r in csv.DictReader(fh))
    with get_engine().connect() as c:
        stored = c.execute(text("SELECT count(*) FROM postings")).scalar()
        trend_months = c.execute(text("SELECT count(DISTINCT period) FROM trend_demand "
                                      "WHERE period_type='month'")).scalar()
        briefs = c.execute(text("SELECT month, path FROM briefs")).all()
    assert stored == well_formed
    assert trend_months == 30
    assert [tuple(b) for b in briefs] == [("2026-06", result.brief)]
    assert "new postings: **0**" in result.nightly_summary and "failures: **0**" in result.nightly_summary
    assert f"new postings: **{stored}**" in result.backfill_summary
    assert set(result.timings) == {"generate", "backfill", "nightly", "brief"}
    assert result.findings or result.withheld
    assert any("backfill 2024-01..2026-06" in line for line in lines)
    # The progress display gets each stage of the demo in order, each with its time, and the flows' own inside.
    done = [(e.flow, e.stage) for e in events if isinstance(e, StageProgress) and e.finished]
    demo = [s for f, s in done if f == "demo"]
    assert demo == ["generate", "backfill", "nightly", "brief", "findings"]
    timed = {e.stage: e.elapsed_s for e in events if isinstance(e, StageProgress) and e.finished and e.flow == "demo"}
    assert all(timed[s] == pytest.approx(result.timings[s], abs=0.5) for s in result.timings)
    assert [s for f, s in done if f == "backfill"] == ["crawl", "classify", "dedupe", "trends"]
    assert done.index(("backfill", "trends")) < done.index(("demo", "backfill")) < done.index(("nightly", "crawl"))


def test_demo_command_runs_with_no_server_and_writes_nothing_to_home_dir(fake_classifier: None, lw_home: Path,
                                                                         tmp_path: Path) -> None:
    """`labourwatch demo` exactly as the README runs it: Prefect's temporary API, state under the data dir."""
    import subprocess
    import sys

    user_home = tmp_path / "user"
    user_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"HOME": str(user_home), "LABOURWATCH_DEMO_BOARD_PORT": "0"}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "demo", "--postings", "200", "--lang", "en"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "brief (PDF):" in out and "ground truth:" in out and "headline findings" in out
    assert "labourwatch dashboard" in out.rstrip().splitlines()[-1]  # the closing line opens the dashboard
    assert (lw_home / "briefs" / "brief-2026-06-en.pdf").is_file()
    assert (lw_home / "prefect").is_dir() and not (user_home / ".prefect").exists()


def test_demo_board_runs_in_its_own_process_and_stops_with_the_block() -> None:
    # The demo serves its board from a child process (its own GIL and core); leaving the block stops it,
    # frees the port for the next run and restores LABOURWATCH_DEMO_BOARD_URL.
    import os
    import urllib.request

    import psutil

    from demoboard.generator import generate
    from flows.demo import demo_board

    dataset = generate(60, 3)
    before = os.environ.get("LABOURWATCH_DEMO_BOARD_URL")
    with demo_board(dataset, 0) as board:
        assert board.pid != os.getpid() and psutil.pid_exists(board.pid)
        assert os.environ["LABOURWATCH_DEMO_BOARD_URL"] == board.url
        sitemap = urllib.request.urlopen(f"{board.url}/sitemap.xml", timeout=30).read().decode()
        assert f"{board.url}/sitemaps/jobs-1.xml" in sitemap
        api = urllib.request.urlopen(f"{board.url}/api/positions?pageNo=1&pageSize=100", timeout=30).read()
        assert b'"totalCount":' + str(sum(p.style == "api" for p in dataset.postings)).encode() in api
        pid = board.pid
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert os.environ.get("LABOURWATCH_DEMO_BOARD_URL") == before
