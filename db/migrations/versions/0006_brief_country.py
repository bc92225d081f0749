"""briefs per country: a brief is unique on (month, lang, country)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A brief is for one market since issue 18; (month, lang) alone let a second country's brief replace the
    # first's row. Briefs recorded before keep country '' (not recorded). Batch mode rebuilds the table on
    # SQLite (no view reads briefs) and issues plain ALTER TABLE statements on PostgreSQL.
    with op.batch_alter_table("briefs") as batch:
        batch.add_column(sa.Column("country", sa.String(length=8), nullable=False, server_default=""))
        batch.drop_constraint("uq_briefs_month_lang", type_="unique")
        batch.create_unique_constraint(op.f("uq_briefs_month_lang_country"), ["month", "lang", "country"])


def downgrade() -> None:
    # Keep one row per (month, lang) — the newest — before the narrower constraint comes back.
    op.execute("DELETE FROM briefs WHERE id NOT IN (SELECT MAX(id) FROM briefs GROUP BY month, lang)")
    with op.batch_alter_table("briefs") as batch:
        batch.drop_constraint("uq_briefs_month_lang_country", type_="unique")
        batch.create_unique_constraint(op.f("uq_briefs_month_lang"), ["month", "lang"])
        batch.drop_column("country")
