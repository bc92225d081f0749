"""trend period fingerprints, weekly index, analyst views

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DEMAND_COLS = """
    dim, dim_value, category, n, n_prev_year, yoy_change, yoy_ci_low, yoy_ci_high,
    baseline_mean, index_value, suppressed, model_version, taxonomy_version, computed_at"""


def _share_view(period_type: str, period_col: str) -> str:
    # One row per cell; every AI metric shares the same denominator (all canonical labelled postings).
    return f"""
SELECT a.period AS {period_col}, a.dim, a.dim_value, a.category,
       a.n, a.k AS n_references_ai, a.share AS share_references_ai,
       a.ci_low AS ci_low_references_ai, a.ci_high AS ci_high_references_ai,
       i.share AS share_incidental, t.share AS share_ai_tools, t.ci_low AS ci_low_ai_tools,
       t.ci_high AS ci_high_ai_tools, s.share AS share_ai_skills, s.ci_low AS ci_low_ai_skills,
       s.ci_high AS ci_high_ai_skills, a.suppressed, a.model_version, a.taxonomy_version
FROM trend_shares a
LEFT JOIN trend_shares i ON i.period_type = a.period_type AND i.period = a.period AND i.dim = a.dim
     AND i.dim_value = a.dim_value AND i.category = a.category AND i.metric = 'ai_incidental'
LEFT JOIN trend_shares t ON t.period_type = a.period_type AND t.period = a.period AND t.dim = a.dim
     AND t.dim_value = a.dim_value AND t.category = a.category AND t.metric = 'ai_tools'
LEFT JOIN trend_shares s ON s.period_type = a.period_type AND s.period = a.period AND s.dim = a.dim
     AND s.dim_value = a.dim_value AND s.category = a.category AND s.metric = 'ai_skills'
WHERE a.period_type = '{period_type}' AND a.metric = 'references_ai'"""


VIEWS: dict[str, str] = {
    "v_demand_monthly": f"SELECT period AS month, {_DEMAND_COLS}\nFROM trend_demand WHERE period_type = 'month'",
    "v_demand_weekly": f"SELECT period AS week, {_DEMAND_COLS}\nFROM trend_demand WHERE period_type = 'week'",
    "v_ai_share_monthly": _share_view("month", "month"),
    "v_ai_share_weekly": _share_view("week", "week"),
    "v_experience_monthly": """
SELECT u.period AS month, u.dim, u.dim_value, u.category,
       u.n AS n, r.n AS n_stated, r.k AS n_requires_3plus, r.share AS share_requires_3plus,
       r.ci_low AS ci_low_requires_3plus, r.ci_high AS ci_high_requires_3plus,
       u.k AS n_unstated, u.share AS share_unstated, u.ci_low AS ci_low_unstated, u.ci_high AS ci_high_unstated,
       r.suppressed AS suppressed, u.model_version, u.taxonomy_version
FROM trend_shares u
LEFT JOIN trend_shares r ON r.period_type = u.period_type AND r.period = u.period AND r.dim = u.dim
     AND r.dim_value = u.dim_value AND r.category = u.category AND r.metric = 'requires_3plus'
WHERE u.period_type = 'month' AND u.metric = 'experience_unstated'""",
    "v_duplicates_by_source": """
SELECT s.name AS source, COUNT(p.id) AS postings,
       SUM(CASE WHEN p.canonical_id IS NOT NULL THEN 1 ELSE 0 END) AS duplicates,
       CASE WHEN COUNT(p.id) > 0 THEN
            CAST(SUM(CASE WHEN p.canonical_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(p.id)
       END AS duplicate_rate
FROM sources s LEFT JOIN postings p ON p.source_id = s.id
GROUP BY s.name""",
}

_DEMAND_COMMENTS = {
    "dim": "all | city | source | lang: the split this row belongs to",
    "dim_value": "the city, source name or language code ('' when dim = all, 'unknown' when missing)",
    "category": "role_category code, or a group name (all, new_economy)",
    "n": "new canonical postings (cross-source duplicates counted once) with labels of model_version",
    "n_prev_year": "n in the same period a year earlier (NULL: no postings then)",
    "yoy_change": "n / n_prev_year - 1, a fraction (-0.25 = -25%)",
    "yoy_ci_low": "95% interval low of yoy_change (Katz log rate ratio, Poisson counts)",
    "yoy_ci_high": "95% interval high of yoy_change",
    "baseline_mean": "mean n per period in the baseline year (default 2024) over periods with data",
    "index_value": "100 * n / baseline_mean",
    "suppressed": "true when n < min_cell_size (default 100): keep out of headlines",
    "model_version": "classifier version whose labels were counted",
    "taxonomy_version": "taxonomy version of those labels",
}
COMMENTS: dict[str, dict[str, str]] = {
    "v_demand_monthly": {"month": "YYYY-MM of posted_at", **_DEMAND_COMMENTS},
    "v_demand_weekly": {"week": "ISO week YYYY-Www of posted_at; yoy compares the same ISO week number",
                        **_DEMAND_COMMENTS},
    "v_ai_share_monthly": {
        "month": "YYYY-MM of posted_at",
        "n": "canonical labelled postings in the cell (denominator of every share)",
        "n_references_ai": "postings with ai_level != none",
        "share_references_ai": "n_references_ai / n",
        "ci_low_references_ai": "95% Wilson interval low",
        "ci_high_references_ai": "95% Wilson interval high",
        "share_incidental": "share with ai_level = incidental (AI only in company blurb/benefits)",
        "share_ai_tools": "share with ai_level = ai_tools (job uses AI tools)",
        "share_ai_skills": "share with ai_level = ai_skills (job builds/evaluates AI systems)",
        "suppressed": "true when n < min_cell_size",
    },
    "v_experience_monthly": {
        "month": "YYYY-MM of posted_at",
        "n": "canonical labelled postings in the cell",
        "n_stated": "postings that state required experience (denominator of share_requires_3plus)",
        "n_requires_3plus": "postings requiring 3 or more years",
        "share_requires_3plus": "n_requires_3plus / n_stated",
        "n_unstated": "postings that do not state experience",
        "share_unstated": "n_unstated / n",
        "suppressed": "true when n_stated < min_cell_size",
    },
    "v_duplicates_by_source": {
        "postings": "postings collected from the source",
        "duplicates": "postings linked to a canonical posting elsewhere (canonical_id set)",
        "duplicate_rate": "duplicates / postings",
    },
}


def upgrade() -> None:
    op.create_table(
        "trend_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_type", sa.String(length=5), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("n_postings", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_periods")),
        sa.UniqueConstraint("period_type", "period", name=op.f("uq_trend_periods_period_type_period")),
    )
    op.create_index("ix_postings_posted_week", "postings", ["posted_week"], unique=False)
    pg = op.get_bind().dialect.name == "postgresql"
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
        if pg:
            for col, text in COMMENTS.get(name, {}).items():
                op.execute(sa.text(f"COMMENT ON COLUMN {name}.{col} IS '{text.replace(chr(39), chr(39) * 2)}'"))


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_index("ix_postings_posted_week", table_name="postings")
    op.drop_table("trend_periods")
