"""Golden cases for the English error classes fixed in issue 19 (project wording, not board rows).

AI level: each class the rules now read (rule tests, no model); and the fixed development/held-out split of the
English evaluation sets.
"""

from __future__ import annotations

import pytest

from models.ai_mentions import detect_ai

AI_CASES = [
    # AI as the adjective of a product, market or era describes the company's world, not the job
    ("Data Engineer", "You will build streaming pipelines feeding dashboards and AI-driven pricing.", "incidental"),
    ("Strategy Consultant", "Help clients compete against AI-native challengers in their markets.", "incidental"),
    ("Account Manager", "Our clients are preparing for the AI economy.", "incidental"),
    # AI as a vision ("the future/power of AI") in the company's voice
    ("Partnerships Lead", "Responsibilities: We harness the power of AI so shop owners spend less time on admin.",
     "incidental"),
    # a data platform that serves machine learning elsewhere: the job feeds ML, it does not build it
    ("Platform Engineer", "You will run large data platforms that support advanced machine learning for the group.",
     "incidental"),
    # a company describing itself in the third person
    ("Sales Director", "Headquartered in Leeds, the firm offers cloud services, AI consulting and engineering.",
     "incidental"),
    # typographic hyphens (U+2011) spell the same tool words
    ("Operations Analyst", "Requirements: design and roll out AI\u2011assisted triage of payment breaks.",
     "ai_tools"),
    # AI put to work in the job's own routine, even with a build word nearby
    ("Junior Engineer", "Requirements: examples of integrating AI into the way you work.", "ai_tools"),
    ("Reporting Analyst", "Requirements: automate monthly reporting, including the use of AI", "ai_tools"),
    # an LLM named among the AI tools the job uses
    ("Analytics Engineer", "Requirements: happy using AI tools (Copilot, Cursor, LLMs) to write code faster.",
     "ai_tools"),
    # AI as a trend the job watches, or an attitude to it, is not a duty (r19)
    ("Strategy Associate", "Requirements: a view on how generative AI is changing the way insurers build products.",
     "incidental"),
    ("Graduate Engineer", "Requirements: you want to build boldly with a team that takes AI seriously.",
     "incidental"),
    ("Consultant", "Requirements: follow the shift towards agentic AI while developing client strategy.", "incidental"),
    # the verb right before the mention decides over a build word elsewhere in a long glued clause (r19)
    ("Finance Analyst", "Requirements: build monthly packs and streamline reporting, including the use of AI to cut "
     "manual work", "ai_tools"),
    # a short label opening a line names a topic; what follows it says what the job does (r19)
    ("Analytics Engineer", "Responsibilities\nAI Integration: use AI tools and LLMs to speed up documentation.",
     "ai_tools"),
    ("Engineer", "Responsibilities\nAI Delivery: build and ship AI features for customers.", "ai_skills"),
    ("Engineer", "Requirements\nExperience building AI products: essential.", "ai_skills"),
    # a line of pipe-separated keywords: each item is read alone (r19)
    ("Platform Engineer", "Platform Engineer | Hybrid | Azure | AI & Analytics | Engineer the group's data platform",
     "incidental"),
    ("Platform Engineer", "Platform Engineer | Hybrid | build AI agents for support | Python", "ai_skills"),
    # unchanged: building with LLMs is still a skill, and an interest is still incidental
    ("Engineer", "Requirements: build retrieval pipelines on top of LLMs for customer support.", "ai_skills"),
    ("Graduate Developer", "Requirements: genuine curiosity about AI and what it means for engineering.",
     "incidental"),
]


@pytest.mark.parametrize(("title", "description", "level"), AI_CASES)
def test_english_ai_classes(title: str, description: str, level: str) -> None:
    assert detect_ai(title, description).level == level


def test_english_split_is_fixed_and_disjoint() -> None:
    """The held-out part is drawn once: the same ids give the same split, a quarter held out, nothing shared."""
    from evaluation.english_split import split_ids

    ids = [f"adzuna-{i}" for i in range(200)]
    dev, held = split_ids(ids)
    assert (dev, held) == split_ids(list(reversed(ids)))
    assert len(held) == 50 and not dev & held and dev | held == set(ids)
    assert split_ids(ids, seed=20)[1] != held


def test_blind_everyday_list_is_well_formed(tmp_path, monkeypatch) -> None:
    """The blind list names only taxonomy codes, holds both parts, and refuses a row moved between parts by hand."""
    import evaluation.everyday_blind as blind
    from labourwatch.contract import vocabulary

    df = blind.load_list()
    assert set(df["expected_role_category"]) <= set(vocabulary().role_codes)
    assert set(df["split"]) == {"dev", "heldout"} and len(df) == len(set(df["title"]))
    moved = df.copy()
    moved.loc[0, "split"] = "heldout" if moved.loc[0, "split"] == "dev" else "dev"
    edited = tmp_path / "everyday_blind_en.csv"
    moved.to_csv(edited, index=False)
    monkeypatch.setattr(blind, "LIST", edited)
    with pytest.raises(ValueError, match="split column disagrees"):
        blind.load_list()


def test_blind_ai_set_is_balanced_and_its_split_fixed() -> None:
    """The blind English AI-level passages: 60 per level, unique ids, and each split fixed by its id's hash."""
    import hashlib

    from evaluation.ai_level_blind import load_blind, render, score

    df = load_blind()
    assert df["expected_ai_level"].value_counts().to_dict() == {"none": 60, "incidental": 60, "ai_tools": 60,
                                                                "ai_skills": 60}
    assert df["id"].is_unique
    parity = ["dev" if int(hashlib.sha256(i.encode()).hexdigest(), 16) % 2 == 0 else "held-out" for i in df["id"]]
    assert list(df["split"]) == parity
    s = score(["none", "ai_tools", "ai_skills"], ["none", "incidental", "ai_skills"], "dev")
    assert s.level.confusion[("ai_tools", "incidental")] == 1
    assert s.references.positive_f1 == 1.0
    assert "accuracy=0.667" in render(s)
