"""`labourwatch bench train`: a training from scratch in a fresh process and cache, its time split into stages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.bench import bench_train


def test_a_fresh_training_is_timed_stage_by_stage_in_a_scratch_cache(fake_classifier: None, lw_home: Path) -> None:
    configured = Path(os.environ["LABOURWATCH_CACHE_DIR"]) / "classifiers"
    before = sorted(p.name for p in configured.glob("*")) if configured.exists() else []
    (r,) = bench_train(runs=1)
    assert r.version.startswith("roles-") and r.examples > 20_000
    names = [name for name, _ in r.stages]
    assert names[0] == "training examples" and names[-1] == "writing the artifact"
    assert {"role head: title embeddings", "role head: solver", "AI context head"} <= set(names)
    assert all(secs >= 0 for _, secs in r.stages)
    # the stages are the training's clock cut in pieces; the process adds Python's imports
    assert sum(secs for _, secs in r.stages) == pytest.approx(r.seconds, rel=0.02, abs=0.05)
    assert r.process_seconds > r.seconds and r.peak_rss_mb > 100
    # a scratch cache: nothing was trained into the configured one
    after = sorted(p.name for p in configured.glob("*")) if configured.exists() else []
    assert after == before


def test_the_command_prints_its_tables_and_refuses_zero_runs(fake_classifier: None, lw_home: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "flows.cli", "bench", "train"], capture_output=True, text=True,
                        timeout=600, check=False, env={**os.environ, "COLUMNS": "80"})
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert "trained in (s)" in ok.stdout and "role head: solver" in ok.stdout
    assert max(len(line) for line in ok.stdout.splitlines()) <= 80
    bad = subprocess.run([sys.executable, "-m", "flows.cli", "bench", "train", "--runs", "0"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert bad.returncode != 0
    assert "--runs must be at least 1, got 0" in bad.stdout + bad.stderr
