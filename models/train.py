"""Training the role classifier from the shipped exemplars, and saving/loading versioned artifacts."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np

from labourwatch.locks import exclusive
from models.ai_context import CONTEXT_HEAD, CONTEXTS_FILE, AIContextModel, load_contexts
from models.board_categories import BOARD_CATEGORIES_FILE
from models.embed import BUILTIN_ENGINES, embedding_engine, engine_tag, load_embedder
from models.roles import FEATURES_VERSION, RoleClassifier, RoleFeatureConfig
from models.segment import CJK, DEFAULT_USERDICT, RESOURCES, Segmenter
from models.softmax import SOLVER_VERSION
from models.taxonomy import TAXONOMY_VERSION, load_taxonomy, load_yaml

log = logging.getLogger(__name__)

EXEMPLARS_FILE = RESOURCES / "exemplars.yaml"
OCCUPATIONS_FILE = RESOURCES / "occupations.yaml"
DUTIES_FILE = RESOURCES / "duties_en.yaml"
ARTIFACT_FORMAT = 2  # 2: the AI-context head (ai_context.joblib) travels with the role head
# Bump when the experience or AI rules change: the version names the whole labeller, not only the head.
RULES_VERSION = "r5"  # r3: AI trends and attitudes, labels, the verb before a mention; r4: pipe-separated keyword lines; r5: English AI vocabulary, imperative duties, describing nouns, traps (issue 19)
# Bump when the way training examples are drawn from the exemplars and the bank changes (same files → other examples).
EXAMPLES_VERSION = "e2"  # e2: example titles picked by rendezvous hashing, stable under edits (issue 19)

_ZH_PREFIX = ("", "", "高级", "资深", "初级", "中级", "", "急招", "诚聘", "招聘")
_ZH_SUFFIX = ("", "", "（北京）", "-上海", "【急招】", "（双休）", "（深圳）", "实习生", "（五险一金）", "(杭州)", "（校招）",
              "（金融方向）", "-电商事业部", "（游戏）", "（互联网）",
              "-总部", "（J10086）", "（医疗方向）", "-技术中心", "+包吃住", "（长白班）", "（2025届）", "8K-12K",
              "（直招）", "（周末双休）")
# Boards put a highlight line before the skill tags ("五险一金，双休；tag|tag|tag").
_ZH_HIGHLIGHTS = ("", "", "", "五险一金，周末双休；", "包吃包住；", "上市公司，晋升空间大；", "带薪培训；", "Competitive salary; ")
# Boards put department names in front too: "集团总部-大数据中心-视觉设计师".
_ZH_DEPT = ("", "", "", "", "", "", "总部-", "金融事业部-", "【创新实验室】", "技术中心-")
_EN_PREFIX = ("", "", "Senior ", "Junior ", "Lead ", "Graduate ", "Principal ", "Trainee ", "Sr ", "Interim ")
# English boards put qualifiers after the role: places, pay, contract terms, the team or sector, an agency reference.
_EN_SUFFIX = ("", "", " - London", " (Remote)", " - Manchester", " | Hybrid", " – 12 month contract", " (Part Time)",
              " - Data Team", " (FinTech)", " – Healthcare", " (Big Data)", ", Global Technology", " - £45,000 - £55,000",
              " - Up to £70k + Bonus", " | Outside IR35 | £550/day", " - Leeds - Hybrid", " (SC Cleared)", " - Ref 40213",
              " - Birmingham, West Midlands", " - Fully Remote, UK", " (12 Month FTC)", " | Edinburgh", " – Permanent")


@dataclass(frozen=True)
class Exemplar:
    """One training example."""

    title: str
    description: str | None
    code: str


@dataclass(frozen=True)
class TrainReport:
    """What ``train`` built: version, where, how many examples, and how long it took."""

    version: str
    path: Path
    examples: int
    categories: int
    seconds: float
    context_clauses: int = 0
    audit_labels: int = 0
    # (stage, seconds) in the order they ran, summing to ``seconds``; empty when the version already existed
    stages: tuple[tuple[str, float], ...] = ()


def load_exemplars(path: Path = EXEMPLARS_FILE) -> dict[str, dict[str, list[str]]]:
    """Per-category core titles (``zh``, ``en``) and ``snippets`` from the exemplars file."""
    data = load_yaml(path)
    codes = set(load_taxonomy().codes)
    unknown = set(data) - codes
    if unknown:
        raise ValueError(f"{path}: categories not in the taxonomy: {sorted(unknown)}")
    missing = codes - set(data)
    if missing:
        raise ValueError(f"{path}: no exemplars for {sorted(missing)}")
    return {code: {k: [str(x) for x in (v.get(k) or [])] for k in ("zh", "en", "snippets")}
            for code, v in data.items()}


@dataclass(frozen=True)
class OccupationBank:
    """The occupation bank: per code, its groups' titles and tags; titles that carry no role word."""

    titles: dict[str, dict[str, list[str]]]  # code → {"zh": [...], "en": [...]}
    tags: dict[str, list[list[str]]]  # code → one tag list per occupation group
    no_role_titles: list[str]


