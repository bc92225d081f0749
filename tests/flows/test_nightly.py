"""Real flow runs against a live demo board: nightly end to end, a no-op second run, a failing source, backfill."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select, text

from db import schema
from db.session import get_engine
from labourwatch.settings import get_settings

pytestmark = pytest.mark.slow


def served(dataset: Any, style: str) -> list[Any]:
    """Postings a crawler can collect from one board style (malformed pages must be rejected)."""
    return [p for p in dataset.by_style(style) if not p.malformed]


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Everything a pipeline run decides, without timestamps: postings, links, labels, trend rows."""
    queries = {
        "postings": "SELECT source_id, external_id, content_hash, canonical_id, posted_month FROM postings",
        "labels": "SELECT posting_id, model_version, role_category, experience_bucket, ai_level FROM posting_labels",
        "demand": "SELECT period_type, period, dim, dim_value, category, n, n_prev_year, yoy_change, index_value, "
                  "suppressed FROM trend_demand",
        "shares": "SELECT period_type, period, dim, dim_value, category, metric, n, k, suppressed FROM trend_shares",
    }
    with engine.connect() as c:
        return {name: sorted(tuple(r) for r in c.execute(text(q))) for name, q in queries.items()}


def artifact(key: str) -> Any:
    """The latest Prefect artifact under ``key``, read back through the API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert found, f"no artifact {key!r}"
    return found[0]


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)], indirect=True)
def test_nightly_end_to_end_then_a_no_op(prefect_api: None, fake_classifier: None, small_board: Any,
                                         db_url: str) -> None:
    from flows.nightly import nightly

    dataset, _board = small_board
    report = nightly(crawl_retries=1)
    engine = get_engine()

    assert report.ok, report.markdown()
    by_source = {s.source: s for s in report.sources}
    assert set(by_source) == {"demo_html", "demo_api"}
    with engine.connect() as c:
        stored = dict(c.execute(select(schema.Source.name, text("count(postings.id)"))
                                .join(schema.Posting, schema.Posting.source_id == schema.Source.id)
                                .group_by(schema.Source.name)).all())
        labelled = c.execute(text("SELECT count(DISTINCT posting_id) FROM posting_labels")).scalar()
        linked = c.execute(text("SELECT count(*) FROM postings WHERE canonical_id IS NOT NULL")).scalar()
        months = {r[0] for r in c.execute(text("SELECT DISTINCT period FROM trend_demand WHERE period_type='month'"))}
        run_flow_ids = {r[0] for r in c.execute(text("SELECT flow_run_id FROM crawl_runs"))}
    # Every well-formed page of both styles is stored, none twice; malformed pages are the rejects.
    assert stored == {"demo_html": len(served(dataset, "html")), "demo_api": len(served(dataset, "api"))}
    for name, style in (("demo_html", "html"), ("demo_api", "api")):
        s = by_source[name]
        assert s.status == "succeeded"
        assert s.postings == s.new == stored[name]
        assert s.rejects == sum(p.malformed for p in dataset.by_style(style))
    assert report.new == sum(stored.values())
    assert report.labelled == labelled == sum(stored.values())
    assert report.duplicates_linked == linked == sum(s.duplicates for s in report.sources)
    assert linked > 0  # the board reposts jobs across its two styles
    assert report.trend_rows_changed > 0
    assert months == {p.month for p in dataset.postings if not p.malformed}
    assert len(run_flow_ids) == 1 and None not in run_flow_ids  # crawls are linked to their flow run

    table = artifact("nightly-sources").data
    rows = {r["source"]: r for r in (yaml.safe_load(table) if isinstance(table, str) else table)}
    assert rows["demo_html"]["new"] == stored["demo_html"] and rows["demo_api"]["status"] == "succeeded"
    summary = artifact("nightly-summary").data
    assert f"new postings: **{report.new}**" in summary and "failures: **0**" in summary

    before = snapshot(engine)
    again = nightly(crawl_retries=1)
    assert again.ok
    assert (again.new, again.labelled, again.duplicates_linked, again.trend_rows_changed) == (0, 0, 0, 0)
    assert {s.source: s.postings for s in again.sources} == stored
    assert snapshot(engine) == before


def test_a_source_returning_500s_fails_alone(prefect_api: None, fake_classifier: None, small_board: Any,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from demoboard.server import DemoBoard, FaultConfig
    from flows.nightly import nightly
    from scrapers.config import DEFAULT_SOURCES_FILE

    dataset, _board = small_board
    # A second board whose every URL answers 500, configured as a third source beside the two good ones.
    with DemoBoard(dataset, faults=FaultConfig(rate_500=1.0, burst=10**9)) as broken:
        doc = yaml.safe_load(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))
        doc["sources"] = [s for s in doc["sources"] if s["name"] in ("demo_html", "demo_api")] + [{
            "name": "broken_board", "spider": "jobposting", "enabled": True,
            "sitemap_urls": [f"{broken.url}/sitemap.xml"], "download_delay": 0, "max_requests": 200,
            # Scrapy's own retries of each 500 kept short: the flow-level retry is what is under test.
            "settings": {"RETRY_TIMES": 1, "LW_RETRY_BACKOFF_BASE": 0.01},
        }]
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("LABOURWATCH_SOURCES_FILE", str(sources_file))
        get_settings.cache_clear()

        report = nightly(crawl_retries=1)

    statuses = {s.source: s.status for s in report.sources}
    assert statuses == {"demo_html": "succeeded", "demo_api": "succeeded", "broken_board": "failed"}
    assert [s.source for s in report.failures] == ["broken_board"]
    failed = report.failures[0]
    assert failed.error and "broken_board" in failed.error
    # The good sources were stored and the rest of the pipeline ran on them.
    assert {s.source: s.new for s in report.sources if s.status == "succeeded"} == {
        "demo_html": len(served(dataset, "html")), "demo_api": len(served(dataset, "api"))}
    assert report.labelled == report.new > 0 and report.trend_rows_changed > 0
    # The failing crawl was retried once (the task ran twice, read back through the API), and every crawl
    # run it recorded is failed.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(task_run_filter=TaskRunFilter(
            name=TaskRunFilterName(any_=["crawl-broken_board"])))
    assert [(t.run_count, t.state.type.value) for t in task_runs] == [(2, "FAILED")]
    with get_engine().connect() as c:
        runs = c.execute(text("SELECT r.status FROM crawl_runs r JOIN sources s ON s.id = r.source_id "
                              "WHERE s.name = 'broken_board'")).scalars().all()
    assert runs and set(runs) == {"failed"}
    summary = artifact("nightly-summary").data
    assert "failures: **1**" in summary and "`broken_board`" in summary
    table = artifact("nightly-sources").data
    rows = {r["source"]: r for r in (yaml.safe_load(table) if isinstance(table, str) else table)}
    assert rows["broken_board"]["status"] == "failed" and rows["demo_html"]["status"] == "succeeded"


def test_backfill_over_three_months(prefect_api: None, fake_classifier: None, small_board: Any) -> None:
    from flows.backfill import backfill
    from flows.progress import CrawlProgress, StageProgress, listening

    dataset, _board = small_board
    months = ["2026-01", "2026-02", "2026-03"]
    events: list[StageProgress | CrawlProgress] = []
    with listening(events.append):
        report = backfill(start=months[0], end=months[-1], crawl_retries=1)

    assert report.pipeline.ok
    # Every stage is reported started then finished, in order, with what it did; each crawl with its counters.
    stages = [e for e in events if isinstance(e, StageProgress)]
    finished = {e.stage: e for e in stages if e.finished}
    assert [e.stage for e in stages if e.finished] == ["crawl", "classify", "dedupe", "trends"]
    assert [e.stage for e in stages if e.done == 0 and not e.finished][:2] == ["crawl", "classify"]
    assert {e.flow for e in stages} == {"backfill"}
    assert (finished["crawl"].done, finished["crawl"].total) == (len(report.pipeline.sources),) * 2
    assert finished["classify"].done == report.pipeline.labelled > 0
    assert finished["dedupe"].done == report.pipeline.duplicates_linked
    assert (finished["trends"].done, finished["trends"].total, finished["trends"].unit) == (3, 3, "months")
    classify_counts = [e.done for e in stages if e.stage == "classify"]
    assert classify_counts == sorted(classify_counts)
    crawled = {e.source: e for e in events if isinstance(e, CrawlProgress) and e.finished}
    assert set(crawled) == {s.source for s in report.pipeline.sources}
    for s in report.pipeline.sources:
        assert crawled[s.source].requests == s.requests
    assert [r["month"] for r in report.months] == months
    truth = Counter(p.month for p in dataset.postings if not p.malformed)
    for row in report.months:
        assert row["postings"] == truth[row["month"]] > 0
        assert row["labelled"] == row["postings"]
        assert 0 < row["canonical"] <= row["postings"]
        assert row["trend_rows"] > 0
    with get_engine().connect() as c:
        n_all = dict(c.execute(text(
            "SELECT period, n FROM trend_demand WHERE period_type='month' AND dim='all' AND category='all' "
            "AND period IN ('2026-01','2026-02','2026-03')")).all())
    assert n_all == {r["month"]: r["canonical"] for r in report.months}
    table = artifact("backfill-months").data
    assert "2026-02" in str(table)

    # Backfilling the same months again (history already collected) labels and rewrites nothing.
    before = snapshot(get_engine())
    again = backfill(start=months[0], end=months[-1], crawl=False)
    assert (again.pipeline.labelled, again.pipeline.duplicates_linked, again.pipeline.trend_rows_changed) == (0, 0, 0)
    assert again.months == report.months
    assert snapshot(get_engine()) == before


def test_monthly_brief_renders_and_records_last_month(prefect_api: None, fake_classifier: None,
                                                       small_board: Any) -> None:
    import hashlib

    from flows.monthly_brief import monthly_brief
    from flows.nightly import nightly

    assert nightly(crawl_retries=1).ok
    first = monthly_brief(month="2026-06", lang="en")
    pdf = Path(first.path)
    assert pdf.is_file() and 4 <= first.pages <= 8
    assert first.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    # A few hundred postings leave most cells under the minimum size: those findings are withheld, not lost.
    assert first.findings or first.withheld
    assert all(isinstance(t, str) and t for t in first.findings + first.withheld)
    with get_engine().connect() as c:
        rows = c.execute(text("SELECT month, lang, path, sha256, pages FROM briefs")).all()
    assert [tuple(r) for r in rows] == [("2026-06", "en", str(pdf), first.sha256, first.pages)]
    assert "2026-06" in artifact("monthly-brief").data

    # Re-running the month replaces its brief: still one row per month and language.
    again = monthly_brief(month="2026-06", lang="en")
    with get_engine().connect() as c:
        assert c.execute(text("SELECT count(*), max(sha256) FROM briefs")).one() == (1, again.sha256)


def test_reclassify_with_a_new_version_and_compare(prefect_api: None, fake_classifier: None, small_board: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.backfill import reclassify
    from flows.nightly import nightly
    from models import load_classifier

    first = nightly(crawl_retries=1)
    assert first.ok and first.labelled > 0
    old = first.model_version
    # A second classifier version: the same exemplars under another (fake) embedding, trained here.
    monkeypatch.setenv("LABOURWATCH_EMBEDDING_MODEL", "hash:32")
    get_settings.cache_clear()
    new = load_classifier().model_version
    assert new != old
    monkeypatch.setenv("LABOURWATCH_EMBEDDING_MODEL", "hash:64")  # the configured one stays the old
    get_settings.cache_clear()

    report = reclassify(model_version=new)
    assert (report.model_version, report.previous_version) == (new, old)
    assert report.labelled == report.compared == first.labelled
    assert set(report.agreement) == {"role_category", "experience_bucket", "ai_level"}
    # Experience comes from rules, not embeddings: both versions must agree on every posting.
    assert report.agreement["experience_bucket"] == 1.0
    assert 0.0 < report.agreement["role_category"] <= 1.0
    with get_engine().connect() as c:
        versions = c.execute(text("SELECT DISTINCT model_version FROM trend_demand")).scalars().all()
        labels = dict(c.execute(text("SELECT model_version, count(*) FROM posting_labels "
                                     "GROUP BY model_version")).all())
    assert versions == [new]  # the trend tables now come from the new version
    assert labels == {old: first.labelled, new: first.labelled}  # the old labels stay for comparison
    assert reclassify(model_version=new).labelled == 0


def test_tag_limit_keeps_one_crawl_per_source(prefect_api: None, small_board: Any) -> None:
    """Two crawls of the same source submitted at once run one after the other (``tag:crawl:<source>`` = 1)."""
    from prefect import flow
    from prefect.client.orchestration import get_client

    from flows.tasks import crawling, pipeline

    @flow
    def two_crawls_of_one_source() -> list[str]:
        pipeline.migrate_db()  # a flow migrates once before its crawls (the crawl task does not)
        crawling.ensure_concurrency_limits(["demo_api"])
        task = crawling.crawl_source.with_options(tags=[crawling.CRAWL_TAG, crawling.source_tag("demo_api")],
                                                  retries=0)
        futures = [task.submit("demo_api") for _ in range(2)]
        return [f.result().status for f in futures]

    assert two_crawls_of_one_source() == ["succeeded", "succeeded"]
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name("tag:crawl:demo_api").limit == 1
    with get_engine().connect() as c:
        runs = c.execute(text("SELECT started_at, finished_at FROM crawl_runs ORDER BY started_at")).all()
    assert len(runs) == 2
    assert runs[1].started_at >= runs[0].finished_at  # no overlap
