"""audit store, posting country and board category, role source, run heartbeat

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the analyst views over these tables stay valid on SQLite.
    op.add_column("crawl_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("postings", sa.Column("country", sa.String(2), nullable=True))
    op.create_index("ix_postings_country", "postings", ["country"])
    op.add_column("postings", sa.Column("board_category", sa.String(300), nullable=True))
    op.add_column("posting_labels", sa.Column("role_source", sa.String(10), nullable=True))
    op.add_column("posting_labels", sa.Column("role_category_text", sa.String(40), nullable=True))
    op.create_table(
        "audit_labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "posting_id",
            sa.Integer,
            sa.ForeignKey("postings.id", ondelete="CASCADE", name="fk_audit_labels_posting_id_postings"),
            nullable=False,
        ),
        sa.Column("field", sa.String(30), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=True),
        sa.Column("predicted", sa.String(40), nullable=True),
        sa.Column("true_value", sa.String(40), nullable=True),
        sa.Column("correct", sa.Boolean, nullable=True),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("auditor", sa.String(100), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_labels"),
    )
    op.create_index("ix_audit_labels_posting_field", "audit_labels", ["posting_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_audit_labels_posting_field", table_name="audit_labels")
    op.drop_table("audit_labels")
    # Native DROP COLUMN (SQLite >= 3.35) keeps the views valid too.
    op.drop_column("posting_labels", "role_category_text")
    op.drop_column("posting_labels", "role_source")
    op.drop_index("ix_postings_country", table_name="postings")
    op.drop_column("postings", "country")
    op.drop_column("postings", "board_category")
    op.drop_column("crawl_runs", "heartbeat_at")