def load_occupations(path: Path = OCCUPATIONS_FILE) -> OccupationBank:
    """The occupation bank file (titles and skill tags per code, organised by occupation group)."""
    data = load_yaml(path)
    codes = set(load_taxonomy().codes)
    unknown = set(data.get("codes", {})) - codes
    if unknown:
        raise ValueError(f"{path}: categories not in the taxonomy: {sorted(unknown)}")
    titles: dict[str, dict[str, list[str]]] = {}
    tags: dict[str, list[list[str]]] = {}
    for code, groups in data["codes"].items():
        t = titles.setdefault(code, {"zh": [], "en": []})
        for g in groups:
            t["zh"] += [str(x) for x in g.get("zh") or []]
            t["en"] += [str(x) for x in g.get("en") or []]
            if g.get("tags"):
                tags.setdefault(code, []).append([str(x) for x in g["tags"]])
    return OccupationBank(titles, tags, [str(x) for x in data.get("no_role_titles") or []])


def load_duties(exemplars: dict[str, dict[str, list[str]]], path: Path = DUTIES_FILE) -> tuple[list[str], list[str]]:
    """(texts, codes) the duty reader learns from: the English duty sentences file and the exemplars' English
    snippets (those without Chinese characters)."""
    data = load_yaml(path) or {}
    unknown = set(data) - set(load_taxonomy().codes)
    if unknown:
        raise ValueError(f"{path}: categories not in the taxonomy: {sorted(unknown)}")
    texts: list[str] = []
    codes: list[str] = []
    for code in sorted(exemplars):
        for s in exemplars[code]["snippets"] + [str(x) for x in data.get(code) or []]:
            if not CJK.search(s):
                texts.append(s)
                codes.append(code)
    return texts, codes


def merge_occupations(data: dict[str, dict[str, list[str]]], bank: OccupationBank) -> dict[str, dict[str, list[str]]]:
    """Exemplars with the bank's titles added (duplicates dropped, order kept)."""
    out = {code: {k: list(v) for k, v in d.items()} for code, d in data.items()}
    for code, t in bank.titles.items():
        for lang in ("zh", "en"):
            seen = set(out[code][lang])
            out[code][lang] += [x for x in t[lang] if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]
    return out


class TitlePicker:
    """Picks titles from a set by rendezvous (highest-random-weight) hashing, so that edits to the set move few picks.

    Draw ``i`` under key ``k`` takes the title with the lowest ``mix(key(k, i) ^ hash(title))``. A draw depends only
    on the set of titles, not on their order or number: adding a title changes just the draws it wins (about 1/n of
    them), removing one just the draws it had won. Each title is hashed once; a key's draws are scored together.
    """

    def __init__(self, titles: list[str]) -> None:
        self.titles = sorted(set(titles))
        self._hashes = np.array([_h64(t) for t in self.titles], dtype=np.uint64)

    def picks(self, key: tuple[str, ...], draws: int) -> list[str]:
        """``draws`` titles for the draw key ``key`` (e.g. seed, code, group, purpose); draw ``i`` is the same
        whatever ``draws`` is."""
        if not self.titles:
            raise ValueError(f"no titles to draw from for {key!r}: give the code at least one title")
        keys = _mix64(np.uint64(_h64(*key)) + np.arange(1, draws + 1, dtype=np.uint64) * np.uint64(_GOLDEN))
        best = _mix64(keys[:, None] ^ self._hashes[None, :]).argmin(axis=1)
        return [self.titles[j] for j in best]


_GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment: consecutive draws get well-spread keys


