"""The blind English everyday list (issue 19): 400 UK/US board titles over all sectors, scored with 95% Wilson intervals.

    python -m evaluation.everyday_blind [--errors]

``evaluation/labels/everyday_blind_en.csv`` was written from the taxonomy alone and committed before anything ran
on it; its ``split`` column (dev when the first byte of SHA-256 of the title is even) is fixed. Titles are
classified as the pipeline classifies a title-only English posting. ``--errors`` lists the dev part's errors
only: the held-out part is only ever scored, so it stays an unseen measure of changes made on dev.
"""

from __future__ import annotations

import argparse
import hashlib

import pandas as pd

from evaluation.english_split import _line
from evaluation.prepare import LABELS_DIR

LIST = LABELS_DIR / "everyday_blind_en.csv"


def split_of(title: str) -> str:
    """``dev`` or ``heldout``: the fixed rule the list's ``split`` column was written with."""
    return "dev" if hashlib.sha256(title.encode("utf-8")).digest()[0] % 2 == 0 else "heldout"


def load_list() -> pd.DataFrame:
    """The list, checked: every row's split is the hash rule's (a hand edit cannot move a row between parts)."""
    df = pd.read_csv(LIST, dtype=str, keep_default_na=False)
    wrong = [t for t, s in zip(df["title"], df["split"], strict=True) if split_of(t) != s]
    if wrong:
        raise ValueError(f"{LIST}: split column disagrees with the hash rule for {len(wrong)} rows, e.g. {wrong[0]!r}")
    return df


def main() -> None:
    from models import load_classifier
    from models.classifier import PostingText

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--errors", action="store_true", help="list the dev part's errors (never held-out)")
    args = p.parse_args()
    df = load_list()
    clf = load_classifier()
    print(f"classifier {clf.model_version}")
    posts = [PostingText(f"blind-{i}", t, None, lang="en") for i, t in enumerate(df["title"])]
    df["got"] = [lab.role_category for lab in clf.classify(posts)]
    df["ok"] = df["got"] == df["expected_role_category"]
    print(f"role, blind everyday list ({LIST.name}), titles alone")
    for name, part in (("dev", df[df["split"] == "dev"]), ("held out", df[df["split"] == "heldout"]), ("all", df)):
        print(_line(name, list(part["ok"])))
    print("per sector (dev + held out)")
    for sector, part in df.groupby("sector", sort=False):
        print(_line(str(sector), list(part["ok"])))
    if args.errors:
        print("\nerrors, dev part only (expected ← predicted, sector, title)")
        dev = df[(df["split"] == "dev") & ~df["ok"]].sort_values(["expected_role_category", "got"])
        for r in dev.itertuples():
            print(f"  {r.expected_role_category:24s} ← {r.got:24s} {r.sector:22s} {r.title}")


if __name__ == "__main__":
    main()
