"""The demo's early training: a child process that never outlives the demo, and whose failure is only logged."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from flows import demo


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_ends_a_training_still_running(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            lw_home: Path) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(demo, "EARLY_TRAINING", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                                                "time.sleep(120)")
    stop = demo._train_early()
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    assert _alive(pid)
    t0 = time.monotonic()
    stop()
    assert not _alive(pid) and time.monotonic() - t0 < 10
    stop()  # again: nothing left to do


def test_a_failed_training_is_logged_and_stop_is_then_a_no_op(monkeypatch: pytest.MonkeyPatch, lw_home: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(demo, "EARLY_TRAINING", "raise SystemExit('no exemplars here')")
    with caplog.at_level(logging.WARNING, logger="flows.demo"):
        stop = demo._train_early()
        deadline = time.monotonic() + 30
        while "early training failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "early training failed (exit 1)" in caplog.text and "no exemplars here" in caplog.text
    stop()


def test_the_training_child_lets_idle_threads_sleep_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path, lw_home: Path) -> None:
    out = tmp_path / "policy"
    monkeypatch.setattr(demo, "EARLY_TRAINING", f"import os; open({str(out)!r}, 'w').write(os.environ.get("
                                                "'OMP_WAIT_POLICY', 'unset'))")
    for env, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        if env is None:
            monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
        else:
            monkeypatch.setenv("OMP_WAIT_POLICY", env)
        out.unlink(missing_ok=True)
        demo._train_early()
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.read_text() == expected
