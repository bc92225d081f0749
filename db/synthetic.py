"""A synthetic labour market with known trends (role demand drifting, the AI share rising), for tests and
``labourwatch bench trends``: as Python rows for ``db.bulk.bulk_insert_labelled``, or generated inside
PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text

from db.bulk import LABEL_COLUMNS, POST_COLUMNS, LabelledPosting, move_id_sequences
from db.repo import get_or_create_source
from db.session import session_scope
from labourwatch.contract import Month, iter_months, vocabulary

ROLES = vocabulary().role_codes
# Yearly demand factor per role (1.0 = flat): the seed evidence's declines, and AI roles growing.
YEARLY_FACTOR = {"software_dev": 0.75, "design_basic": 0.5, "supply_chain_repetitive": 0.55, "ai_ml": 1.4}
CITIES = ("北京", "上海", "深圳", "杭州", "广州", "成都", "武汉", "南京")
SOURCES = ("demo-zh", "demo-en", "import-csv")


def synthetic_postings(n: int, seed: int = 2026, start: date = date(2024, 1, 1), end: date = date(2026, 3, 31),
                       prefix: str = "syn") -> Iterator[LabelledPosting]:
    """``n`` labelled postings spread over ``start``..``end`` with role mix drifting by ``YEARLY_FACTOR``
    and the AI share rising over time; deterministic for a seed."""
    rng = random.Random(seed)
    days = (end - start).days + 1
    base = start.year
    for i in range(n):
        d = start + timedelta(days=rng.randrange(days))
        t = d.year - base + (d.month - 1) / 12
        weights = [YEARLY_FACTOR.get(r, 1.0) ** t for r in ROLES]
        role = rng.choices(ROLES, weights)[0]
        p_ai = min(0.9, 0.12 + 0.08 * t + (0.5 if role == "ai_ml" else 0.0))
        u = rng.random()
        ai = ("none" if u >= p_ai else "ai_skills" if u < p_ai * 0.4 else "ai_tools" if u < p_ai * 0.8
              else "incidental")
        v = rng.random()
        req = None if v < 0.2 else v < 0.2 + 0.8 * 0.7
        src = SOURCES[i % 3]
        yield LabelledPosting(source=src, external_id=f"{prefix}-{i}", title=f"{role} {i % 97}", posted_at=d,
                              role_category=role, ai_level=ai, requires_3plus_years=req,
                              company=f"公司{i % 5000}", city=CITIES[rng.randrange(len(CITIES))],
                              lang="en" if src == "demo-en" else "zh")


def generate_labelled_sql(engine: Engine, n: int, seed: int = 2026, start: date = date(2024, 1, 1),
                          end: date = date(2026, 3, 31), prefix: str = "syn", model_version: str = "synthetic-1",
                          taxonomy_version: str = "1.0", labelled_at: datetime | None = None,
                          chunk: int = 1_000_000, on_chunk: Callable[[int], object] | None = None) -> int:
    """PostgreSQL: ``n`` labelled postings like ``synthetic_postings`` (same role drift, AI and experience
    mix, sources, cities), generated inside the database with ``generate_series`` (no Python rows); returns
    the first new posting id. Unlike ``synthetic_postings`` the dates follow the ids (spread evenly over
    ``start``..``end``, up to 3 days late), as postings arrive from a nightly crawl. Pseudo-random draws are ``hashint8extended(i, seed)``, so a seed is
    deterministic. Single writer only (ids follow the current maximum; sequences are moved past them).
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("generate_labelled_sql needs PostgreSQL (use bulk_insert_labelled elsewhere)")
    labelled_at = labelled_at or datetime.now(UTC)
    days = (end - start).days + 1
    with session_scope(engine) as s:
        src_ids = [get_or_create_source(s, name).id for name in SOURCES]
    # Role drawn per month from a 1,024-bucket table of the month's cumulative weights (the drift of
    # synthetic_postings: YEARLY_FACTOR ** years since the start year).
    picks = []
    for month in iter_months(Month.of(start), Month.of(end)):
        y, m = month.year, month.month
        t = y - start.year + (m - 1) / 12
        w = [YEARLY_FACTOR.get(r, 1.0) ** t for r in ROLES]
        total, acc, j = sum(w), 0.0, 0
        cum = []
        for x in w:
            acc += x / total
            cum.append(acc)
        for b in range(1024):
            u = (b + 0.5) / 1024
            while j < len(ROLES) - 1 and u >= cum[j]:
                j += 1
            picks.append({"ym": str(month), "b": b, "r": ROLES[j]})

    def draw(k: int) -> str:  # a uniform draw in [0, 1) per posting and stream k
        return f"((hashint8extended(g.i, {seed * 16 + k}) & 4294967295)::float8 / 4294967296.0)"

    cities = "ARRAY[" + ", ".join(f"'{c}'" for c in CITIES) + "]"
    with engine.begin() as conn:
        first_pid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM postings")).scalar_one()) + 1
        first_lid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM posting_labels")).scalar_one()) + 1
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk) - 1
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_gen_pick (ym VARCHAR(7), b INTEGER, role VARCHAR(40)) "
                                 "ON COMMIT DROP")
            conn.execute(text("INSERT INTO tmp_gen_pick VALUES (:ym, :b, :r)"), picks)
            conn.exec_driver_sql("CREATE INDEX ON tmp_gen_pick (ym, b)")
            conn.exec_driver_sql("ANALYZE tmp_gen_pick")
            conn.execute(text(
                "CREATE TEMPORARY TABLE tmp_gen ON COMMIT DROP AS "
                "SELECT x.i, x.d, p.role, x.city, x.u_ai, x.u_req, "
                "LEAST(0.9, 0.12 + 0.08 * (EXTRACT(YEAR FROM x.d) - :y0 + (EXTRACT(MONTH FROM x.d) - 1) / 12.0) "
                "+ CASE WHEN p.role = 'ai_ml' THEN 0.5 ELSE 0 END) AS p_ai FROM ("
                # Posted in id order, as a crawl inserts them (a day's postings up to 3 days late): a month's
                # postings sit together in the table, as they do in production.
                f"  SELECT g.i, CAST(:start AS DATE) + CAST(LEAST(:days - 1, floor(g.i * CAST(:days AS FLOAT8) / :n "
                f"  + {draw(1)} * 3)) AS INTEGER) AS d, "
                f"  CAST(floor({draw(2)} * 1024) AS INTEGER) AS b, ({cities})[CAST(floor({draw(3)} * 8) AS INTEGER) + 1]"
                f"  AS city, {draw(4)} AS u_ai, {draw(5)} AS u_req FROM generate_series(CAST(:lo AS BIGINT), "
                "  CAST(:hi AS BIGINT)) g(i)) x "
                "JOIN tmp_gen_pick p ON p.ym = to_char(x.d, 'YYYY-MM') AND p.b = x.b"),
                {"y0": start.year, "start": start, "days": days, "lo": lo, "hi": hi, "n": n})
            conn.execute(text(
                "INSERT INTO postings (" + POST_COLUMNS + ") SELECT :pid0 + g.i, "
                "(CAST(:srcs AS INTEGER[]))[g.i % 3 + 1], :prefix || '-' || g.i, g.role || ' ' || (g.i % 97), "
                "g.role || ' ' || (g.i % 97), '公司' || (g.i % 5000), g.city, "
                "CASE WHEN g.i % 3 = 1 THEN 'en' ELSE 'zh' END, NULL, g.d, to_char(g.d, 'YYYY-MM'), "
                "to_char(g.d, 'IYYY-\"W\"IW'), (g.d + TIME '09:00') AT TIME ZONE 'UTC', "
                # db.repo.content_hash: each content field after a 0x1F separator, NULL as empty, in order
                # title, company, city, lang, description, salary, experience, education, employment, posted_at.
                "(g.d + TIME '09:00') AT TIME ZONE 'UTC', encode(sha256(convert_to(chr(31) || g.role || ' ' || "
                "(g.i % 97) || chr(31) || '公司' || (g.i % 5000) || chr(31) || g.city || chr(31) || "
                "CASE WHEN g.i % 3 = 1 THEN 'en' ELSE 'zh' END || repeat(chr(31), 6) || to_char(g.d, 'YYYY-MM-DD'), "
                "'UTF8')), 'hex'), NULL FROM tmp_gen g"),
                {"pid0": first_pid, "srcs": src_ids, "prefix": prefix})
            conn.execute(text(
                "INSERT INTO posting_labels (" + LABEL_COLUMNS + ") SELECT :lid0 + g.i, :pid0 + g.i, :mv, :tv, "
                "g.role, 0.9, CASE WHEN g.u_req < 0.2 THEN NULL WHEN g.u_req < 0.76 THEN 3.0 ELSE 1.0 END, "
                "CASE WHEN g.u_req < 0.2 THEN 'unstated' WHEN g.u_req < 0.76 THEN '3_5' ELSE '1_3' END, "
                "CASE WHEN g.u_req < 0.2 THEN NULL ELSE g.u_req < 0.76 END, "
                "CASE WHEN g.u_ai >= g.p_ai THEN 'none' WHEN g.u_ai < g.p_ai * 0.4 THEN 'ai_skills' "
                "WHEN g.u_ai < g.p_ai * 0.8 THEN 'ai_tools' ELSE 'incidental' END, '[]', :at FROM tmp_gen g"),
                {"lid0": first_lid, "pid0": first_pid, "mv": model_version, "tv": taxonomy_version,
                 "at": labelled_at})
        if on_chunk is not None:
            on_chunk(hi + 1)
    move_id_sequences(engine)
    return first_pid
