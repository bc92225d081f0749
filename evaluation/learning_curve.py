"""Learning curve of audit labels: how held-out role accuracy grows when labelled postings join the training data.

    python -m evaluation.learning_curve /path/to/shared/data/real/zhaopin_dev.csv [--sizes 100 300 1000] [--folds 3]

A labelled file (id, title, description, expected_role_category) stands in for an analysts' audit store: it is
split into folds; for each fold, n labels drawn from the other folds are added to the shipped training data
(each counted as ``train --include-audit`` counts it) and the fold is scored on titles + descriptions. Nothing is
saved: the classifiers trained here are thrown away (real boards' data never trains a shipped artifact).
Classes absent from the shipped training data cannot appear: every audit label must be a taxonomy code.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def learning_curve(path: Path, sizes: list[int], folds: int = 3, seed: int = 7) -> pd.DataFrame:
    """Rows (size, fold, n_test, accuracy, seconds); size 0 is the shipped training data alone.

    To keep the curve affordable on a laptop, the feature space (vectorizers) is the shipped classifier's and the
    head with audit labels starts from the shipped head's weights (warm start); ``train --include-audit`` refits
    everything, so its gain can only be larger (the audit's own words join the vocabulary)."""
    import copy

    from scipy import sparse
    from sklearn.model_selection import StratifiedKFold

    from labourwatch.settings import get_settings
    from models.embed import load_embedder
    from models.roles import RoleClassifier, RoleFeatureConfig
    from models.segment import DEFAULT_USERDICT, Segmenter
    from models.train import (
        AUDIT_REPEAT,
        expand_exemplars,
        load_exemplars,
        load_occupations,
        merge_occupations,
        tag_exemplars,
    )

    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"title", "description", "expected_role_category"} - set(d.columns)
    if missing:
        raise ValueError(f"{path}: needs columns title, description, expected_role_category; lacks {sorted(missing)}")
    d = d[d.expected_role_category != ""].reset_index(drop=True)
    s = get_settings()
    embedder = load_embedder(s.embedding_model, s.cache_path)
    bank = load_occupations()
    data = merge_occupations(load_exemplars(), bank)
    base = expand_exemplars(data) + tag_exemplars(data, bank)
    t0 = time.perf_counter()
    clf = RoleClassifier(embedder, Segmenter((DEFAULT_USERDICT,)), RoleFeatureConfig())
    clf.fit([e.title for e in base], [e.description for e in base], [e.code for e in base])
    base_seconds = time.perf_counter() - t0
    X_base = clf._features([e.title for e in base], [e.description for e in base])
    y_base = np.array([e.code for e in base])
    X_all = clf._features(list(d.title), [x or None for x in d.description])
    y_all = d.expected_role_category.to_numpy()
    classes = list(clf.classes)
    # classes with fewer members than folds cannot be stratified: they go by plain shuffling
    counts = d.expected_role_category.value_counts()
    strata = d.expected_role_category.where(d.expected_role_category.map(counts) >= folds, "_rare")
    rng = np.random.default_rng(seed)
    rows = []

    def score(head, test_idx: np.ndarray) -> float:  # type: ignore[no-untyped-def]
        proba = head.predict_proba(X_all[test_idx])
        best = proba.argmax(axis=1)
        pred = [classes[j] if proba[i, j] >= clf.config.other_threshold else "other" for i, j in enumerate(best)]
        return float(np.mean(np.array(pred) == y_all[test_idx]))

    for k, (train_idx, test_idx) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(d, strata)):
        acc = score(clf.head, test_idx)
        rows.append({"size": 0, "fold": k, "n_test": len(test_idx), "accuracy": acc, "seconds": round(base_seconds, 1)})
        print(f"fold {k}:     0 audit labels → held-out accuracy {acc:.3f} (n={len(test_idx)})", flush=True)
        for n in sizes:
            if n > len(train_idx):
                continue
            take = rng.choice(train_idx, size=n, replace=False)
            t1 = time.perf_counter()
            head = copy.deepcopy(clf.head)
            head.set_params(warm_start=True)
            X = sparse.vstack([X_base] + [X_all[take]] * AUDIT_REPEAT, format="csr")
            y = np.concatenate([y_base] + [y_all[take]] * AUDIT_REPEAT)
            head.fit(X, y)
            acc = score(head, test_idx)
            rows.append({"size": n, "fold": k, "n_test": len(test_idx), "accuracy": acc,
                         "seconds": round(time.perf_counter() - t1, 1)})
            print(f"fold {k}: {n:5d} audit labels → held-out accuracy {acc:.3f} (n={len(test_idx)})", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("labelled", type=Path)
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    p.add_argument("--folds", type=int, default=3)
    args = p.parse_args()
    if not args.labelled.exists():
        raise SystemExit(f"labelled file not found: {args.labelled}")
    res = learning_curve(args.labelled, args.sizes, args.folds)
    print("\naudit labels  held-out accuracy (mean over folds, min–max)")
    for n, g in res.groupby("size"):
        print(f"{n:12d}  {g.accuracy.mean():.3f} ({g.accuracy.min():.3f}–{g.accuracy.max():.3f})  "
              f"n_test={int(g.n_test.sum())}")


if __name__ == "__main__":
    main()
