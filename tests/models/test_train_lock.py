"""One training per classifier version and cache, however many callers ask for it at once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from labourwatch.locks import exclusive
from labourwatch.settings import get_settings
from tests.models.conftest import FAKE_MODEL


def test_callers_asking_together_train_once_and_share_the_artifact(tmp_path: Path, lw_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from models import ensure_trained, load_classifier

    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABOURWATCH_EMBEDDING_MODEL", FAKE_MODEL)
    get_settings.cache_clear()
    caplog.set_level(logging.INFO, logger="models")
    found: list[Path] = []
    threads = [threading.Thread(target=lambda: found.append(ensure_trained())) for _ in range(2)]
    for t in threads:
        t.start()
    clf = load_classifier()  # a third caller, in this thread
    for t in threads:
        t.join()
    trainings = [r for r in caplog.records if r.getMessage().startswith("training role classifier")]
    assert len(trainings) == 1
    assert len(set(found)) == 1 and clf.model_version == found[0].name
    assert [p.name for p in (tmp_path / "cache" / "classifiers").iterdir() if p.is_dir()] == [found[0].name]
    get_settings.cache_clear()


def test_a_lock_holder_is_waited_for_and_a_killed_one_is_not(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "x.lock"
    order: list[str] = []

    def waiter() -> None:
        with exclusive(path):
            order.append("waiter in")

    with exclusive(path):
        t = threading.Thread(target=waiter)
        t.start()
        t.join(0.5)
        assert t.is_alive() and order == []  # waits while the lock is held
        order.append("holder out")
    t.join(5)
    assert order == ["holder out", "waiter in"]
    # a holder killed outright does not leave the lock taken
    code = ("import sys, time; from pathlib import Path; from labourwatch.locks import exclusive\n"
            "with exclusive(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    done = threading.Thread(target=waiter)
    done.start()
    done.join(5)
    assert not done.is_alive() and order[-1] == "waiter in" and len(order) == 3
