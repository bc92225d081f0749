"""covering indexes for the trend scans at 10M postings

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06 20:00:00

The nightly trend update reads every canonical labelled posting once to fingerprint its periods, and the
full recompute aggregates them all. With these two indexes PostgreSQL answers both from the indexes alone
(index-only scans joined in posting-id order) instead of reading both tables; see docs/scaling.md.
SQLite gets the same names on the key columns (it has no INCLUDE).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

LABEL_INCLUDE = ["id", "labelled_at", "taxonomy_version", "role_category", "ai_level", "requires_3plus_years"]
POSTING_INCLUDE = ["posted_month", "posted_week", "source_id", "city", "lang", "country"]
CANONICAL = "canonical_id IS NULL AND posted_month IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_posting_labels_trends", "posting_labels", ["model_version", "posting_id"],
                    postgresql_include=LABEL_INCLUDE)
    op.create_index("ix_postings_trends", "postings", ["id"], postgresql_include=POSTING_INCLUDE,
                    postgresql_where=sa.text(CANONICAL), sqlite_where=sa.text(CANONICAL))


def downgrade() -> None:
    op.drop_index("ix_postings_trends", table_name="postings")
    op.drop_index("ix_posting_labels_trends", table_name="posting_labels")
