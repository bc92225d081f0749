"""Progress of long commands: stage events the flows report, and the rich display the commands show.

The flows (nightly, backfill, the demo) report their stages with ``report(...)``; nothing happens unless a
command listens (``with listening(callback):``). Prefect runs tasks in worker threads, where a callable
passed as a flow or task parameter would be serialised into the run's record, so the listener is
process-wide, like a logging handler. Crawls report the CrawlProgress snapshots of ``scrapers.progress``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from scrapers.progress import CrawlProgress


@dataclass(frozen=True, slots=True)
class StageProgress:
    """One step of a flow: started (``done`` 0), advanced, or ``finished`` after ``elapsed_s`` seconds."""

    flow: str  # backfill | nightly | demo
    stage: str  # crawl | classify | dedupe | trends | generate | backfill | nightly | brief | findings
    done: int = 0
    total: int | None = None
    unit: str = ""  # what done counts: sources, postings, links, months
    elapsed_s: float = 0.0
    finished: bool = False

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


Event = StageProgress | CrawlProgress
Listener = Callable[[Event], None]

_lock = threading.Lock()
_listeners: list[Listener] = []


@contextmanager
def listening(callback: Listener) -> Iterator[Listener]:
    """While the block runs, every reported event (from any thread of this process) goes to ``callback``."""
    with _lock:
        _listeners.append(callback)
    try:
        yield callback
    finally:
        with _lock:
            _listeners.remove(callback)


def active() -> bool:
    """Whether anyone listens (flows skip the work of reporting otherwise)."""
    return bool(_listeners)


def report(event: Event) -> None:
    """Pass ``event`` to the listeners; a failing display never fails the work it shows."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:  # noqa: BLE001, S112 - a display error must not stop a crawl or a flow
            continue


def crawl_listener() -> Callable[[CrawlProgress], None] | None:
    """The ``progress`` argument of ``scrapers.crawl.crawl`` when someone listens, else None."""
    return report if active() else None


_running: dict[str, Stage] = {}  # stage name -> the stage running now (for advance())


class Stage:
    """A stage being timed: ``update(done, total)`` reports it advancing; leaving the block reports it finished.
    While it runs, code that does not hold it (a task) advances it by name: ``advance(name, done, total)``."""

    def __init__(self, flow: str, name: str, total: int | None = None, unit: str = "") -> None:
        self.flow, self.name, self.total, self.unit = flow, name, total, unit
        self.done = 0
        self.t0 = time.perf_counter()

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.t0

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if active():
            report(StageProgress(self.flow, self.name, done, self.total, self.unit, self.elapsed_s))

    def __enter__(self) -> Stage:
        with _lock:
            _running[self.name] = self
        if active():
            report(StageProgress(self.flow, self.name, 0, self.total, self.unit))
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            if _running.get(self.name) is self:
                del _running[self.name]
        if active():
            report(StageProgress(self.flow, self.name, self.done, self.total, self.unit, self.elapsed_s,
                                 finished=True))


def stage(flow: str, name: str, total: int | None = None, unit: str = "") -> Stage:
    """``with stage("backfill", "classify", unit="postings") as st: ... st.update(n)``."""
    return Stage(flow, name, total, unit)


def advance(name: str, done: int, total: int | None = None) -> None:
    """Report the running stage ``name`` at ``done`` (of ``total``); nothing when no such stage runs."""
    with _lock:
        running = _running.get(name)
    if running is not None:
        running.update(done, total)


# --- the terminal display ------------------------------------------------------------------------------


def wanted(flag: bool | None, console: Any = None) -> bool:
    """Show a display? ``flag`` True/False decides; None: only when the output is a terminal."""
    if flag is not None:
        return flag
    if console is not None:
        return bool(console.is_terminal)
    return sys.stdout.isatty()


def _count(n: int, total: int | None, unit: str) -> str:
    return f"{n:,}/{total:,} {unit}".rstrip() if total is not None else f"{n:,} {unit}".rstrip()


def stage_text(e: StageProgress) -> str:
    """A stage's line: ``classify  1,200/4,000 postings  310/s  3.9 s``."""
    parts = [f"{e.flow} › {e.stage}" if e.flow and e.flow != e.stage else e.stage]
    if e.unit:
        parts.append(_count(e.done, e.total, e.unit))
    if e.unit in ("postings", "pages") and e.elapsed_s > 0 and e.done:
        parts.append(f"{e.rate:,.0f}/s")
    parts.append(f"{e.elapsed_s:.1f} s" if e.finished else "…")
    return "  ".join(parts)


class Display:
    """A rich live display of reported events: a line per crawling source (pages, stored, dropped, pages/s)
    and a line per running stage; a finished stage is printed once above it, with its time. 80 columns wide
    at most: each line is short and never wraps."""

    def __init__(self, console: Any) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = console
        from rich.table import Column

        # a line never wraps: cut with an ellipsis on a narrow terminal
        text = TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis"))
        self.progress = Progress(SpinnerColumn(), text, TimeElapsedColumn(), console=console, transient=True)
        self._tasks: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, CrawlProgress):
                self._crawl(event)
            else:
                self._stage(event)

    def _task(self, key: tuple[str, str], text: str) -> Any:
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = self.progress.add_task(text)
        else:
            self.progress.update(task, description=text)
        return task

    def _done(self, key: tuple[str, str], text: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.console.print(text, markup=False, highlight=False, no_wrap=True, overflow="ellipsis")

    def _crawl(self, e: CrawlProgress) -> None:
        text = f"{e.source}: {e.line()}"
        if e.finished:
            self._done(("crawl", e.source), f"✓ {e.elapsed_s:.1f} s {text}")
        else:
            self._task(("crawl", e.source), text)

    def _stage(self, e: StageProgress) -> None:
        key = (e.flow, e.stage)
        if e.finished:
            self._done(key, f"✓ {stage_text(e)}")
        else:
            self._task(key, stage_text(e))

    def __enter__(self) -> Display:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@contextmanager
def shown(console: Any, flag: bool | None = None) -> Iterator[Display | None]:
    """Show reported events on ``console`` while the block runs, if ``wanted(flag, console)``."""
    if not wanted(flag, console):
        yield None
        return
    with Display(console) as display, listening(display):
        yield display