def _h64(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest(), "little")


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays (wrapping arithmetic): every input bit moves every output bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def tag_exemplars(data: dict[str, dict[str, list[str]]], bank: OccupationBank, per_group: int = 32,
                  seed: int = 13) -> list[Exemplar]:
    """Title + skill-tag examples (boards' list pages carry "highlight；tag|tag|tag"), and titles with no role
    word whose tags alone decide.

    The tag lines come from the group's own seed (seed, code, group, tags); the titles are picked by ``TitlePicker``,
    so adding or removing a title changes only the examples that title wins or had won.
    """
    out: list[Exemplar] = []
    no_role = TitlePicker(bank.no_role_titles) if bank.no_role_titles else None
    for code in sorted(bank.tags):
        titles = TitlePicker(data[code]["zh"] + data[code]["en"])
        for gi, tags in enumerate(bank.tags[code]):
            rng = random.Random(_digest(str(seed).encode(), code.encode(), str(gi).encode(), *(t.encode() for t in tags)))
            key = (str(seed), code, str(gi))
            own = titles.picks((*key, "title"), per_group)
            generic = no_role.picks((*key, "no-role"), per_group) if no_role else own
            for i in range(per_group):
                k = rng.randint(1, min(5, len(tags)))
                desc = rng.choice(_ZH_HIGHLIGHTS) + "|".join(rng.sample(tags, k))
                out.append(Exemplar(generic[i] if i % 3 == 0 else own[i], desc, code))
    return out


def expand_exemplars(data: dict[str, dict[str, list[str]]], variants: int = 3, seed: int = 13,
                     en_variants: int | None = None) -> list[Exemplar]:
    """Each core title, plus ``variants`` decorated copies (seniority, place, qualifiers) and snippet pairs.

    ``en_variants`` (default: ``variants``) sets the copies of English titles, which outnumber the Chinese ones.
    Each title's decorations are drawn from its own seed (the seed, code and title), and each snippet's titles are
    picked by ``TitlePicker``, so adding or removing an exemplar leaves the other titles' examples as they were and
    moves only the snippet pairings the title wins or had won: retraining after a small edit changes little else.
    """
    en_variants = variants if en_variants is None else en_variants

    def rng_for(*key: str) -> random.Random:
        return random.Random(_digest(str(seed).encode(), *(k.encode() for k in key)))

    out: list[Exemplar] = []
    for code in sorted(data):
        d = data[code]
        for title in d["zh"]:
            out.append(Exemplar(title, None, code))
            rng = rng_for(code, "zh", title)
            for _ in range(variants):
                out.append(Exemplar(rng.choice(_ZH_DEPT) + rng.choice(_ZH_PREFIX) + title + rng.choice(_ZH_SUFFIX),
                                    None, code))
        for title in d["en"]:
            out.append(Exemplar(title, None, code))
            rng = rng_for(code, "en", title)
            for _ in range(en_variants):
                out.append(Exemplar(rng.choice(_EN_PREFIX) + title + rng.choice(_EN_SUFFIX), None, code))
        if d["snippets"]:
            titles = TitlePicker(d["zh"] + d["en"])
            for snippet in d["snippets"]:
                out += [Exemplar(t, snippet, code) for t in titles.picks((str(seed), code, "snippet", snippet), 3)]
    return out


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
        h.update(b"\0")
    return h.hexdigest()


def _slug(name: str) -> str:
    base = name.rstrip("/").split("/")[-1]
    return "".join(c if c.isalnum() else "-" for c in base.lower()).strip("-")[:40] or "model"


def artifact_version(embedding_model: str, config: RoleFeatureConfig, exemplars: Path = EXEMPLARS_FILE,
                     userdict: Path = DEFAULT_USERDICT, contexts: Path = CONTEXTS_FILE,
                     occupations: Path = OCCUPATIONS_FILE, board_map: Path = BOARD_CATEGORIES_FILE,
                     duties: Path = DUTIES_FILE) -> str:
    """A deterministic version: same exemplars, occupation bank, English duties, board-category table, AI contexts, dictionaries,
    rules, features, embedder and embedding engine (``embedding_engine``) → same version."""
    engine = embedding_engine(embedding_model)
    digest = _digest(exemplars.read_bytes(), occupations.read_bytes(), duties.read_bytes(), board_map.read_bytes(), contexts.read_bytes(), json.dumps(CONTEXT_HEAD).encode(),
                     userdict.read_bytes(), RULES_VERSION.encode(),
                     json.dumps(asdict(config), sort_keys=True).encode(), embedding_model.encode(),
                     str(ARTIFACT_FORMAT).encode(), FEATURES_VERSION.encode(), EXAMPLES_VERSION.encode(),
                     SOLVER_VERSION.encode(),
                     # the built-in model's own engine computes (nearly) the same vectors differently: its own version
                     *([engine_tag(engine).encode()] if engine in BUILTIN_ENGINES else []))
    return f"roles-t{TAXONOMY_VERSION}-{RULES_VERSION}-{_slug(embedding_model)}-{digest[:10]}"


