"""The English sets split once into development and held-out parts (issue 19), scored with 95% Wilson intervals.

    python -m evaluation.english_split /path/to/shared/data/real [--errors]

Role: the 570 labelled Adzuna titles (every ``adzuna_roles*.csv``), scored as titles alone and as whole postings
(title + description, as the pipeline classifies them; the readers read the description where the title left the
role open); AI level: the English rows of the
``ai_level*.csv`` sets. Each pool is shuffled with a fixed seed and 25% is held out. The held-out part is only
ever scored (``--errors`` lists the errors of the development part alone), so it stays an unseen measure while
the exemplars and rules are changed on the development part's errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.prepare import LABELS_DIR

SEED = 19  # the number: fixed once, never re-drawn
HELD_OUT_SHARE = 0.25
ROLE_FILES = ("adzuna_roles_sample.csv", "adzuna_roles_heldout.csv", "adzuna_roles_heldout2.csv",
              "adzuna_roles_heldout3.csv", "adzuna_roles_heldout4.csv")
AI_FILES = ("ai_level_sample.csv", "ai_level_heldout.csv", "ai_level_heldout2.csv", "ai_level_heldout3.csv")


def split_ids(ids: list[str], seed: int = SEED, share: float = HELD_OUT_SHARE) -> tuple[set[str], set[str]]:
    """(development ids, held-out ids): the sorted distinct ids shuffled with ``seed``, the first ``share``
    held out."""
    pool = sorted(set(ids))
    order = np.random.default_rng(seed).permutation(len(pool))
    k = round(len(pool) * share)
    held = {pool[i] for i in order[:k]}
    return set(pool) - held, held


def _labels(files: tuple[str, ...]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(LABELS_DIR / f, dtype=str) for f in files], ignore_index=True).drop_duplicates("id")


def _wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)


def _line(name: str, ok: list[bool]) -> str:
    k, n = sum(ok), len(ok)
    lo, hi = _wilson(k, n)
    return f"  {name:34s} n={n:4d}  accuracy={k / n:.3f} (95% CI {lo:.3f}–{hi:.3f})"


def main() -> None:
    from models import load_classifier
    from models.classifier import Labels, PostingText
    from models.evaluate import f1_scores

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("real", type=Path)
    p.add_argument("--errors", action="store_true", help="list the development part's errors (never held-out)")
    args = p.parse_args()
    z = pd.read_csv(args.real / "adzuna_uk_data_jobs.csv", dtype=str)
    clf = load_classifier()
    print(f"classifier {clf.model_version}")

    roles = _labels(ROLE_FILES)
    dev, held = split_ids(list(roles["id"]))
    exp = dict(zip(roles["id"], roles["expected_role_category"], strict=True))
    got: dict[str, Labels] = {}
    for what, with_description in (("titles", False), ("whole postings", True)):
        posts = []
        for i in roles["id"]:
            r = z.loc[int(i.split("-")[1])]
            d = r.get("job_description") if with_description else None
            posts.append(PostingText(i, r["job_title"], d if isinstance(d, str) else None, lang="en"))
        got = {str(p.id): lab for p, lab in zip(posts, clf.classify(posts), strict=True)}
        print(f"role, Adzuna {what} (English)")
        for name, part in (("development", dev), ("held out", held), ("all", dev | held)):
            print(_line(name, [got[i].role_category == exp[i] for i in sorted(part)]))

    ai = _labels(AI_FILES)
    ai = ai[ai["id"].str.startswith("adzuna-")]
    adev, aheld = split_ids(list(ai["id"]))
    aposts = []
    for i in ai["id"]:
        r = z.loc[int(i.split("-")[1])]
        d = r.get("job_description")
        aposts.append(PostingText(i, r["job_title"], d if isinstance(d, str) else None, lang="en"))
    agot = {str(p.id): lab for p, lab in zip(aposts, clf.classify(aposts), strict=True)}
    aexp = dict(zip(ai["id"], ai["expected_ai_level"], strict=True))
    print("ai_level, Adzuna postings (English)")
    for name, part in (("development", adev), ("held out", aheld), ("all", adev | aheld)):
        ids = sorted(part)
        f1 = f1_scores(["true" if aexp[i] != "none" else "false" for i in ids],
                       ["true" if agot[i].references_ai else "false" for i in ids]).get("true", 0.0)
        print(_line(name, [agot[i].ai_level == aexp[i] for i in ids]) + f"  F1(references_ai)={f1:.3f}")

    if args.errors:
        print("\nrole errors on whole postings, development part only (expected ← predicted, confidence, title)")
        for i in sorted(dev, key=lambda i: (exp[i], got[i].role_category)):
            if got[i].role_category != exp[i]:
                t = z.loc[int(i.split("-")[1]), "job_title"]
                print(f"  {exp[i]:24s} ← {got[i].role_category:24s} {got[i].role_confidence:.2f}  {t}")
        print("\nai_level errors, development part only (expected ← predicted, terms, title)")
        for i in sorted(adev):
            if agot[i].ai_level != aexp[i]:
                t = z.loc[int(i.split("-")[1]), "job_title"]
                print(f"  {i:14s} {aexp[i]:14s} ← {agot[i].ai_level:14s} {list(agot[i].ai_terms)}  {t}")


if __name__ == "__main__":
    main()
