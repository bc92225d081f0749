"""Trend tables computed in SQL: demand counts, year-on-year change, index and shares with intervals."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, bindparam, text

from db.stats import Z95, RateChange, ShiftShare, rate_change, shift_share
from labourwatch.contract import check_month
from labourwatch.settings import get_settings

log = logging.getLogger(__name__)

METRICS = ("references_ai", "ai_none", "ai_incidental", "ai_tools", "ai_skills", "requires_3plus",
           "experience_unstated")
DIMS = ("all", "city", "source", "lang", "country")
UNKNOWN = "unknown"  # dim_value of a posting without a city, language or country
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")


@dataclass(frozen=True, slots=True)
class TrendReport:
    """What one ``update_trends`` call did: the label version, the periods it recomputed and row counts."""

    model_version: str | None
    taxonomy_version: str | None
    months: tuple[str, ...]
    weeks: tuple[str, ...]
    demand_rows: int  # trend_demand rows after the update in the recomputed periods
    share_rows: int  # trend_shares rows after the update in the recomputed periods
    rows_changed: int  # trend rows inserted, updated with new counts or deleted (0 on a repeat run)
    full: bool
    seconds: float

    def summary(self) -> str:
        if self.model_version is None:
            return "no labelled postings: trend tables left as they were"
        if not self.months and not self.weeks:
            return f"trends up to date for {self.model_version} (nothing changed) in {self.seconds:.2f}s"
        span = f"{self.months[0]}..{self.months[-1]}" if self.months else "-"
        return (f"recomputed {len(self.months)} months ({span}) and {len(self.weeks)} weeks for "
                f"{self.model_version} / taxonomy {self.taxonomy_version}: {self.demand_rows} demand rows, "
                f"{self.share_rows} share rows in {self.seconds:.2f}s" + (" (full)" if self.full else ""))


def _week_of_month_start(month: str) -> str:
    y, w, _ = date(int(month[:4]), int(month[5:7]), 1).isocalendar()
    return f"{y}-W{w:02d}"


def _prev_year(period: str) -> str:
    return f"{int(period[:4]) - 1}{period[4:]}"


def _next_year(period: str) -> str:
    return f"{int(period[:4]) + 1}{period[4:]}"


def _ensure_sqlite_math(conn: Connection) -> None:
    """SQLite builds without math functions get Python ones, so the same SQL runs on both backends."""
    if conn.dialect.name != "sqlite":
        return
    try:
        conn.exec_driver_sql("SELECT sqrt(4.0), ln(2.0), exp(1.0)")
    except Exception:  # pragma: no cover - depends on how SQLite was compiled
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.create_function("sqrt", 1, math.sqrt, deterministic=True)
        raw.create_function("ln", 1, math.log, deterministic=True)
        raw.create_function("exp", 1, math.exp, deterministic=True)


def resolve_model_version(conn: Connection, model_version: str | None) -> str | None:
    """The given label version if it has labels, else the newest one (latest ``labelled_at``); None if none."""
    if model_version is not None:
        found = conn.execute(text("SELECT 1 FROM posting_labels WHERE model_version = :mv LIMIT 1"),
                             {"mv": model_version}).first()
        if found is None:
            known = [r[0] for r in conn.execute(text("SELECT DISTINCT model_version FROM posting_labels"))]
            raise ValueError(f"no labels for model_version {model_version!r}; labelled versions: {known or 'none'}")
        return model_version
    # The version of the newest label (ties: the greater name), read from the top of ix_posting_labels_labelled_at
    # (0007) instead of grouping every label.
    row = conn.execute(text(
        "SELECT model_version FROM posting_labels ORDER BY labelled_at DESC, model_version DESC LIMIT 1")).first()
    return row[0] if row else None


def _config_hash(groups: Mapping[str, list[str]], min_cell: int, baseline_year: int) -> str:
    payload = json.dumps({"groups": {k: sorted(v) for k, v in sorted(groups.items())}, "min_cell": min_cell,
                          "baseline_year": baseline_year}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _fingerprints(conn: Connection, mv: str, only: set[tuple[str, str]] | None = None
                  ) -> tuple[dict[tuple[str, str], tuple[int, str]], str | None]:
    """Per period: (canonical labelled postings, fingerprint). One scan, grouped by month and week together.

    ``only``: fingerprint just these periods (their postings found through the posted month/week indexes)."""
    acc: dict[tuple[str, str], list] = {}
    tax: str | None = None
    sql = ("SELECT p.posted_month, p.posted_week, COUNT(*), SUM(p.id), SUM(l.id), MAX(l.labelled_at), "
           "MAX(l.taxonomy_version) FROM postings p JOIN posting_labels l ON l.posting_id = p.id "
           "WHERE l.model_version = :mv AND p.canonical_id IS NULL AND p.posted_month IS NOT NULL")
    params: dict = {"mv": mv}
    if only is None:
        stmt = text(sql + " GROUP BY p.posted_month, p.posted_week")
    else:
        stmt = text(sql + " AND (p.posted_month IN :months OR p.posted_week IN :weeks) "
                    "GROUP BY p.posted_month, p.posted_week").bindparams(_in("months"), _in("weeks"))
        params |= {"months": sorted(p for t, p in only if t == "month") or [""],
                   "weeks": sorted(p for t, p in only if t == "week") or [""]}
    rows = conn.execute(stmt, params)
    for month, week, n, sp, sl, newest, tv in rows:
        tax = max(tax, tv) if tax is not None and tv is not None else (tax or tv)
        for key in (("month", month), ("week", week)):
            if key[1] is None:
                continue
            a = acc.setdefault(key, [0, 0, 0, ""])
            a[0] += int(n)
            a[1] += int(sp)
            a[2] += int(sl)
            a[3] = max(a[3], str(newest))
    return {k: (a[0], f"{a[0]}:{a[1]}:{a[2]}:{a[3]}") for k, a in acc.items() if only is None or k in only}, tax


def _claim_dirty(conn: Connection) -> set[tuple[str, str]]:
    """Take the periods the triggers of 0007 marked as changed since the last update (and remove the marks).

    PostgreSQL: ``DELETE .. RETURNING`` in this READ COMMITTED transaction removes exactly the marks committed
    before it; later statements see those writers' rows, and a writer still running keeps its mark for the
    next update. SQLite: this transaction already holds the write lock, so no writer runs beside it.
    """
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql("DELETE FROM trend_dirty RETURNING period_type, period").all()
    else:
        rows = conn.exec_driver_sql("SELECT period_type, period FROM trend_dirty").all()
        conn.exec_driver_sql("DELETE FROM trend_dirty")
    return {(pt, p) for pt, p in rows}


_TEMP_TABLES = ("tmp_lw_fine", "tmp_lw_catmap", "tmp_lw_dims", "tmp_lw_cells", "tmp_lw_metrics",
                "tmp_lw_scope", "tmp_lw_prev", "tmp_lw_base", "tmp_lw_yoy", "tmp_lw_idx")


def _drop_temp(conn: Connection) -> None:
    for t in _TEMP_TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t}")


def _in(name: str):  # type: ignore[no-untyped-def]
    return bindparam(name, expanding=True)


def update_trends(engine: Engine, groups: Mapping[str, list[str]], model_version: str | None = None,
                  since: str | None = None, full: bool = False) -> TrendReport:
    """Bring ``trend_demand`` and ``trend_shares`` up to date, in SQL, for the periods that changed.

    Takes the role-category groups (``{"new_economy": [codes...]}``; ``all`` is always added and always
    means every posting), the label version (default: the newest in ``posting_labels``), ``since``
    (YYYY-MM: also recompute every period from that month on) and ``full`` (recompute everything).
    A period is recomputed when the fingerprint of its canonical labelled postings (count, id sums,
    newest label) differs from the one stored in ``trend_periods``, or when the label version, groups,
    minimum cell size or baseline year changed. Year-on-year columns are refreshed for the recomputed
    periods and the periods a year later; the index for all rows when the baseline year was touched.
    Idempotent: a second call finds nothing changed and writes nothing. Returns a ``TrendReport``.
    """
    t0 = time.perf_counter()
    if since is not None:
        check_month(since, "--since")
    for name, codes in groups.items():
        if not name or not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
            raise ValueError(f"group {name!r} must map to a list of role_category codes, got {codes!r}")
    settings = get_settings()
    min_cell, base_year = settings.min_cell_size, settings.baseline_year
    groups = {k: list(v) for k, v in groups.items() if k != "all"}
    cfg = _config_hash(groups, min_cell, base_year)
    now = datetime.now(UTC)

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One update at a time (nightly flow and a manual run); the second waits, then finds little to do.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('labourwatch.update_trends'))")
            # JIT compiling each aggregation cost 2.5-3 s of CPU per statement at 10M postings and gained less.
            conn.exec_driver_sql("SET LOCAL jit = off")
            # The indexes are hot and on SSD: with the default random_page_cost (4, spinning disks) the planner
            # scans all 10M labels to join the 0.4M postings of one month instead of probing the covering
            # index (EXPLAIN ANALYZE at 10M: 10.7 s vs 3.4 s).
            conn.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
        else:
            # Take SQLite's write lock before reading, so a concurrent run waits (busy timeout) instead of
            # failing to upgrade a stale read snapshot.
            conn.exec_driver_sql("UPDATE trend_periods SET id = id WHERE 1 = 0")
        _ensure_sqlite_math(conn)
        mv = resolve_model_version(conn, model_version)
        if mv is None:
            return TrendReport(None, None, (), (), 0, 0, 0, full, time.perf_counter() - t0)
        dirty = _claim_dirty(conn)
        stored = {(pt, p): (m, fp, ch) for pt, p, m, fp, ch in conn.execute(text(
            "SELECT period_type, period, model_version, fingerprint, config_hash FROM trend_periods"))}
        # Nothing but postings and labels moved since the stored fingerprints (same label version and
        # configuration): only the periods the triggers marked can differ, so only they are fingerprinted.
        targeted = not full and since is None and bool(stored) and all(
            old[0] == mv and old[2] == cfg for old in stored.values())
        if targeted:
            current, tv = _fingerprints(conn, mv, only=dirty)
            # Taxonomy version of the rows written: as a full scan would find it (the newest among the
            # periods' labels), here from the marked periods and the rows already stored for this version.
            stored_tv = conn.execute(text("SELECT MAX(taxonomy_version) FROM trend_demand WHERE model_version = :mv"),
                                     {"mv": mv}).scalar()
            tv = max((v for v in (tv, stored_tv) if v is not None), default=None)
        else:
            current, tv = _fingerprints(conn, mv)
        tv = tv or ""
        since_week = _week_of_month_start(since) if since else None
        changed: set[tuple[str, str]] = set()
        for key, (_, fp) in current.items():
            old = stored.get(key)
            if full or old is None or old != (mv, fp, cfg):
                changed.add(key)
            elif since and since_week and (
                    (key[0] == "month" and key[1] >= since) or (key[0] == "week" and key[1] >= since_week)):
                changed.add(key)
        if targeted:
            # A marked period is recomputed even when its fingerprint held: a changed city or AI level moves
            # counts without moving the fingerprint (count, id sums, newest label time).
            changed |= {k for k in dirty if k in current}
        vanished = {k for k in stored if k not in current and (not targeted or k in dirty)}
        changed |= vanished
        # Rows another label version left behind (periods no longer in trend_periods) are removed too.
        if full:
            conn.execute(text("DELETE FROM trend_demand WHERE model_version <> :mv"), {"mv": mv})
            conn.execute(text("DELETE FROM trend_shares WHERE model_version <> :mv"), {"mv": mv})
        if not changed:
            return TrendReport(mv, tv, (), (), 0, 0, 0, full, time.perf_counter() - t0)

        months = sorted(p for pt, p in changed if pt == "month")
        weeks = sorted(p for pt, p in changed if pt == "week")
        baseline_touched = full or any(p.startswith(str(base_year)) for _, p in changed) or any(
            old[2] != cfg or old[0] != mv for old in stored.values())
        _drop_temp(conn)
        try:
            rows_changed = _compute(conn, mv, tv, groups, months, weeks, full, min_cell, now)
            _derive(conn, changed, base_year, baseline_touched)
            _store_fingerprints(conn, mv, cfg, current, changed, now)
            demand_rows, share_rows = (conn.execute(text(
                f"SELECT COUNT(*) FROM {t} x JOIN tmp_lw_scope s ON s.period_type = x.period_type "
                "AND s.period = x.period WHERE s.changed = 1")).scalar_one()
                for t in ("trend_demand", "trend_shares"))
        finally:
            _drop_temp(conn)
    if engine.dialect.name == "postgresql":
        # Fold the per-source counter rows the triggers appended (one per source and writing statement).
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "WITH d AS (DELETE FROM source_counts RETURNING source_id, postings, duplicates) "
                "INSERT INTO source_counts (source_id, postings, duplicates) "
                "SELECT source_id, SUM(postings), SUM(duplicates) FROM d GROUP BY source_id")
    from db.seasonal import update_seasonal

    log.info(update_seasonal(engine).summary())
    report = TrendReport(mv, tv, tuple(months), tuple(weeks), int(demand_rows), int(share_rows), rows_changed, full,
                         time.perf_counter() - t0)
    log.info(report.summary())
    return report


def _compute(conn: Connection, mv: str, tv: str, groups: Mapping[str, list[str]], months: list[str],
             weeks: list[str], full: bool, min_cell: int, now: datetime) -> int:
    """Aggregate postings once to a fine grain, roll up to cells, upsert demand and shares, drop stale rows."""
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE tmp_lw_fine (month VARCHAR(7), week VARCHAR(8), city VARCHAR(200), "
        "source VARCHAR(100), lang VARCHAR(8), country VARCHAR(8), role VARCHAR(40), n BIGINT, n_ai BIGINT, n_none BIGINT, "
        "n_inc BIGINT, n_tools BIGINT, n_skills BIGINT, n_3plus BIGINT, n_stated BIGINT)")
    where = "" if full else (" AND (p.posted_month IN :months OR p.posted_week IN :weeks)")
    # Grouped twice: first by the raw columns (PostgreSQL's extended statistics of 0007 estimate those groups
    # well, so it plans a hash aggregate instead of sorting every posting), then, on those few rows, by the
    # published values (missing -> 'unknown', source id -> name). The sums are the same either way.
    cities, langs, countries = (f"COALESCE(NULLIF(r.{c}, ''), '{UNKNOWN}')" for c in ("city", "lang", "country"))
    stmt = text(
        f"INSERT INTO tmp_lw_fine SELECT r.posted_month, r.posted_week, {cities}, s.name, {langs}, {countries}, "
        "r.role_category, SUM(r.n), SUM(r.n_ai), SUM(r.n_none), SUM(r.n_inc), SUM(r.n_tools), SUM(r.n_skills), "
        "SUM(r.n_3plus), SUM(r.n_stated) FROM ("
        "SELECT p.posted_month, p.posted_week, p.city, p.source_id, p.lang, p.country, l.role_category, "
        "COUNT(*) AS n, "
        "SUM(CASE WHEN l.ai_level <> 'none' THEN 1 ELSE 0 END) AS n_ai, "
        "SUM(CASE WHEN l.ai_level = 'none' THEN 1 ELSE 0 END) AS n_none, "
        "SUM(CASE WHEN l.ai_level = 'incidental' THEN 1 ELSE 0 END) AS n_inc, "
        "SUM(CASE WHEN l.ai_level = 'ai_tools' THEN 1 ELSE 0 END) AS n_tools, "
        "SUM(CASE WHEN l.ai_level = 'ai_skills' THEN 1 ELSE 0 END) AS n_skills, "
        "SUM(CASE WHEN l.requires_3plus_years THEN 1 ELSE 0 END) AS n_3plus, "
        "SUM(CASE WHEN l.requires_3plus_years IS NOT NULL THEN 1 ELSE 0 END) AS n_stated "
        "FROM postings p JOIN posting_labels l ON l.posting_id = p.id AND l.model_version = :mv "
        "WHERE p.canonical_id IS NULL AND p.posted_month IS NOT NULL" + where +
        " GROUP BY p.posted_month, p.posted_week, p.city, p.source_id, p.lang, p.country, l.role_category) r "
        f"JOIN sources s ON s.id = r.source_id GROUP BY r.posted_month, r.posted_week, {cities}, s.name, "
        f"{langs}, {countries}, r.role_category")
    params: dict = {"mv": mv}
    if not full:
        stmt = stmt.bindparams(_in("months"), _in("weeks"))
        params |= {"months": months or [""], "weeks": weeks or [""]}
    conn.execute(stmt, params)
    _analyze(conn, "tmp_lw_fine")

    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_lw_catmap (category VARCHAR(40), role VARCHAR(40))")
    conn.exec_driver_sql("INSERT INTO tmp_lw_catmap SELECT DISTINCT role, role FROM tmp_lw_fine")
    conn.exec_driver_sql("INSERT INTO tmp_lw_catmap SELECT DISTINCT 'all', role FROM tmp_lw_fine")
    roles = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT role FROM tmp_lw_fine")}
    clash = roles & set(groups)
    if clash:
        raise ValueError(f"group names {sorted(clash)} are also role_category codes; rename the groups")
    members = [{"c": g, "r": r} for g, codes in groups.items() for r in sorted(set(codes))]
    if members:
        conn.execute(text("INSERT INTO tmp_lw_catmap (category, role) VALUES (:c, :r)"), members)
    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_lw_dims (dim VARCHAR(10))")
    conn.execute(text("INSERT INTO tmp_lw_dims (dim) VALUES (:d)"), [{"d": d} for d in DIMS])
    _analyze(conn, "tmp_lw_catmap", "tmp_lw_dims")

    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE tmp_lw_cells (period_type VARCHAR(5), period VARCHAR(8), dim VARCHAR(10), "
        "dim_value VARCHAR(200), category VARCHAR(40), n BIGINT, n_ai BIGINT, n_none BIGINT, n_inc BIGINT, "
        "n_tools BIGINT, n_skills BIGINT, n_3plus BIGINT, n_stated BIGINT)")
    for period_type, col, periods in (("month", "month", months), ("week", "week", weeks)):
        if not periods:
            continue
        conn.execute(text(
            "INSERT INTO tmp_lw_cells SELECT :pt, f." + col + ", d.dim, "
            "CASE d.dim WHEN 'all' THEN '' WHEN 'city' THEN f.city WHEN 'source' THEN f.source "
            "WHEN 'country' THEN f.country ELSE f.lang END, "
            "m.category, SUM(f.n), SUM(f.n_ai), SUM(f.n_none), SUM(f.n_inc), SUM(f.n_tools), SUM(f.n_skills), "
            "SUM(f.n_3plus), SUM(f.n_stated) "
            "FROM tmp_lw_fine f JOIN tmp_lw_catmap m ON m.role = f.role CROSS JOIN tmp_lw_dims d "
            "WHERE f." + col + " IN :periods GROUP BY f." + col + ", d.dim, "
            "CASE d.dim WHEN 'all' THEN '' WHEN 'city' THEN f.city WHEN 'source' THEN f.source "
            "WHEN 'country' THEN f.country ELSE f.lang END, "
            "m.category").bindparams(_in("periods")), {"pt": period_type, "periods": periods})

    conn.exec_driver_sql("CREATE INDEX ix_tmp_lw_cells ON tmp_lw_cells (period_type, period, dim, dim_value, "
                         "category)")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_lw_scope (period_type VARCHAR(5), period VARCHAR(8), "
                         "changed INTEGER)")
    conn.exec_driver_sql("CREATE INDEX ix_tmp_lw_scope ON tmp_lw_scope (period_type, period)")
    scope = [{"pt": "month", "p": p} for p in months] + [{"pt": "week", "p": p} for p in weeks]
    conn.execute(text("INSERT INTO tmp_lw_scope VALUES (:pt, :p, 1)"), scope)
    _analyze(conn, "tmp_lw_cells", "tmp_lw_scope")

    common = {"mv": mv, "tv": tv, "now": now, "min": min_cell}
    changed = 0
    changed += conn.execute(text(
        "INSERT INTO trend_demand (period_type, period, dim, dim_value, category, n, suppressed, "
        "model_version, taxonomy_version, computed_at) "
        "SELECT period_type, period, dim, dim_value, category, n, n < :min, :mv, :tv, :now FROM tmp_lw_cells "
        "WHERE 1 = 1 ON CONFLICT (period_type, period, dim, dim_value, category) DO UPDATE SET "
        "n = excluded.n, suppressed = excluded.suppressed, model_version = excluded.model_version, "
        "taxonomy_version = excluded.taxonomy_version, computed_at = excluded.computed_at "
        "WHERE trend_demand.n <> excluded.n OR trend_demand.suppressed <> excluded.suppressed "
        "OR trend_demand.model_version <> excluded.model_version "
        "OR trend_demand.taxonomy_version <> excluded.taxonomy_version"), common).rowcount
    changed += conn.exec_driver_sql(
        "DELETE FROM trend_demand WHERE EXISTS (SELECT 1 FROM tmp_lw_scope s WHERE s.period_type = "
        "trend_demand.period_type AND s.period = trend_demand.period) AND NOT EXISTS (SELECT 1 FROM "
        "tmp_lw_cells c WHERE c.period_type = trend_demand.period_type AND c.period = trend_demand.period "
        "AND c.dim = trend_demand.dim AND c.dim_value = trend_demand.dim_value "
        "AND c.category = trend_demand.category)").rowcount
    if changed > 1000:
        _analyze(conn, "trend_demand")

    # Shares: one row per cell and metric; k of n with a 95% Wilson interval, computed in SQL.
    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_lw_metrics (metric VARCHAR(30))")
    conn.execute(text("INSERT INTO tmp_lw_metrics (metric) VALUES (:m)"), [{"m": m} for m in METRICS])
    _analyze(conn, "tmp_lw_metrics")
    z = repr(Z95)
    kn = ("CASE m.metric WHEN 'references_ai' THEN c.n_ai WHEN 'ai_none' THEN c.n_none "
          "WHEN 'ai_incidental' THEN c.n_inc WHEN 'ai_tools' THEN c.n_tools WHEN 'ai_skills' THEN c.n_skills "
          "WHEN 'requires_3plus' THEN c.n_3plus ELSE c.n - c.n_stated END AS k, "
          "CASE m.metric WHEN 'requires_3plus' THEN c.n_stated ELSE c.n END AS n")
    wilson = (f"(x.p + {z}*{z}/(2*x.nf) - {z}*sqrt(x.p*(1-x.p)/x.nf + {z}*{z}/(4*x.nf*x.nf))) "
              f"/ (1 + {z}*{z}/x.nf)")
    wilson_hi = wilson.replace(f"- {z}*sqrt", f"+ {z}*sqrt")
    changed += conn.execute(text(
        "INSERT INTO trend_shares (period_type, period, dim, dim_value, category, metric, n, k, share, ci_low, "
        "ci_high, suppressed, model_version, taxonomy_version, computed_at) "
        "SELECT x.period_type, x.period, x.dim, x.dim_value, x.category, x.metric, x.n, x.k, x.p, "
        f"CASE WHEN x.nf IS NULL THEN NULL WHEN {wilson} < 0 THEN 0.0 ELSE {wilson} END, "
        f"CASE WHEN x.nf IS NULL THEN NULL WHEN {wilson_hi} > 1 THEN 1.0 ELSE {wilson_hi} END, "
        "x.n < :min, :mv, :tv, :now FROM ("
        "  SELECT y.*, CASE WHEN y.n > 0 THEN CAST(y.k AS DOUBLE PRECISION) / y.n END AS p, "
        "         CASE WHEN y.n > 0 THEN CAST(y.n AS DOUBLE PRECISION) END AS nf FROM ("
        f"    SELECT c.period_type, c.period, c.dim, c.dim_value, c.category, m.metric, {kn} "
        "    FROM tmp_lw_cells c CROSS JOIN tmp_lw_metrics m) y) x WHERE 1 = 1 "
        "ON CONFLICT (period_type, period, dim, dim_value, category, metric) DO UPDATE SET "
        "n = excluded.n, k = excluded.k, share = excluded.share, ci_low = excluded.ci_low, "
        "ci_high = excluded.ci_high, suppressed = excluded.suppressed, model_version = excluded.model_version, "
        "taxonomy_version = excluded.taxonomy_version, computed_at = excluded.computed_at "
        "WHERE trend_shares.n <> excluded.n OR trend_shares.k <> excluded.k "
        "OR trend_shares.suppressed <> excluded.suppressed "
        "OR trend_shares.model_version <> excluded.model_version "
        "OR trend_shares.taxonomy_version <> excluded.taxonomy_version"), common).rowcount
    changed += conn.exec_driver_sql(
        "DELETE FROM trend_shares WHERE EXISTS (SELECT 1 FROM tmp_lw_scope s WHERE s.period_type = "
        "trend_shares.period_type AND s.period = trend_shares.period) AND NOT EXISTS (SELECT 1 FROM "
        "tmp_lw_cells c WHERE c.period_type = trend_shares.period_type AND c.period = trend_shares.period "
        "AND c.dim = trend_shares.dim AND c.dim_value = trend_shares.dim_value "
        "AND c.category = trend_shares.category)").rowcount
    return changed


def _derive(conn: Connection, changed: set[tuple[str, str]], base_year: int, baseline_touched: bool) -> None:
    """Refresh year-on-year and index columns of the rows whose inputs may have changed."""
    extra = {(pt, _next_year(p)) for pt, p in changed} - changed
    if extra:
        conn.execute(text("INSERT INTO tmp_lw_scope VALUES (:pt, :p, 0)"),
                     [{"pt": pt, "p": p} for pt, p in sorted(extra)])
    conn.exec_driver_sql("CREATE TEMPORARY TABLE tmp_lw_prev (period_type VARCHAR(5), period VARCHAR(8), "
                         "prev_period VARCHAR(8))")
    conn.exec_driver_sql("CREATE INDEX ix_tmp_lw_prev ON tmp_lw_prev (period_type, period)")
    conn.execute(text("INSERT INTO tmp_lw_prev VALUES (:pt, :p, :q)"),
                 [{"pt": pt, "p": p, "q": _prev_year(p)} for pt, p in sorted(changed | extra)])
    _analyze(conn, "tmp_lw_scope", "tmp_lw_prev")
    # Set-based: the new values go to a temp table first, then one UPDATE .. FROM by id (no correlated lookups).
    z = repr(Z95)
    nf, pf = "CAST(t.n AS DOUBLE PRECISION)", "CAST(x.n AS DOUBLE PRECISION)"
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE tmp_lw_yoy AS SELECT t.id, x.n AS n_prev, "
        f"CASE WHEN x.n > 0 THEN {nf} / x.n - 1 END AS yoy, "
        f"CASE WHEN x.n > 0 AND t.n > 0 THEN exp(ln({nf} / x.n) - {z} * sqrt(1.0 / {nf} + 1.0 / {pf})) - 1 END "
        "AS lo, "
        f"CASE WHEN x.n > 0 AND t.n > 0 THEN exp(ln({nf} / x.n) + {z} * sqrt(1.0 / {nf} + 1.0 / {pf})) - 1 END "
        "AS hi FROM trend_demand t JOIN tmp_lw_prev q ON q.period_type = t.period_type AND q.period = t.period "
        "LEFT JOIN trend_demand x ON x.period_type = q.period_type AND x.period = q.prev_period "
        "AND x.dim = t.dim AND x.dim_value = t.dim_value AND x.category = t.category")
    _analyze(conn, "tmp_lw_yoy")
    conn.exec_driver_sql(
        "UPDATE trend_demand SET n_prev_year = y.n_prev, yoy_change = y.yoy, yoy_ci_low = y.lo, yoy_ci_high = y.hi "
        "FROM tmp_lw_yoy y WHERE y.id = trend_demand.id")

    # Index: the baseline is the mean count per period over the baseline year's periods that have data.
    conn.execute(text(
        "CREATE TEMPORARY TABLE tmp_lw_base AS SELECT b.period_type, b.dim, b.dim_value, b.category, "
        "CAST(SUM(b.n) AS DOUBLE PRECISION) / MAX(np.periods) AS mean FROM trend_demand b JOIN ("
        "  SELECT period_type, COUNT(*) AS periods FROM trend_demand WHERE dim = 'all' AND category = 'all' "
        "  AND period LIKE :y GROUP BY period_type) np ON np.period_type = b.period_type "
        "WHERE b.period LIKE :y GROUP BY b.period_type, b.dim, b.dim_value, b.category"),
        {"y": f"{base_year}-%"})
    _analyze(conn, "tmp_lw_base")
    scope = "" if baseline_touched else (
        " JOIN tmp_lw_scope s ON s.period_type = t.period_type AND s.period = t.period")
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE tmp_lw_idx AS SELECT t.id, b.mean, "
        "CASE WHEN b.mean > 0 THEN 100.0 * t.n / b.mean END AS idx FROM trend_demand t" + scope +
        " LEFT JOIN tmp_lw_base b ON b.period_type = t.period_type AND b.dim = t.dim "
        "AND b.dim_value = t.dim_value AND b.category = t.category")
    _analyze(conn, "tmp_lw_idx")
    conn.exec_driver_sql(
        "UPDATE trend_demand SET baseline_mean = i.mean, index_value = i.idx FROM tmp_lw_idx i "
        "WHERE i.id = trend_demand.id")


def _analyze(conn: Connection, *tables: str) -> None:
    """PostgreSQL never auto-analyses temp tables, and plans over fresh rows go badly without statistics."""
    if conn.dialect.name == "postgresql":
        for t in tables:
            conn.exec_driver_sql(f"ANALYZE {t}")


def _store_fingerprints(conn: Connection, mv: str, cfg: str, current: Mapping[tuple[str, str], tuple[int, str]],
                        changed: Iterable[tuple[str, str]], now: datetime) -> None:
    rows = []
    gone = []
    for key in changed:
        if key in current:
            n, fp = current[key]
            rows.append({"pt": key[0], "p": key[1], "mv": mv, "n": n, "fp": fp, "cfg": cfg, "now": now})
        else:
            gone.append({"pt": key[0], "p": key[1]})
    if gone:
        conn.execute(text("DELETE FROM trend_periods WHERE period_type = :pt AND period = :p"), gone)
    if rows:
        conn.execute(text(
            "INSERT INTO trend_periods (period_type, period, model_version, n_postings, fingerprint, config_hash, "
            "computed_at) VALUES (:pt, :p, :mv, :n, :fp, :cfg, :now) ON CONFLICT (period_type, period) DO UPDATE "
            "SET model_version = excluded.model_version, n_postings = excluded.n_postings, "
            "fingerprint = excluded.fingerprint, config_hash = excluded.config_hash, "
            "computed_at = excluded.computed_at"), rows)


# --- reads on the trend tables -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodChange:
    """Change in new canonical postings of one category between two periods, with a Katz 95% interval."""

    category: str
    period_from: str
    period_to: str
    n_from: int
    n_to: int
    change: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


def period_change(engine: Engine, period_from: str, period_to: str, category: str = "all", dim: str = "all",
                  dim_value: str = "") -> PeriodChange:
    """Change of ``n`` from ``period_from`` to ``period_to`` (two months, or two ISO weeks) in one cell.

    Reads ``trend_demand``; a missing cell counts 0 postings. ``suppressed`` when either count is under
    the minimum cell size. Raises ``ValueError`` for malformed or mixed period kinds.
    """
    kinds = {("month" if _MONTH.match(p) else "week" if _WEEK.match(p) else "") for p in (period_from, period_to)}
    if "" in kinds or len(kinds) != 1:
        raise ValueError(f"periods must both be YYYY-MM or both YYYY-Www, got {period_from!r} and {period_to!r}")
    pt = kinds.pop()
    with engine.connect() as conn:
        counts: dict[str, int] = dict(conn.execute(text(
            "SELECT period, n FROM trend_demand WHERE period_type = :pt AND period IN (:a, :b) AND dim = :dim "
            "AND dim_value = :dv AND category = :cat"),
            {"pt": pt, "a": period_from, "b": period_to, "dim": dim, "dv": dim_value, "cat": category}).all())
    n0, n1 = int(counts.get(period_from, 0)), int(counts.get(period_to, 0))
    rc: RateChange | None = rate_change(n1, n0) if n0 > 0 and n1 > 0 else None
    return PeriodChange(category, period_from, period_to, n0, n1,
                        (n1 / n0 - 1.0) if n0 > 0 else None, rc.ci_low if rc else None, rc.ci_high if rc else None,
                        min(n0, n1) < get_settings().min_cell_size)


def shift_share_change(engine: Engine, period_from: str, period_to: str, categories: Iterable[str],
                       metric: str = "references_ai", dim: str = "all", dim_value: str = "") -> ShiftShare:
    """Split the change of ``metric``'s pooled share over ``categories`` into within and mix parts.

    Takes two periods of the same kind and the role codes making up the group (e.g. the new_economy
    members); reads their per-category n and k from ``trend_shares``. Returns ``db.stats.ShiftShare``
    whose ``within + between == total``. Raises ``ValueError`` when a period has no postings.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if dim not in DIMS:
        raise ValueError(f"unknown dim {dim!r}; choose one of {', '.join(DIMS)}")
    if dim == "all" and dim_value:
        raise ValueError(f"dim 'all' takes no dim value (got {dim_value!r}); use --dim city/source/lang/country")
    if dim != "all" and not dim_value:
        raise ValueError(f"dim {dim!r} needs a value (e.g. --dim-value CN for country)")
    kinds = {("month" if _MONTH.match(p or "") else "week" if _WEEK.match(p or "") else "")
             for p in (period_from, period_to)}
    if "" in kinds or len(kinds) != 1:
        raise ValueError(f"--from and --to must both be months (YYYY-MM) or both ISO weeks (YYYY-Www), got "
                         f"{period_from!r} and {period_to!r}")
    if period_from == period_to:
        raise ValueError(f"--from and --to are the same period ({period_from}); give two different periods")
    cats = sorted(set(categories))
    if not cats:
        raise ValueError("shift_share_change needs at least one role category")
    pt = kinds.pop()
    stmt = text(
        "SELECT period, category, n, k FROM trend_shares WHERE period_type = :pt AND period IN (:a, :b) "
        "AND dim = :dim AND dim_value = :dv AND metric = :m AND category IN :cats"
    ).bindparams(_in("cats"))
    a: dict[str, tuple[int, int]] = {}
    b: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        for period, cat, n, k in conn.execute(stmt, {"pt": pt, "a": period_from, "b": period_to, "dim": dim,
                                                     "dv": dim_value, "m": metric, "cats": cats}):
            (a if period == period_from else b)[cat] = (int(n), int(k))
        if not a or not b:
            missing = period_from if not a else period_to
            span = conn.execute(text("SELECT MIN(period), MAX(period), COUNT(*) FROM trend_shares "
                                     "WHERE period_type = :pt"), {"pt": pt}).first()
            if not span or not span[2]:
                raise ValueError(f"the trend tables hold no {pt}ly shares: run `labourwatch trends` first")
            if dim != "all":
                values = [r[0] for r in conn.execute(text(
                    "SELECT DISTINCT dim_value FROM trend_shares WHERE period_type = :pt AND dim = :dim "
                    "ORDER BY dim_value LIMIT 30"), {"pt": pt, "dim": dim})]
                if dim_value not in values:
                    raise ValueError(f"no rows for {dim} {dim_value!r}; known values: {', '.join(values) or 'none'}")
            where = f" for {dim} {dim_value}" if dim != "all" else ""
            raise ValueError(f"no {metric} shares for {missing}{where} in categories {', '.join(cats)}; "
                             f"{pt}s with data run from {span[0]} to {span[1]}")
    return shift_share(a, b)