AUDIT_REPEAT = 3  # an audited posting counts as much as a project title with its decorated copies


def train(embedding_model: str, cache_path: Path, config: RoleFeatureConfig | None = None,
          exemplars: Path = EXEMPLARS_FILE, force: bool = False,
          audit: list[Exemplar] | None = None) -> TrainReport:
    """Train the role classifier on the exemplars and write ``<cache>/classifiers/<version>/``.

    ``audit``: analysts' audited postings added to the training data (each counted ``AUDIT_REPEAT`` times). Such a
    classifier gets its own version (the audit's size and digest in the name, ``training.audit_labels`` in its
    config) and is never the default: select it with LABOURWATCH_CLASSIFIER_VERSION or ``reclassify``.

    The folder holds ``config.json`` (versions, embedding model reference, feature weights, training
    stats), the jieba user dictionary it was trained with, ``head.joblib`` (the role head) and
    ``ai_context.joblib`` (the AI-context head). Existing versions are reused unless ``force``.
    """
    config = config or RoleFeatureConfig()
    version = artifact_version(embedding_model, config, exemplars)
    audit = list(audit or [])
    if audit:
        bad = sorted({e.code for e in audit} - set(load_taxonomy().codes))
        if bad:
            raise ValueError(f"audit labels name codes not in the taxonomy: {bad}")
        audit_digest = _digest(*(f"{e.title}\t{e.description or ''}\t{e.code}".encode() for e in audit))
        version = f"{version}-audit{len(audit)}-{audit_digest[:8]}"
    dest = cache_path / "classifiers" / version
    # One training per version and cache: processes or threads asking together (Dask workers, the demo's early
    # start and its backfill) wait for the first and then reuse what it wrote.
    with exclusive(dest.with_name(dest.name + ".lock"), f"waiting for the training of {version} already under way"):
        return _train_into(dest, version, embedding_model, cache_path, config, exemplars, force, audit)


