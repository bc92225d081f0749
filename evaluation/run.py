"""Prepare every evaluation file from the real boards' data and print one summary line per figure.

    python -m evaluation.run /path/to/shared/data/real --out /tmp/lw-eval [--record]

Uses the configured classifier (LABOURWATCH_* settings); ``--record`` stores the figures in the evaluations
table of the configured database.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluation.prepare import prepare

# file → (dataset name, what it measures)
FILES = {
    "lagou_titles.csv": "Lagou titles, board category mapped one-to-one (raw board agreement) + board workYear field",
    "lagou_titles_adjudicated.csv": "Lagou titles, 240-posting random sample adjudicated by reading under taxonomy.md",
    "adzuna_titles_adjudicated.csv": "120 distinct Adzuna UK titles labelled by reading (development: exemplar gaps found on it)",
    "adzuna_titles_heldout.csv": "80 further distinct Adzuna UK titles (held out from r1; development since)",
    "adzuna_titles_heldout2.csv": "150 further distinct Adzuna UK titles labelled blind (held out from the first r2 "
                                  "exemplars; development since)",
    "adzuna_titles_heldout3.csv": "120 further distinct Adzuna UK titles labelled blind (held out from the r2 title "
                                  "cleaning; development since)",
    "adzuna_titles_heldout4.csv": "100 further distinct Adzuna UK titles labelled blind, held out from the final r2",
    "adzuna_postings_heldout4.csv": "the same 100 postings whole (title + description)",
    "lagou_titles_ambiguous.csv": "Lagou titles whose board category spans several codes (experience field only)",
    "lagou_dev.csv": "Lagou backend-language listing pages (title + description) + board workYear field",
    "lagou_dev_adjudicated.csv": "the same, postings the taxonomy files elsewhere adjudicated by reading",
    "lagou_dev_text_experience.csv": "Lagou descriptions alone vs the board's workYear (free-text parsing)",
    "adzuna_experience_sample.csv": "45 random Adzuna postings, experience bucket labelled by reading (free text)",
    "adzuna_experience_stated.csv": "30 Adzuna postings that state a year figure or entry wording, labelled by reading",
    "lagou_experience_read.csv": "30 random Lagou descriptions, experience labelled by reading the text (held out)",
    "ai_sample.csv": "100 Adzuna/Lagou postings, AI level labelled by reading (development set: rules refined on it)",
    "ai_heldout.csv": "50 further postings labelled by reading after the r1 rules were frozen (held out from r1)",
    "ai_heldout2.csv": "80 further postings labelled blind (held out from r1; development for r2)",
    "ai_heldout3.csv": "70 further Adzuna postings labelled blind, held out from the r2 detector",
}


def main() -> None:
    from flows.classify import evaluate_file
    from models import load_classifier

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("real", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    prepare(args.real, args.out)
    clf = load_classifier()
    print(f"classifier {clf.model_version}")
    figures: dict[str, list[tuple[str, str, float, int]]] = {}
    for name, what in FILES.items():
        _, reports = evaluate_file(args.out / name, classifier=clf)
        print(f"\n{name}: {what}")
        for r in reports:
            extra = f"  F1(references_ai)={r.positive_f1:.3f}" if r.positive_f1 is not None else ""
            lo, hi = r.accuracy_interval
            print(f"  {r.field:20s} n={r.n:5d}  accuracy={r.accuracy:.3f} (95% CI {lo:.3f}–{hi:.3f})  "
                  f"macro-F1={r.macro_f1:.3f}{extra}")
            figures.setdefault(name, []).extend(r.figures())
    if args.record:
        from db.labels import record_evaluation
        from db.migrate import upgrade
        from db.session import get_engine

        engine = get_engine()
        upgrade(engine)
        for name, figs in figures.items():
            record_evaluation(engine, clf.model_version, name, figs)
        print("\nrecorded in the evaluations table")


if __name__ == "__main__":
    main()
