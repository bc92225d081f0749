"""The one-command demo: demo board → backfill → nightly → trend tables in SQLite → the latest month's brief."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labourwatch.settings import get_settings

DEMO_FIRST_MONTH = "2024-01"
DEMO_LAST_MONTH = "2026-06"


@dataclass(slots=True)
class DemoResult:
    """Where the demo's outputs are, what it found, and how long each stage took."""

    database: str
    brief: str | None
    truth_dir: str
    board_url: str
    postings: int
    months: tuple[str, str]
    findings: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    nightly_summary: str = ""
    backfill_summary: str = ""

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


def dataset_months(dataset: Any) -> tuple[str, str]:
    """First and last posting month of the generated dataset (the generator's documented span otherwise)."""
    months = set()
    for p in getattr(dataset, "postings", ()):
        day = getattr(p, "posted_at", None) or getattr(p, "posted_date", None)
        if day is not None:
            months.add(str(day)[:7])
    return (min(months), max(months)) if months else (DEMO_FIRST_MONTH, DEMO_LAST_MONTH)


@contextmanager
def demo_board(dataset: Any, port: int, faults: Any = None) -> Iterator[Any]:
    """Serve ``dataset`` on 127.0.0.1 (``port``, or any free port if it is taken) and point the sources at it.

    The crawl subprocesses read ``LABOURWATCH_DEMO_BOARD_URL`` from the environment, so it is set for the
    duration and restored afterwards.
    """
    from demoboard.server import DemoBoard

    kwargs = {"faults": faults} if faults is not None else {}
    try:
        board = DemoBoard(dataset, host="127.0.0.1", port=port, **kwargs)
        cm = board.__enter__()
    except OSError:
        board = DemoBoard(dataset, host="127.0.0.1", port=0, **kwargs)
        cm = board.__enter__()
    saved = os.environ.get("LABOURWATCH_DEMO_BOARD_URL")
    os.environ["LABOURWATCH_DEMO_BOARD_URL"] = cm.url
    get_settings.cache_clear()
    try:
        yield cm
    finally:
        board.__exit__(None, None, None)
        if saved is None:
            os.environ.pop("LABOURWATCH_DEMO_BOARD_URL", None)
        else:
            os.environ["LABOURWATCH_DEMO_BOARD_URL"] = saved
        get_settings.cache_clear()


def run_demo(postings: int | None = None, seed: int | None = None, lang: str = "zh",
             say: Callable[[str], None] = print) -> DemoResult:
    """Run the whole main job on embedded defaults, with no server and no network.

    Generates the demo board (``postings``/``seed`` default to the settings), writes its ground truth,
    serves it on 127.0.0.1, backfills its history (both board styles), runs the nightly flow, and
    renders the brief of the latest month. Flow runs go to Prefect's temporary local API unless
    ``PREFECT_API_URL`` names a server.
    """
    from flows.prefect_env import configure_prefect

    settings = get_settings()
    settings.ensure_dirs()
    configure_prefect(settings.home)
    n = postings or settings.demo_postings
    seed = settings.demo_seed if seed is None else seed
    timings: dict[str, float] = {}

    def stage(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()

        def done() -> None:
            timings[name] = time.perf_counter() - t0
            say(f"  {name}: {timings[name]:.1f} s")
        return done

    from db.migrate import upgrade
    from db.session import get_engine

    engine = get_engine()
    upgrade(engine)

    from demoboard.generator import generate
    from demoboard.truth import write_truth

    say(f"generating the demo board: {n} postings, seed {seed}")
    done = stage("generate")
    # The built-in 22% → 34% AI-share path follows the new-economy postings, as the headline findings do.
    dataset = generate(n_postings=n, seed=seed, ai_share_group="new_economy")
    truth_dir = settings.home / "demo" / "truth"
    write_truth(dataset, truth_dir)
    done()
    first, last = dataset_months(dataset)

    from flows.backfill import backfill
    from flows.monthly_brief import monthly_brief
    from flows.nightly import nightly

    with demo_board(dataset, settings.demo_board_port) as board:
        board_url = board.url
        say(f"demo board serving on {board_url}")
        say(f"backfill {first}..{last}: crawl both board styles, classify, dedupe, trends")
        done = stage("backfill")
        back = backfill(start=first, end=last)
        done()
        say("nightly run (incremental: the history is already in)")
        done = stage("nightly")
        night = nightly()
        done()
    say(f"brief for {last}")
    done = stage("brief")
    summary = monthly_brief(month=last, lang=lang)
    done()
    return DemoResult(
        database=engine.url.render_as_string(hide_password=True), brief=summary.path,
        truth_dir=str(Path(truth_dir).resolve()), board_url=board_url, postings=n, months=(first, last),
        findings=_three_headlines(engine, last, lang), withheld=summary.withheld, timings=timings, nightly_summary=night.markdown(),
        backfill_summary=back.pipeline.markdown(),
    )


# The three figures the README's run command prints: demand, AI share, experience.
HEADLINE_KEYS = ("demand_yoy.software_dev", "ai_share.new_economy", "experience.requires_3plus.all")


def _three_headlines(engine, month: str, lang: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The publishable findings of HEADLINE_KEYS (others fill in when one is suppressed), in that order."""
    from brief.data import findings_arguments
    from brief.findings import headline_findings

    found = [f for f in headline_findings(engine, month, lang, **findings_arguments())
             if not f.suppressed and f.key != "market"]
    ranked = sorted(found, key=lambda f: HEADLINE_KEYS.index(f.key) if f.key in HEADLINE_KEYS else len(HEADLINE_KEYS))
    return [f.text for f in ranked[:3]]