def _train_into(dest: Path, version: str, embedding_model: str, cache_path: Path, config: RoleFeatureConfig,
                exemplars: Path, force: bool, audit: list[Exemplar]) -> TrainReport:
    if (dest / "config.json").exists() and not force:
        log.info("classifier %s already trained at %s", version, dest)
        meta = json.loads((dest / "config.json").read_text())
        t = meta["training"]
        return TrainReport(version, dest, t["examples"], t["categories"], 0.0, int(t.get("ai_context_clauses", 0)),
                           int(t.get("audit_labels", 0)))
    t0 = time.perf_counter()
    stages: list[tuple[str, float]] = []
    mark = t0

    def stage(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages.append((name, now - mark))
        mark = now

    bank = load_occupations()
    shipped = load_exemplars(exemplars)
    data = merge_occupations(shipped, bank)
    examples = expand_exemplars(data) + tag_exemplars(data, bank) + audit * AUDIT_REPEAT
    stage("training examples")
    segmenter = Segmenter((DEFAULT_USERDICT,))
    engine = embedding_engine(embedding_model)
    embedder = load_embedder(embedding_model, cache_path, engine=engine)
    clf = RoleClassifier(embedder, segmenter, config)
    stage("segmenter and embedding engine")
    log.info("training role classifier %s on %d examples with %s", version, len(examples), embedding_model)
    clf.fit([e.title for e in examples], [e.description for e in examples], [e.code for e in examples])
    for name, secs in clf.fit_stages:
        stages.append((f"role head: {name}", secs))
    mark = time.perf_counter()
    duty_texts, duty_codes = load_duties(shipped)
    clf.fit_duties(duty_texts, duty_codes)
    stage("duty reader")
    clauses, clause_labels = load_contexts(CONTEXTS_FILE)
    context = AIContextModel(embedder, segmenter).fit(clauses, clause_labels)
    stage("AI context head")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copyfile(DEFAULT_USERDICT, tmp / "userdict.txt")
    joblib.dump(clf.state(), tmp / "head.joblib", compress=3)
    joblib.dump(context.state(), tmp / "ai_context.joblib", compress=3)
    import sklearn

    meta = {
        "format": ARTIFACT_FORMAT,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy_version": TAXONOMY_VERSION,
        "rules_version": RULES_VERSION,
        "features_version": FEATURES_VERSION,
        "embedding_model": embedding_model,
        "embedding_dim": embedder.dim,
        "embedding_engine": engine,
        "features": asdict(config),
        "userdicts": ["userdict.txt"],
        "classes": list(clf.classes),
        "sklearn_version": sklearn.__version__,
        "training": {"examples": len(examples), "categories": len(data),
                     "exemplars_sha256": _digest(exemplars.read_bytes()),
                     "occupations_sha256": _digest(OCCUPATIONS_FILE.read_bytes()),
                     "duty_sentences": len(duty_texts), "duties_sha256": _digest(DUTIES_FILE.read_bytes()),
                     "audit_labels": len(audit),
                     "ai_context_clauses": len(clauses), "ai_contexts_sha256": _digest(CONTEXTS_FILE.read_bytes())},
    }
    (tmp / "config.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    stage("writing the artifact")
    secs = time.perf_counter() - t0
    log.info("trained %s in %.1fs → %s", version, secs, dest)
    return TrainReport(version, dest, len(examples), len(data), secs, len(clauses), len(audit), tuple(stages))


@dataclass(frozen=True)
class Artifact:
    """A loaded artifact: its metadata and the ready role classifier."""

    version: str
    path: Path
    meta: dict[str, object]
    roles: RoleClassifier
    ai_context: AIContextModel


def list_artifacts(cache_path: Path) -> list[tuple[str, dict[str, object]]]:
    """(version, config) of every trained artifact in the cache, newest first."""
    root = cache_path / "classifiers"
    out = []
    if root.exists():
        for d in root.iterdir():
            cfg = d / "config.json"
            if d.is_dir() and cfg.exists() and not d.name.endswith(".tmp"):
                try:
                    out.append((d.name, json.loads(cfg.read_text())))
                except ValueError:
                    log.warning("ignoring unreadable artifact config %s", cfg)
    out.sort(key=lambda x: str(x[1].get("created_at", "")), reverse=True)
    return out


def load_artifact(path: Path, cache_path: Path) -> Artifact:
    """Load a trained artifact folder; the embedding model named in its config is loaded (built if needed)."""
    cfg_file = path / "config.json"
    if not cfg_file.exists():
        raise FileNotFoundError(f"{path} is not a classifier artifact (no config.json); run `labourwatch train`")
    meta = json.loads(cfg_file.read_text())
    if meta.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path}: artifact format {meta.get('format')} is not {ARTIFACT_FORMAT}; retrain it")
    if meta.get("features_version") != FEATURES_VERSION:
        raise ValueError(f"{path}: trained with features {meta.get('features_version')} but this code computes "
                         f"{FEATURES_VERSION}; run `labourwatch train`")
    segmenter = Segmenter(tuple(path / u for u in meta["userdicts"]))
    # served by the engine it was trained with (artifacts from before the engine setting: sentence-transformers)
    name = str(meta["embedding_model"])
    engine = meta.get("embedding_engine") or ("hash" if name.startswith("hash:") else "sentence-transformers")
    embedder = load_embedder(name, cache_path, engine=None if engine == "hash" else str(engine))
    if embedder.dim != meta["embedding_dim"]:
        raise ValueError(f"{path}: trained with {meta['embedding_dim']}-d embeddings but "
                         f"{meta['embedding_model']} gives {embedder.dim}-d; retrain")
    roles = RoleClassifier(embedder, segmenter, RoleFeatureConfig(**meta["features"]))
    roles.load_state(joblib.load(path / "head.joblib"))
    context = AIContextModel(embedder, segmenter)
    context.load_state(joblib.load(path / "ai_context.joblib"))
    return Artifact(str(meta["version"]), path, meta, roles, context)
