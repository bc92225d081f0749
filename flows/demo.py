"""The one-command demo: demo board → backfill → nightly → trend tables in SQLite → the latest month's brief."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourwatch.contract import Month
from labourwatch.settings import get_settings

if TYPE_CHECKING:
    from db.session import Engine

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
    months: set[Month] = set()
    for p in getattr(dataset, "postings", ()):
        day = getattr(p, "posted_at", None) or getattr(p, "posted_date", None)
        if day is not None:
            months.add(Month.of(day) if isinstance(day, date) else Month.parse(str(day)[:7]))
    return (str(min(months)), str(max(months))) if months else (DEMO_FIRST_MONTH, DEMO_LAST_MONTH)


@dataclass(frozen=True, slots=True)
class BoardProcess:
    """A demo board served by a child process (``url``; ``pid`` of the server process)."""

    url: str
    pid: int


def _serve_board(dataset: Any, port: int, kwargs: dict[str, Any], conn: Any) -> None:
    """Child process: serve ``dataset`` until terminated; the URL (or the bind error) goes back on ``conn``."""
    from demoboard.server import DemoBoard

    try:
        try:
            board = DemoBoard(dataset, host="127.0.0.1", port=port, **kwargs)
            board._bind()
        except OSError:
            board = DemoBoard(dataset, host="127.0.0.1", port=0, **kwargs)
            board._bind()
    except Exception as exc:  # reported to the parent, which raises it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("url", board.url))
    conn.close()
    board.serve_forever()


@contextmanager
def _board_in_process(dataset: Any, port: int, kwargs: dict[str, Any]) -> Iterator[BoardProcess]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_serve_board, args=(dataset, port, kwargs, child), name="demo-board", daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(60):
            raise RuntimeError("the demo board process did not start within 60 s")
        kind, value = parent.recv()
        if kind != "url":
            raise RuntimeError(f"the demo board could not start: {value}")
        yield BoardProcess(url=value, pid=proc.pid or 0)
    finally:
        parent.close()
        proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


@contextmanager
def _board_in_thread(dataset: Any, port: int, kwargs: dict[str, Any]) -> Iterator[Any]:
    from demoboard.server import DemoBoard

    try:
        board = DemoBoard(dataset, host="127.0.0.1", port=port, **kwargs)
        cm = board.__enter__()
    except OSError:
        board = DemoBoard(dataset, host="127.0.0.1", port=0, **kwargs)
        cm = board.__enter__()
    try:
        yield cm
    finally:
        board.__exit__(None, None, None)


@contextmanager
def demo_board(dataset: Any, port: int, faults: Any = None, *, in_process: bool | None = None) -> Iterator[Any]:
    """Serve ``dataset`` on 127.0.0.1 (``port``, or any free port if it is taken) and point the sources at it.

    By default (where ``fork`` exists) the board runs in a child process: its request handling and page
    rendering then use their own interpreter and core instead of taking the GIL from the flows (and the
    training) in this process, and its rendered pages are freed when it stops. ``in_process=False`` keeps it
    in a thread of this process. The crawl subprocesses read ``LABOURWATCH_DEMO_BOARD_URL`` from the
    environment, so it is set for the duration and restored afterwards.
    """
    import multiprocessing

    kwargs = {"faults": faults} if faults is not None else {}
    if in_process is None:
        in_process = "fork" in multiprocessing.get_all_start_methods()
    serving = _board_in_process(dataset, port, kwargs) if in_process else _board_in_thread(dataset, port, kwargs)
    saved = os.environ.get("LABOURWATCH_DEMO_BOARD_URL")
    with serving as cm:
        os.environ["LABOURWATCH_DEMO_BOARD_URL"] = cm.url
        get_settings.cache_clear()
        try:
            yield cm
        finally:
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
    ``PREFECT_API_URL`` names a server. Each stage (generate, backfill, nightly, brief, findings) is reported
    to ``flows.progress`` listeners as the demo's, the flows' own stages inside them as theirs.
    """
    from flows import progress
    from flows.prefect_env import configure_prefect

    settings = get_settings()
    settings.ensure_dirs()
    configure_prefect(settings.home)
    n = postings or settings.demo_postings
    seed = settings.demo_seed if seed is None else seed
    timings: dict[str, float] = {}

    def stage(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()
        shown = progress.stage("demo", name).__enter__()

        def done() -> None:
            timings[name] = time.perf_counter() - t0
            shown.__exit__(None, None, None)
            if not progress.active():  # a display printed the stage's time already
                say(f"  {name}: {timings[name]:.1f} s")
        return done

    from db.session import get_engine

    engine = get_engine()  # migrated by the backfill flow, the first to touch it
    stop_training = _train_early()
    try:
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
            # The board process has its own copy of the postings: this process needs them no more.
            del dataset
            gc.collect()
            board_url = board.url
            say(f"demo board serving on {board_url}")
            say(f"backfill {first}..{last}: crawl both board styles, classify, dedupe, trends")
            done = stage("backfill")
            back = backfill(start=first, end=last)
            done()
            gc.collect()  # the training's and the classification's frames, before the next stage
            say("nightly run (incremental: the history is already in)")
            done = stage("nightly")
            night = nightly()
            done()
        gc.collect()
        say(f"brief for {last}")
        done = stage("brief")
        summary = monthly_brief(month=last, lang=lang)
        done()
        with progress.stage("demo", "findings"):
            findings = _three_headlines(engine, last, lang)
        return DemoResult(
            database=engine.url.render_as_string(hide_password=True), brief=summary.path,
            truth_dir=str(Path(truth_dir).resolve()), board_url=board_url, postings=n, months=(first, last),
            findings=findings, withheld=summary.withheld, timings=timings, nightly_summary=night.markdown(),
            backfill_summary=back.pipeline.markdown(),
        )
    finally:  # interrupted or failed: the early training must not outlive the demo (a no-op once it ended)
        stop_training()


EARLY_TRAINING = "from models import ensure_trained; ensure_trained()"  # the child's program
# The child's OpenMP threads (torch's) sleep when idle instead of spinning: beside the crawls, Prefect and the
# board, spinning threads took cores from them and from each other (the first demo 153 s -> 132-140 s, 40 CPU-s
# less; docs/scaling.md). A policy set in the environment wins.
EARLY_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def _train_early() -> Callable[[], None]:
    """On a fresh install, start training the classifier now, beside the board's generation and Prefect's
    start-up, instead of when the backfill first asks for it (its request then waits for this training:
    models.train holds a file lock per version). The training runs in a child process, so its memory (the
    embedding network, the solver's arrays) is returned when it ends: trained in a thread, it stayed in the demo's
    process, and the board's process forked from it (peak RSS 1.5–1.7 GB against 1.0–1.1 GB,
    ``docs/scaling.md``). A failure here is only logged: the backfill then trains and reports it itself.

    Returns ``stop``: it ends the child if it is still training (the demo interrupted or failed; its lock goes
    with it, and the next training clears the unfinished folder), and does nothing once the child has ended."""
    import logging
    import subprocess
    import sys
    import threading

    from labourwatch.settings import child_env

    log = logging.getLogger(__name__)
    try:
        child = subprocess.Popen([sys.executable, "-c", EARLY_TRAINING], env=EARLY_ENV | child_env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
    except OSError:
        log.warning("early training failed; the backfill trains instead", exc_info=True)
        return lambda: None
    stopped = threading.Event()

    def wait() -> None:
        _, err = child.communicate()
        if child.returncode != 0 and not stopped.is_set():
            tail = "\n".join((err or "").strip().splitlines()[-5:])
            log.warning("early training failed (exit %s); the backfill trains instead: %s", child.returncode, tail)

    threading.Thread(target=wait, name="train-early", daemon=True).start()

    def stop() -> None:
        if child.poll() is None:
            stopped.set()
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    return stop


# The three figures the README's run command prints: demand, AI share, experience.
HEADLINE_KEYS = ("demand_yoy.software_dev", "ai_share.new_economy", "experience.requires_3plus.all")


def _three_headlines(engine: Engine, month: str, lang: str) -> list[str]:
    """The publishable findings of HEADLINE_KEYS (others fill in when one is suppressed), in that order."""
    from brief.data import findings_arguments
    from brief.findings import headline_findings

    found = [f for f in headline_findings(engine, month, lang, **findings_arguments())
             if not f.suppressed and f.key != "market"]
    ranked = sorted(found, key=lambda f: HEADLINE_KEYS.index(f.key) if f.key in HEADLINE_KEYS else len(HEADLINE_KEYS))
    return [f.text for f in ranked[:3]]
