"""Trend commands (trends, findings, query, bench trends) and the bulk loader of labelled postings they use."""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text

from db.repo import get_or_create_source, iso_week, normalise_title
from db.session import session_scope

console = Console()
_BUCKET = {True: "3_5", False: "1_3", None: "unstated"}


@dataclass(frozen=True, slots=True)
class LabelledPosting:
    """A posting with its labels, for tests and benchmarks that need known counts in the database."""

    source: str
    external_id: str
    title: str
    posted_at: date
    role_category: str
    ai_level: str = "none"
    requires_3plus_years: bool | None = None
    company: str | None = None
    city: str | None = None
    lang: str | None = "zh"
    description: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        if self.ai_level not in ("none", "incidental", "ai_tools", "ai_skills"):
            raise ValueError(f"{self.source}:{self.external_id}: unknown ai_level {self.ai_level!r}")


def bulk_insert_labelled(engine: Engine, rows: Iterable[LabelledPosting], model_version: str = "synthetic-1",
                         taxonomy_version: str = "1.0", labelled_at: datetime | None = None,
                         batch_size: int = 50_000) -> list[int]:
    """Insert postings and one label each, fast (COPY on PostgreSQL); returns the new posting ids in order.

    Meant for a database with a single writer (tests, benchmarks): ids are assigned here and the id
    sequences are moved past them afterwards.
    """
    labelled_at = labelled_at or datetime.now(UTC)
    pg = engine.dialect.name == "postgresql"
    ids: list[int] = []
    source_ids: dict[str, int] = {}
    with engine.begin() as conn:
        next_pid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM postings")).scalar_one()) + 1
        next_lid = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM posting_labels")).scalar_one()) + 1
    batch: list[LabelledPosting] = []

    def flush() -> None:
        nonlocal next_pid, next_lid
        if not batch:
            return
        for name in {r.source for r in batch} - set(source_ids):
            with session_scope(engine) as s:
                source_ids[name] = get_or_create_source(s, name).id
        posts, labels = [], []
        for r in batch:
            pid, lid = next_pid, next_lid
            next_pid += 1
            next_lid += 1
            ids.append(pid)
            first_seen = datetime(r.posted_at.year, r.posted_at.month, r.posted_at.day, 9, tzinfo=UTC)
            chash = hashlib.sha256(f"{r.source}\x1f{r.external_id}\x1f{r.title}".encode()).hexdigest()
            posts.append((pid, source_ids[r.source], r.external_id, r.title, normalise_title(r.title), r.company,
                          r.city, r.lang, r.description, r.posted_at, r.posted_at.strftime("%Y-%m"),
                          iso_week(r.posted_at), first_seen, first_seen, chash, r.country))
            labels.append((lid, pid, model_version, taxonomy_version, r.role_category, 0.9,
                           None if r.requires_3plus_years is None else (3.0 if r.requires_3plus_years else 1.0),
                           _BUCKET[r.requires_3plus_years], r.requires_3plus_years, r.ai_level, "[]", labelled_at))
        _write(engine, posts, labels, pg)
        batch.clear()

    for r in rows:
        batch.append(r)
        if len(batch) >= batch_size:
            flush()
    flush()
    if pg:
        with engine.begin() as conn:
            for table in ("postings", "posting_labels"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    return ids


_POST_COLS = ("id, source_id, external_id, title, title_norm, company, city, lang, description, posted_at, "
              "posted_month, posted_week, first_seen, last_seen, content_hash, country")
_LABEL_COLS = ("id, posting_id, model_version, taxonomy_version, role_category, role_confidence, "
               "experience_min_years, experience_bucket, requires_3plus_years, ai_level, ai_terms, labelled_at")


def _write(engine: Engine, posts: list[tuple], labels: list[tuple], pg: bool) -> None:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        if pg:
            with cur.copy(f"COPY postings ({_POST_COLS}) FROM STDIN") as cp:
                for row in posts:
                    cp.write_row(row)
            with cur.copy(f"COPY posting_labels ({_LABEL_COLS}) FROM STDIN") as cp:
                for row in labels:
                    cp.write_row(row)
        else:
            # SQLAlchemy's SQLite storage formats for Date and DateTime columns.
            cur.executemany(f"INSERT INTO postings ({_POST_COLS}) VALUES ({','.join('?' * 16)})",
                            [(*r[:9], r[9].isoformat(), r[10], r[11], _sqlite_ts(r[12]), _sqlite_ts(r[13]), r[14],
                              r[15])
                             for r in posts])
            cur.executemany(f"INSERT INTO posting_labels ({_LABEL_COLS}) VALUES ({','.join('?' * 12)})",
                            [(*r[:8], None if r[8] is None else int(r[8]), r[9], r[10], _sqlite_ts(r[11]))
                             for r in labels])
        cur.close()


def _sqlite_ts(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- a synthetic labour market with known trends, for the benchmark ---------------------------------------

ROLES = ("software_dev", "software_qa", "it_ops", "ai_ml", "data", "hardware_eng", "product_project",
         "design_basic", "design_ux", "content_media", "operations", "marketing", "sales_bd", "customer_service",
         "supply_chain_repetitive", "supply_chain_mgmt", "manufacturing", "engineering_construction",
         "finance_accounting", "hr_admin_legal", "healthcare", "education", "services_hospitality", "management",
         "other")
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
                          chunk: int = 1_000_000, on_chunk=None) -> int:  # type: ignore[no-untyped-def]
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
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
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
            picks.append({"ym": f"{y:04d}-{m:02d}", "b": b, "r": ROLES[j]})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)

    def u(k: int) -> str:  # a uniform draw in [0, 1) per posting and stream k
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
                f"  + {u(1)} * 3)) AS INTEGER) AS d, "
                f"  CAST(floor({u(2)} * 1024) AS INTEGER) AS b, ({cities})[CAST(floor({u(3)} * 8) AS INTEGER) + 1]"
                f"  AS city, {u(4)} AS u_ai, {u(5)} AS u_req FROM generate_series(CAST(:lo AS BIGINT), "
                "  CAST(:hi AS BIGINT)) g(i)) x "
                "JOIN tmp_gen_pick p ON p.ym = to_char(x.d, 'YYYY-MM') AND p.b = x.b"),
                {"y0": start.year, "start": start, "days": days, "lo": lo, "hi": hi, "n": n})
            conn.execute(text(
                "INSERT INTO postings (" + _POST_COLS + ") SELECT :pid0 + g.i, "
                "(CAST(:srcs AS INTEGER[]))[g.i % 3 + 1], :prefix || '-' || g.i, g.role || ' ' || (g.i % 97), "
                "g.role || ' ' || (g.i % 97), '公司' || (g.i % 5000), g.city, "
                "CASE WHEN g.i % 3 = 1 THEN 'en' ELSE 'zh' END, NULL, g.d, to_char(g.d, 'YYYY-MM'), "
                "to_char(g.d, 'IYYY-\"W\"IW'), (g.d + TIME '09:00') AT TIME ZONE 'UTC', "
                "(g.d + TIME '09:00') AT TIME ZONE 'UTC', encode(sha256(convert_to((CAST(:names AS TEXT[]))"
                "[g.i % 3 + 1] || chr(31) || :prefix || '-' || g.i || chr(31) || g.role || ' ' || (g.i % 97), "
                "'UTF8')), 'hex'), NULL FROM tmp_gen g"),
                {"pid0": first_pid, "srcs": src_ids, "prefix": prefix, "names": list(SOURCES)})
            conn.execute(text(
                "INSERT INTO posting_labels (" + _LABEL_COLS + ") SELECT :lid0 + g.i, :pid0 + g.i, :mv, :tv, "
                "g.role, 0.9, CASE WHEN g.u_req < 0.2 THEN NULL WHEN g.u_req < 0.76 THEN 3.0 ELSE 1.0 END, "
                "CASE WHEN g.u_req < 0.2 THEN 'unstated' WHEN g.u_req < 0.76 THEN '3_5' ELSE '1_3' END, "
                "CASE WHEN g.u_req < 0.2 THEN NULL ELSE g.u_req < 0.76 END, "
                "CASE WHEN g.u_ai >= g.p_ai THEN 'none' WHEN g.u_ai < g.p_ai * 0.4 THEN 'ai_skills' "
                "WHEN g.u_ai < g.p_ai * 0.8 THEN 'ai_tools' ELSE 'incidental' END, '[]', :at FROM tmp_gen g"),
                {"lid0": first_lid, "pid0": first_pid, "mv": model_version, "tv": taxonomy_version,
                 "at": labelled_at})
        if on_chunk is not None:
            on_chunk(hi + 1)
    with engine.begin() as conn:
        for table in ("postings", "posting_labels"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    return first_pid



# --- command line ------------------------------------------------------------------------------------------


def taxonomy_data() -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Groups and zh/en display names from the taxonomy (models.taxonomy), for trends and findings."""
    from models.taxonomy import load_taxonomy

    tax = load_taxonomy()
    groups = {k: list(v) for k, v in tax.groups.items()}
    names = {c.code: {"zh": c.zh, "en": c.en} for c in tax.categories}
    return groups, names


def _parse_params(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise typer.BadParameter(f"--param takes KEY=VALUE, got {v!r}")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def write_result(result, fmt: str, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Print or save a QueryResult as a table, CSV, JSON or Parquet."""
    import csv
    import io
    import json as _json

    if fmt == "parquet":
        if output is None:
            raise typer.BadParameter("--format parquet needs --output FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = {c: [_plain(r[i]) for r in result.rows] for i, c in enumerate(result.columns)}
        pq.write_table(pa.table(cols), output)
        console.print(f"{len(result.rows)} rows → {output}")
        return
    if fmt == "table" and output is None:
        table = Table(show_lines=False)
        for c in result.columns:
            table.add_column(c)
        for r in result.rows:
            table.add_row(*[_cell(v) for v in r])
        console.print(table)
        console.print(f"{len(result.rows)} rows")
        return
    buf = io.StringIO()
    if fmt == "json":
        _json.dump([{c: _plain(v) for c, v in zip(result.columns, r, strict=True)} for r in result.rows], buf,
                   ensure_ascii=False, indent=1)
        buf.write("\n")
    else:  # csv, or a table written to a file
        w = csv.writer(buf)
        w.writerow(result.columns)
        w.writerows([[_plain(v) for v in r] for r in result.rows])
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        output.write_text(buf.getvalue(), encoding="utf-8")
        console.print(f"{len(result.rows)} rows → {output}")


def _plain(v):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _cell(v) -> str:  # type: ignore[no-untyped-def]
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (since the last ``_reset_peak_rss``), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> None:
    """Linux: restart the peak-RSS counter so a step's peak is its own, not the imports' before it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        pass


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("trends")
    def trends(
        since: str | None = typer.Option(None, "--since", help="Also recompute every period from YYYY-MM on."),
        full: bool = typer.Option(False, "--full", help="Recompute every period."),
        model_version: str | None = typer.Option(None, "--model-version", help="Label version (default newest)."),
    ) -> None:
        """Update the trend tables (demand, year-on-year, index, shares) for the periods that changed."""
        from db.migrate import upgrade
        from db.session import get_engine
        from db.trends import update_trends

        engine = get_engine()
        upgrade(engine)
        groups, _ = taxonomy_data()
        try:
            report = update_trends(engine, groups, model_version=model_version, since=since, full=full)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        console.print(report.summary())

    @app.command("dedupe")
    def dedupe(
        since: str | None = typer.Option(None, "--since", help="Only postings from YYYY-MM on (default: all)."),
        window: int = typer.Option(30, "--window-days", help="Days apart two copies of one job may be."),
    ) -> None:
        """Link cross-source copies and reposts of the same job to one canonical posting; print rates."""
        from db.dedupe import link_duplicates
        from db.migrate import upgrade
        from db.session import get_engine

        engine = get_engine()
        upgrade(engine)
        try:
            report = link_duplicates(engine, since_month=since, window_days=window)
        except ValueError as exc:
            console.print(str(exc), style="red", markup=False)
            raise typer.Exit(2) from None
        console.print(report.summary(), markup=False)

    @app.command("findings")
    def findings(
        month: str = typer.Option(..., "--month", help="YYYY-MM"),
        lang: str = typer.Option("zh", "--lang", help="zh or en"),
        fmt: str = typer.Option("text", "--format", help="text or json"),
        country: str | None = typer.Option(None, "--country", help="Market: ISO code (CN, GB, ...); `all` pools "
                                           "every country; default the largest."),
    ) -> None:
        """Print the month's headline findings for one market (the sentences the PDF brief uses)."""
        import json as _json
        from dataclasses import asdict

        from brief.findings import headline_findings
        from db.session import get_engine

        if fmt not in ("text", "json") or lang not in ("zh", "en"):
            bad = f"--format {fmt!r} is not text or json" if fmt not in ("text", "json") else \
                f"--lang {lang!r} is not zh or en"
            console.print(f"labourwatch findings: {bad}", style="red", markup=False)
            raise typer.Exit(2)
        groups, names = taxonomy_data()
        try:
            items = headline_findings(get_engine(), month, lang=lang, names=names, groups=groups, country=country)
        except ValueError as exc:
            console.print(str(exc), style="red", markup=False)
            raise typer.Exit(2) from None
        if fmt == "json":
            sys.stdout.write(_json.dumps([asdict(f) for f in items], ensure_ascii=False, indent=1) + "\n")
            return
        for i, f in enumerate(items, 1):
            flag = " [suppressed: not for headlines]" if f.suppressed else ""
            console.print(f"{i}. {f.text}{flag}", markup=False, highlight=False)

    @app.command("shift-share")
    def shift_share_cmd(
        period_from: str = typer.Option(..., "--from", help="First period (YYYY-MM or YYYY-Www)."),
        period_to: str = typer.Option(..., "--to", help="Second period, same kind."),
        group: str = typer.Option("new_economy", "--group", help="Taxonomy group whose pooled share is split."),
        metric: str = typer.Option("references_ai", "--metric", help="Share metric (see docs/trends.md)."),
        dim: str = typer.Option("all", "--dim", help="all, city, source, lang or country"),
        dim_value: str = typer.Option("", "--dim-value", help="The city, source, language or country (dim != all)."),
        fmt: str = typer.Option("table", "--format", help="table, csv or json"),
    ) -> None:
        """Split the change of a group's share into within-category and mix (between-category) parts."""
        if fmt not in ("table", "csv", "json"):
            console.print(f"--format must be table, csv or json, not {fmt!r}", style="red", markup=False)
            raise typer.Exit(2)
        from db.session import get_engine
        from db.trends import shift_share_change

        groups, _ = taxonomy_data()
        if group not in groups:
            console.print(f"unknown group {group!r}; groups: {', '.join(sorted(groups))}", style="red",
                          markup=False)
            raise typer.Exit(2)
        try:
            ss = shift_share_change(get_engine(), period_from, period_to, groups[group], metric=metric, dim=dim,
                                    dim_value=dim_value)
        except ValueError as exc:
            console.print(str(exc), style="red", markup=False)
            raise typer.Exit(2) from None
        if fmt != "table":
            import csv as _csv
            import json as _json

            parts = sorted(ss.by_category.items(), key=lambda kv: -abs(kv[1][0] + kv[1][1]))
            if fmt == "json":
                sys.stdout.write(_json.dumps({
                    "group": group, "metric": metric, "from": period_from, "to": period_to, "dim": dim,
                    "dim_value": dim_value, "share_from": ss.share_a, "share_to": ss.share_b, "n_from": ss.n_a,
                    "n_to": ss.n_b, "total": ss.total, "within": ss.within, "mix": ss.between,
                    "by_category": {c: {"within": w, "mix": b} for c, (w, b) in parts}}, indent=1) + "\n")
            else:
                w = _csv.writer(sys.stdout)
                w.writerow(["category", "within", "mix"])
                w.writerows([[c, f"{wi:.6f}", f"{mi:.6f}"] for c, (wi, mi) in parts])
                w.writerow(["total", f"{ss.within:.6f}", f"{ss.between:.6f}"])
            return
        table = Table(title=f"{metric} share of {group}: {ss.share_a:.1%} (n={ss.n_a:,}) → {ss.share_b:.1%} "
                            f"(n={ss.n_b:,}), change {ss.total * 100:+.2f} pp = within {ss.within * 100:+.2f} pp "
                            f"+ mix {ss.between * 100:+.2f} pp")
        for col in ("category", "within (pp)", "mix (pp)"):
            table.add_column(col)
        for cat, (w, b) in sorted(ss.by_category.items(), key=lambda kv: -abs(kv[1][0] + kv[1][1])):
            table.add_row(cat, f"{w * 100:+.2f}", f"{b * 100:+.2f}")
        console.print(table)

    @bench_app.command("trends")
    def bench_trends(
        postings: int = typer.Option(1_000_000, "--postings", help="Synthetic postings to load."),
        night: int | None = typer.Option(None, "--night", help="Postings one night adds (incremental update; "
                                         "default postings / 900, at least 1,000)."),
        db_url: str | None = typer.Option(None, "--db-url", help="Database (default: a fresh SQLite file)."),
        reuse: bool = typer.Option(False, "--reuse", help="Keep postings already there (skip the load)."),
    ) -> None:
        """Full recompute and one night's incremental trend update on synthetic postings: time and memory."""
        from db.migrate import upgrade
        from db.session import get_engine
        from labourwatch.settings import get_settings

        if db_url is None:
            settings = get_settings()
            settings.ensure_dirs()
            path = settings.home / "bench_trends.db"
            path.unlink(missing_ok=True)
            db_url = f"sqlite:///{path.as_posix()}"
        engine = get_engine(db_url)
        upgrade(engine)
        groups, _ = taxonomy_data()
        with engine.connect() as c:
            have = int(c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one())
        if have and not reuse:
            console.print(f"[red]{engine.url.render_as_string()} already holds {have:,} postings; give an empty "
                          "database or --reuse[/red]")
            raise typer.Exit(2)
        # Each step runs in a fresh process, so its peak RSS is the step's own (flat in the postings
        # when the work stays in the database).
        night = max(1_000, postings // 900) if night is None else night
        how = ("SQL generate_series" if engine.dialect.name == "postgresql"
               else "executemany, synthetic generator in Python")
        rows = []
        if not have:
            rows.append(_in_child(f"load ({how})", _step_load, db_url, postings, 0, 0))
        rows.append(_in_child("full recompute", _step_update, db_url, groups, True))
        rows.append(_in_child("repeat run (nothing changed)", _step_update, db_url, groups, False))
        rows.append(_in_child(f"one night: load +{night:,} labelled postings", _step_load, db_url, night, 7,
                              have + postings))
        rows.append(_in_child("incremental update after the night", _step_update, db_url, groups, False))
        queries = _in_child("named queries", _step_queries, db_url)[3]
        with engine.connect() as c:
            total = int(c.execute(text("SELECT COUNT(*) FROM postings")).scalar_one())
            cells = int(c.execute(text("SELECT COUNT(*) FROM trend_demand")).scalar_one())
            shares = int(c.execute(text("SELECT COUNT(*) FROM trend_shares")).scalar_one())
        table = Table(title=f"bench trends — {engine.dialect.name}, {total:,} postings, {cells:,} demand rows, "
                            f"{shares:,} share rows")
        for col in ("step", "seconds", "peak RSS MB", "result"):
            table.add_column(col)
        for step, secs, mem, what in rows:
            table.add_row(step, f"{secs:.2f}", f"{mem:.0f}", what)
        console.print(table)
        qtable = Table(title="named queries (`labourwatch query NAME`), analyst connection: seconds per call")
        for col in ("query", "rows", "1st", "2nd", "3rd"):
            qtable.add_column(col)
        for name, nrows, times in queries:
            qtable.add_row(name, f"{nrows:,}", *[f"{x:.3f}" for x in times])
        console.print(qtable)


def _in_child(label: str, fn, *args) -> tuple[str, float, float, str]:  # type: ignore[no-untyped-def]
    """Run ``fn(*args)`` in a spawned process; returns (label, seconds, its peak RSS MB, its summary)."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        secs, mem, what = pool.apply(fn, args)
    return label, secs, mem, what


def _step_load(db_url: str, n: int, seed: int, offset: int) -> tuple[float, float, str]:
    from db.session import get_engine

    engine = get_engine(db_url)
    _reset_peak_rss()
    base = _peak_rss_mb()
    t = time.perf_counter()
    if offset == 0:
        span = {"start": date(2024, 1, 1), "end": date(2026, 3, 27), "prefix": "syn"}
        when = datetime(2026, 3, 28, tzinfo=UTC)
    else:  # one night: postings of a single new day
        span = {"start": date(2026, 3, 28), "end": date(2026, 3, 28), "prefix": f"night-{offset}"}
        when = datetime(2026, 3, 29, tzinfo=UTC)
    if engine.dialect.name == "postgresql":
        # Straight into the database; a first load builds the secondary indexes once at the end.
        from contextlib import nullcontext

        with _secondary_indexes_dropped(engine) if offset == 0 else nullcontext():
            generate_labelled_sql(engine, n, seed=seed, labelled_at=when, **span)  # type: ignore[arg-type]
    else:
        bulk_insert_labelled(engine, synthetic_postings(n, seed=seed, **span), labelled_at=when)  # type: ignore[arg-type]
    _vacuum_analyze(engine)
    return time.perf_counter() - t, _peak_rss_mb(), f"{n:,} postings + labels; peak +{_peak_rss_mb() - base:.0f} MB"


def _step_update(db_url: str, groups: dict[str, list[str]], full: bool) -> tuple[float, float, str]:
    from db.session import get_engine
    from db.trends import update_trends

    engine = get_engine(db_url)
    with engine.connect() as c:  # warm the pool so the timing is the update's
        c.execute(text("SELECT 1"))
    _reset_peak_rss()
    base = _peak_rss_mb()
    t = time.perf_counter()
    r = update_trends(engine, groups, full=full)
    return (time.perf_counter() - t, _peak_rss_mb(),
            f"{len(r.months)} months, {len(r.weeks)} weeks recomputed; {r.rows_changed:,} rows changed; "
            f"peak +{_peak_rss_mb() - base:.0f} MB over the RSS before the step")


def _step_queries(db_url: str) -> tuple[float, float, list[tuple[str, int, list[float]]]]:
    """Each named query three times on the analyst connection (as `labourwatch query` runs it)."""
    from db.queries import NAMED_QUERIES, grant_analyst, named_query
    from db.session import get_engine

    engine = get_engine(db_url)
    grant_analyst(engine)
    with engine.connect() as c:
        months = [r[0] for r in c.execute(text(
            "SELECT DISTINCT period FROM trend_demand WHERE period_type = 'month' ORDER BY period"))]
    params = {"change": {"from": months[-13], "to": months[-1]} if len(months) > 12 else {}}
    out = []
    for name in NAMED_QUERIES:
        if name == "change" and not params["change"]:
            continue
        times = []
        for _ in range(3):
            t = time.perf_counter()
            res = named_query(engine, name, params.get(name))
            times.append(time.perf_counter() - t)
        out.append((name, len(res.rows), times))
    return 0.0, _peak_rss_mb(), out


@contextmanager
def _secondary_indexes_dropped(engine: Engine) -> Iterator[None]:
    """PostgreSQL bulk load: drop the indexes of postings and posting_labels that back no constraint,
    and build them again afterwards (one sort each instead of millions of random inserts)."""
    with engine.begin() as c:
        defs = [(name, sql) for name, sql in c.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename IN ('postings', 'posting_labels') AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conname = i.indexname)"))]
        for name, _ in defs:
            c.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for _, sql in defs:
                c.exec_driver_sql(sql)


def _vacuum_analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE postings")
            c.exec_driver_sql("VACUUM ANALYZE posting_labels")
    else:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
