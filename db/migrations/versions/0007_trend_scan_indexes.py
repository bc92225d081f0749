"""trends at 10M postings: dirty-period marks, covering indexes, statistics

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:00:00

trend_dirty: triggers on postings and posting_labels append the (period type, period) of every row inserted,
deleted or changed in a way that moves trend counts, so the nightly update fingerprints only those periods
instead of scanning every posting (a full scan costs ~20 s at 10M postings on 2 shared cores). The table is
seeded with every period, so the first update after this migration checks them all once.

The full recompute aggregates every canonical labelled posting: ix_posting_labels_trends and ix_postings_trends let PostgreSQL answer both
from the indexes alone (index-only scans joined in posting-id order) instead of reading both tables.
ix_posting_labels_labelled_at finds the newest label version without grouping every label.
ix_postings_source_canonical does the same for the dashboard's quality page; ix_postings_posted_month_id and
ix_postings_posted_week_id list a period's postings in id order (the dashboard's postings behind a figure).
source_counts: the same triggers keep postings and duplicates per source, which v_duplicates_by_source sums. The extended statistics tell PostgreSQL how few (month, week, city, source, language,
country) combinations there are, so it aggregates postings in a hash table instead of sorting them all.
SQLite gets the same index names on the key columns (it has no INCLUDE) and no statistics object.
See docs/scaling.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LABEL_INCLUDE = ["id", "labelled_at", "taxonomy_version", "role_category", "ai_level", "requires_3plus_years"]
POSTING_INCLUDE = ["posted_month", "posted_week", "source_id", "city", "lang", "country"]
CANONICAL = "canonical_id IS NULL AND posted_month IS NOT NULL"
STATS = "st_postings_trend_cells"
TRIGGER_COLS = ("canonical_id", "posted_month", "posted_week", "city", "lang", "country", "source_id")
LABEL_COLS = ("posting_id", "model_version", "taxonomy_version", "role_category", "ai_level",
              "requires_3plus_years", "labelled_at")

# PostgreSQL: statement-level triggers with transition tables (one INSERT per statement, not per row).
_PG_MARK = """
INSERT INTO trend_dirty (period_type, period)
SELECT DISTINCT v.pt, v.p FROM ({rows}) c
CROSS JOIN LATERAL (VALUES ('month', c.m), ('week', c.w)) v(pt, p) WHERE v.p IS NOT NULL"""
_PG_FUNCTIONS = {
    "lw_mark_postings": f"""
BEGIN
  IF TG_OP IN ('INSERT', 'DELETE') THEN
    IF TG_OP = 'INSERT' THEN
      {_PG_MARK.format(rows="SELECT posted_month AS m, posted_week AS w FROM lw_new")};
      INSERT INTO source_counts (source_id, postings, duplicates)
      SELECT source_id, COUNT(*), COUNT(canonical_id) FROM lw_new GROUP BY source_id;
    ELSE
      {_PG_MARK.format(rows="SELECT posted_month AS m, posted_week AS w FROM lw_old")};
      INSERT INTO source_counts (source_id, postings, duplicates)
      SELECT source_id, -COUNT(*), -COUNT(canonical_id) FROM lw_old GROUP BY source_id;
    END IF;
  ELSE
    INSERT INTO source_counts (source_id, postings, duplicates)
    SELECT x.source_id, SUM(x.n), SUM(x.d) FROM lw_old o JOIN lw_new n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.source_id, -1, CASE WHEN o.canonical_id IS NULL THEN 0 ELSE -1 END),
                               (n.source_id, 1, CASE WHEN n.canonical_id IS NULL THEN 0 ELSE 1 END)) x(source_id, n, d)
    WHERE o.source_id IS DISTINCT FROM n.source_id OR (o.canonical_id IS NULL) <> (n.canonical_id IS NULL)
    GROUP BY x.source_id HAVING SUM(x.n) <> 0 OR SUM(x.d) <> 0;
    {_PG_MARK.format(rows="SELECT x.m, x.w FROM lw_old o JOIN lw_new n ON n.id = o.id CROSS JOIN LATERAL "
                          "(VALUES (o.posted_month, o.posted_week), (n.posted_month, n.posted_week)) x(m, w) "
                          "WHERE (" + ", ".join(f"o.{c}" for c in TRIGGER_COLS) + ") IS DISTINCT FROM ("
                          + ", ".join(f"n.{c}" for c in TRIGGER_COLS) + ")")};
  END IF;
  RETURN NULL;
