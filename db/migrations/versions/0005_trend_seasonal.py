"""seasonally adjusted monthly demand with moving-holiday flags

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEW = """
SELECT s.period AS month, s.dim, s.dim_value, s.category, s.n, d.yoy_change, d.yoy_ci_low, d.yoy_ci_high,
       s.holiday_shift, s.status, s.adjusted, s.index_value AS sa_index, s.holiday_factor, s.method,
       s.history_months, d.suppressed, s.model_version, s.computed_at
FROM trend_seasonal s
LEFT JOIN trend_demand d ON d.period_type = 'month' AND d.period = s.period AND d.dim = s.dim
     AND d.dim_value = s.dim_value AND d.category = s.category"""
COMMENTS = {
    "holiday_shift": "spring_festival or easter when the year-on-year change crosses a moved holiday",
    "status": "adjusted, or yoy_only when the series has fewer than 36 months (no adjusted value published)",
    "sa_index": "seasonally adjusted demand, series mean = 100",
    "holiday_factor": "multiplicative moving-holiday effect removed from n (1.0 = none)",
}


def upgrade() -> None:
    op.create_table(
        "trend_seasonal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("dim", sa.String(length=10), nullable=False),
        sa.Column("dim_value", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("adjusted", sa.Float(), nullable=True),
        sa.Column("index_value", sa.Float(), nullable=True),
        sa.Column("holiday_factor", sa.Float(), nullable=True),
        sa.Column("holiday_shift", sa.String(length=20), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("history_months", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_seasonal")),
        sa.UniqueConstraint("period", "dim", "dim_value", "category",
                            name=op.f("uq_trend_seasonal_period_dim_dim_value_category")),
    )
    op.execute(f"CREATE VIEW v_demand_seasonal_monthly AS {VIEW}")
    if op.get_bind().dialect.name == "postgresql":
        for col, text in COMMENTS.items():
            op.execute(sa.text(f"COMMENT ON COLUMN v_demand_seasonal_monthly.{col} IS '{text}'"))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_demand_seasonal_monthly")
    op.drop_table("trend_seasonal")
