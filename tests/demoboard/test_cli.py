"""The demo board commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def test_demo_truth_writes_the_files_and_states_the_findings(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo-truth", str(tmp_path / "t"), "--postings", "3000", "--seed", "4"])
    assert result.exit_code == 0, result.output
    for name in ("truth_postings.csv", "truth_monthly.csv", "truth_headline.json"):
        assert (tmp_path / "t" / name).is_file()
    rows = (tmp_path / "t" / "truth_postings.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3001
    data = json.loads((tmp_path / "t" / "truth_headline.json").read_text(encoding="utf-8"))
    assert "software_dev" in data["yoy_2026_03_vs_2025_03"]
    assert "software_dev" in result.output and "AI share" in result.output


def test_demo_sample_prints_postings_with_their_labels() -> None:
    result = runner.invoke(app, ["demo-sample", "--zh", "2", "--en", "1", "--postings", "800"])
    assert result.exit_code == 0, result.output
    assert result.output.count("TRUE LABELS") == 3
    assert "任职要求" in result.output or "岗位要求" in result.output or "任职资格" in result.output
    assert "Requirements" in result.output


def test_bench_demo_reports_throughput_and_memory() -> None:
    result = runner.invoke(app, ["bench", "demo", "--postings", "2000"])
    assert result.exit_code == 0, result.output
    assert re.search(r"generated 2,000 postings in [\d.]+ s = [\d,]+ postings/s", result.output)
    assert "peak RSS" in result.output


def test_demo_board_rejects_a_bad_fault_spec() -> None:
    result = runner.invoke(app, ["demo-board", "--postings", "50", "--faults", "500=oops"])
    assert result.exit_code != 0
    assert "500=oops" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_board_serves_in_the_foreground_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "flows.cli", "demo-board", "--port", str(port), "--postings", "300",
           "--truth-dir", str(tmp_path), "--faults", "429=0.5,burst=1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2) as r:
                    assert b"Disallow: /private/" in r.read()
                break
            except OSError:
                assert time.monotonic() < deadline, "demo board did not come up"
                time.sleep(0.2)
        assert (tmp_path / "truth_postings.csv").is_file()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}" in out and "requests served" in out