END""",
    "lw_mark_labels": f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_PG_MARK.format(rows="SELECT p.posted_month AS m, p.posted_week AS w FROM postings p "
                          "WHERE p.id IN (SELECT posting_id FROM lw_new)")};
  ELSIF TG_OP = 'DELETE' THEN
    {_PG_MARK.format(rows="SELECT p.posted_month AS m, p.posted_week AS w FROM postings p "
                          "WHERE p.id IN (SELECT posting_id FROM lw_old)")};
  ELSE
    {_PG_MARK.format(rows="SELECT p.posted_month AS m, p.posted_week AS w FROM postings p WHERE p.id IN ("
                          "SELECT o.posting_id FROM lw_old o JOIN lw_new n ON n.id = o.id WHERE ("
                          + ", ".join(f"o.{c}" for c in LABEL_COLS) + ") IS DISTINCT FROM ("
                          + ", ".join(f"n.{c}" for c in LABEL_COLS) + ") UNION SELECT n.posting_id FROM lw_old o "
                          "JOIN lw_new n ON n.id = o.id WHERE (" + ", ".join(f"o.{c}" for c in LABEL_COLS)
                          + ") IS DISTINCT FROM (" + ", ".join(f"n.{c}" for c in LABEL_COLS) + "))")};
  END IF;
  RETURN NULL;
END""",
}
_PG_TRIGGERS = [
    (f"lw_{table}_{op[:3].lower()}", table, op, ref, fn)
    for table, fn in (("postings", "lw_mark_postings"), ("posting_labels", "lw_mark_labels"))
    for op, ref in (("INSERT", "NEW TABLE AS lw_new"), ("UPDATE", "OLD TABLE AS lw_old NEW TABLE AS lw_new"),
                    ("DELETE", "OLD TABLE AS lw_old"))
]


def _sqlite_mark(month: str, week: str) -> str:
    return "".join(
        f"INSERT INTO trend_dirty (period_type, period) SELECT '{pt}', {col} WHERE {col} IS NOT NULL AND NOT "
        f"EXISTS (SELECT 1 FROM trend_dirty WHERE period_type = '{pt}' AND period = {col}); "
        for pt, col in (("month", month), ("week", week)))


def _sqlite_mark_posting(ref: str) -> str:
    return "".join(
        f"INSERT INTO trend_dirty (period_type, period) SELECT '{pt}', p.{col} FROM postings p WHERE p.id = {ref} "
        f"AND p.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM trend_dirty d WHERE d.period_type = '{pt}' "
        f"AND d.period = p.{col}); "
        for pt, col in (("month", "posted_month"), ("week", "posted_week")))


def _sqlite_count(row: str, sign: int) -> str:
    """SQLite (one writer at a time): one counter row per source, updated in place."""
    dup = f"(CASE WHEN {row}.canonical_id IS NULL THEN 0 ELSE {sign} END)"
    return (f"UPDATE source_counts SET postings = postings + {sign}, duplicates = duplicates + {dup} "
            f"WHERE source_id = {row}.source_id; INSERT INTO source_counts (source_id, postings, duplicates) "
            f"SELECT {row}.source_id, {sign}, {dup} WHERE NOT EXISTS (SELECT 1 FROM source_counts "
            f"WHERE source_id = {row}.source_id); ")


_SQLITE_TRIGGERS = {
    "lw_postings_ins": "AFTER INSERT ON postings BEGIN " + _sqlite_mark("NEW.posted_month", "NEW.posted_week")
                       + _sqlite_count("NEW", 1),
    "lw_postings_del": "AFTER DELETE ON postings BEGIN " + _sqlite_mark("OLD.posted_month", "OLD.posted_week")
                       + _sqlite_count("OLD", -1),
    "lw_postings_upd": f"AFTER UPDATE OF {', '.join(TRIGGER_COLS)} ON postings WHEN "
                       + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRIGGER_COLS) + " BEGIN "
                       + _sqlite_mark("OLD.posted_month", "OLD.posted_week")
                       + _sqlite_mark("NEW.posted_month", "NEW.posted_week")
                       + _sqlite_count("OLD", -1) + _sqlite_count("NEW", 1),
    "lw_posting_labels_ins": "AFTER INSERT ON posting_labels BEGIN " + _sqlite_mark_posting("NEW.posting_id"),
    "lw_posting_labels_del": "AFTER DELETE ON posting_labels BEGIN " + _sqlite_mark_posting("OLD.posting_id"),
    "lw_posting_labels_upd": f"AFTER UPDATE ON posting_labels WHEN "
                             + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in LABEL_COLS) + " BEGIN "
                             + _sqlite_mark_posting("OLD.posting_id") + _sqlite_mark_posting("NEW.posting_id"),
}


