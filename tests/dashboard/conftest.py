"""A small labelled database with trend tables (SQLite and PostgreSQL) for the dashboard tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from db import schema
from db.bulk import bulk_insert_labelled
from db.synthetic import synthetic_postings
from db.trends import update_trends
from models.taxonomy import load_taxonomy

MODEL_VERSION = "dash-test-1"


def build_demo_db(engine: Engine, n: int = 6000, brief_dir: Path | None = None) -> None:
    """``n`` synthetic labelled postings (2024-01..2026-03), URLs and AI terms on some, a crawl run with
    rejects, duplicates, trend tables with the taxonomy's groups, an evaluation and (optionally) a brief."""
    ids = bulk_insert_labelled(engine, synthetic_postings(n, seed=11), model_version=MODEL_VERSION,
                               labelled_at=datetime(2026, 4, 1, tzinfo=UTC))
    P, L, S, R = schema.Posting, schema.PostingLabel, schema.Source, schema.CrawlRun
    now = datetime(2026, 4, 1, 2, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(update(P).where(P.id.in_(ids[::3])).values(url="http://127.0.0.1:9/jobs/x"))
        c.execute(update(L).where(L.posting_id.in_(ids[:200]), L.ai_level != "none").values(
            ai_terms=["大模型", "AIGC"], role_confidence=0.83))
        # ten postings are duplicates of others: excluded from counts, visible as the duplicate rate
        for dup, canon in zip(ids[-10:], ids[:10], strict=True):
            c.execute(update(P).where(P.id == dup).values(canonical_id=canon))
        for sid in c.execute(select(S.id)).scalars():
            c.execute(insert(R).values(source_id=sid, kind="crawl", started_at=now, finished_at=now,
                                       status="succeeded", stats={"items_scraped": 100,
                                                                  "dropped": {"missing_title": 3}}))
        c.execute(insert(schema.Evaluation).values(model_version=MODEL_VERSION, dataset="gold-v1",
                                                   field="role_category", metric="accuracy", value=0.87, n=400,
                                                   created_at=now))
        if brief_dir is not None:
            brief_dir.mkdir(parents=True, exist_ok=True)
            pdf = brief_dir / "brief-2026-03-zh.pdf"
            pdf.write_bytes(b"%PDF-1.4\n% labourwatch test brief\n%%EOF\n")
            c.execute(insert(schema.Brief).values(month="2026-03", lang="zh", path=str(pdf), sha256="0" * 64,
                                                  pages=4, model_version=MODEL_VERSION, created_at=now))
    groups = {k: list(v) for k, v in load_taxonomy().groups.items() if k != "all"}
    update_trends(engine, groups)


@pytest.fixture
def demo_engine(engine: Engine, tmp_path: Path) -> Engine:
    """A migrated database on each backend holding the small demo data and its trend tables."""
    build_demo_db(engine, brief_dir=tmp_path / "briefs")
    return engine