# v_duplicates_by_source from the per-source counters instead of counting every posting (5-10 s at 10M).
DUPLICATES_VIEW = """
SELECT s.name AS source, CAST(COALESCE(SUM(c.postings), 0) AS BIGINT) AS postings,
       CAST(COALESCE(SUM(c.duplicates), 0) AS BIGINT) AS duplicates,
       CASE WHEN COALESCE(SUM(c.postings), 0) > 0 THEN CAST(SUM(c.duplicates) AS DOUBLE PRECISION) / SUM(c.postings)
       END AS duplicate_rate
FROM sources s LEFT JOIN source_counts c ON c.source_id = s.id
GROUP BY s.id, s.name"""
# Grouped at the view's own level on purpose: SQLite flattens an ungrouped view into the analyst's query and then
# authorizes a bare read of ``sources`` outside the view, which the read-only analyst connection refuses.
DUPLICATES_VIEW_0002 = """
SELECT s.name AS source, COUNT(p.id) AS postings,
       SUM(CASE WHEN p.canonical_id IS NOT NULL THEN 1 ELSE 0 END) AS duplicates,
       CASE WHEN COUNT(p.id) > 0 THEN
            CAST(SUM(CASE WHEN p.canonical_id IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(p.id)
       END AS duplicate_rate
FROM sources s LEFT JOIN postings p ON p.source_id = s.id
GROUP BY s.name"""
DUPLICATES_COMMENTS = {
    "postings": "postings collected from the source",
    "duplicates": "postings linked to a canonical posting elsewhere (canonical_id set)",
    "duplicate_rate": "duplicates / postings",
}


def _duplicates_view(sql: str) -> None:
    op.execute("DROP VIEW IF EXISTS v_duplicates_by_source")
    op.execute(f"CREATE VIEW v_duplicates_by_source AS {sql}")
    if op.get_bind().dialect.name == "postgresql":
        for col, text in DUPLICATES_COMMENTS.items():
            op.execute(sa.text(f"COMMENT ON COLUMN v_duplicates_by_source.{col} IS '{text}'"))


def upgrade() -> None:
    op.create_table(
        "source_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("postings", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_counts")),
    )
    op.create_index("ix_source_counts_source_id", "source_counts", ["source_id"])
    op.execute("INSERT INTO source_counts (source_id, postings, duplicates) SELECT source_id, COUNT(*), "
               "COUNT(canonical_id) FROM postings GROUP BY source_id")
    _duplicates_view(DUPLICATES_VIEW)
    op.create_table(
        "trend_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_type", sa.String(length=5), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_dirty")),
    )
    op.create_index("ix_trend_dirty_period_type", "trend_dirty", ["period_type", "period"])
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        for name, body in _PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $lw${body}\n$lw$")
        for name, table, event, ref, fn in _PG_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {ref} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {fn}()")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}END")
    # Every period once: the first update after this migration checks them all (as before it).
    for pt, col in (("month", "posted_month"), ("week", "posted_week")):
        op.execute(f"INSERT INTO trend_dirty (period_type, period) SELECT DISTINCT '{pt}', {col} FROM postings "
                   f"WHERE {col} IS NOT NULL")
    op.create_index("ix_posting_labels_labelled_at", "posting_labels", ["labelled_at", "model_version"])
    op.create_index("ix_posting_labels_trends", "posting_labels", ["model_version", "posting_id"],
                    postgresql_include=LABEL_INCLUDE)
    op.create_index("ix_postings_trends", "postings", ["id"], postgresql_include=POSTING_INCLUDE,
                    postgresql_where=sa.text(CANONICAL), sqlite_where=sa.text(CANONICAL))
    op.create_index("ix_postings_source_canonical", "postings", ["source_id", "canonical_id"],
                    postgresql_include=["id"])
    # A period's canonical postings in id order: the dashboard's "postings behind a figure" (ORDER BY id
    # LIMIT 25) reads the first few of the period instead of walking the primary key through every older one.
    for period in ("posted_month", "posted_week"):
        op.create_index(f"ix_postings_{period}_id", "postings", [period, "id"],
                        postgresql_where=sa.text(CANONICAL), sqlite_where=sa.text(CANONICAL))
    # ... and, for a role's cell, that role's labels in posting order (13.8 s -> 0.08 s at 10M postings).
    op.create_index("ix_posting_labels_role", "posting_labels", ["model_version", "role_category", "posting_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE STATISTICS {STATS} (ndistinct) ON posted_month, posted_week, city, source_id, lang, "
                   "country FROM postings")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute(f"DROP STATISTICS IF EXISTS {STATS}")
        for name, table, *_ in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_posting_labels_labelled_at", table_name="posting_labels")
    _duplicates_view(DUPLICATES_VIEW_0002)
    op.drop_index("ix_source_counts_source_id", table_name="source_counts")
    op.drop_table("source_counts")
    op.drop_index("ix_posting_labels_role", table_name="posting_labels")
    for period in ("posted_month", "posted_week"):
        op.drop_index(f"ix_postings_{period}_id", table_name="postings")
    op.drop_index("ix_postings_source_canonical", table_name="postings")
    op.drop_index("ix_postings_trends", table_name="postings")
    op.drop_index("ix_posting_labels_trends", table_name="posting_labels")
    op.drop_index("ix_trend_dirty_period_type", table_name="trend_dirty")
    op.drop_table("trend_dirty")
