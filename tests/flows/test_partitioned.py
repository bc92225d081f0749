"""Classification on Dask: real backfill flow runs whose classify step runs partitions as Prefect tasks on a
real LocalCluster (2 worker processes), against SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from labourwatch.settings import get_settings

N_POSTINGS = 900
BATCH = 50
PARTITION = 200  # 4 batches a partition, 5 partitions (the last one 100 postings)

# Every label field a run decides (not the row id or the time it was written).
LABEL_FIELDS = ("posting_id", "model_version", "taxonomy_version", "role_category", "role_confidence",
                "experience_min_years", "experience_max_years", "experience_bucket", "requires_3plus_years",
                "ai_level", "ai_terms", "role_source", "role_category_text")


def store(engine: Engine, n: int = N_POSTINGS) -> None:
    """The benchmark's realistic mix, spread over 2025-01..06, a third with a board category."""
    from db.repo import store_postings
    from flows.classify import synthetic_postings

    boards = ["技术/后端开发/Java", "设计/UI设计", "销售/销售代表", None]
    postings = [dataclasses.replace(p, posted_at=date(2025, 1 + i % 6, 1 + i % 28),
                                    board_category=boards[i % len(boards)])
                for i, p in enumerate(synthetic_postings(n, seed=3))]
    store_postings(engine, postings)


def labels(engine: Engine) -> list[tuple]:
    with engine.connect() as c:
        rows = c.execute(text(f"SELECT {', '.join(LABEL_FIELDS)} FROM posting_labels ORDER BY posting_id"))
        return [tuple(str(v) if f == "ai_terms" else v for f, v in zip(LABEL_FIELDS, r, strict=True))
                for r in rows]


def use_dask(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setenv("LABOURWATCH_DASK_WORKERS", str(workers))
    monkeypatch.setenv("LABOURWATCH_CLASSIFY_BATCH_SIZE", str(BATCH))
    monkeypatch.setenv("LABOURWATCH_CLASSIFY_PARTITION_SIZE", str(PARTITION))
    get_settings.cache_clear()


def flow_runs(name: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                                     sort=FlowRunSort.START_TIME_DESC)


def task_runs(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


# --- planning (no Prefect, no Dask) ----------------------------------------------------------------------


def test_partitions_cover_every_pending_posting_once(engine: Engine) -> None:
    from db.labels import LabelRow, pending_count, pending_id_ranges, write_labels
    from db.session import session_scope
    from flows.partitioned import partition_size

    store(engine, 260)
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id FROM postings ORDER BY id"))]
    done = set(ids[10:40]) | {ids[-1]}  # already labelled by version v: not pending
    with session_scope(engine) as s:
        write_labels(s, [LabelRow(i, "v", "t", "other", 0.5, None, None, "unstated", None, "none", ())
                         for i in sorted(done)])
    pending = [i for i in ids if i not in done]
    assert len(pending) == 229
    parts = pending_id_ranges(engine, "v", 50)
    covered = [i for a, b in parts for i in pending if a <= i <= b]
    assert covered == pending  # every pending posting in exactly one range, in id order
    assert [sum(a <= i <= b for i in pending) for a, b in parts] == [50, 50, 50, 50, len(pending) - 200]  # 229 pending
    assert all(parts[k][1] < parts[k + 1][0] for k in range(len(parts) - 1))
    assert pending_count(engine, "v") == len(pending)
    assert pending_id_ranges(engine, "other-version", 1000) == [(ids[0], ids[-1])]
    with pytest.raises(ValueError):
        pending_id_ranges(engine, "v", 0)
    s = get_settings().model_copy(update={"classify_batch_size": 64, "classify_partition_size": 100})
    assert partition_size(s) == 128


def test_dask_is_off_by_default_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.partitioned import dask_task_runner

    assert dask_task_runner() is None  # the single-process classify task, as before
    use_dask(monkeypatch, 3)
    local = dask_task_runner()
    assert local.address is None and local.cluster_kwargs["n_workers"] == 3
    assert local.cluster_kwargs["processes"] is True and local.cluster_kwargs["threads_per_worker"] == 1
    monkeypatch.setenv("LABOURWATCH_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    get_settings.cache_clear()
    remote = dask_task_runner()
    assert remote.address == "tcp://10.0.0.5:8786" and not remote.cluster_kwargs


# --- real flow runs on a 2-worker LocalCluster ------------------------------------------------------------


@pytest.mark.slow
def test_two_dask_workers_label_like_one_process(prefect_api: None, fake_classifier: None, engine: Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.backfill import backfill

    store(engine)
    use_dask(monkeypatch, 0)
    single = backfill(start="2025-01", end="2025-06", crawl=False)
    one_process = labels(engine)
    assert single.pipeline.labelled == N_POSTINGS and len(one_process) == N_POSTINGS
    assert not any("Dask" in n for n in single.pipeline.notes)

    with engine.begin() as c:
        c.execute(text("DELETE FROM posting_labels"))
    use_dask(monkeypatch, 2)
    dask = backfill(start="2025-01", end="2025-06", crawl=False)
    assert labels(engine) == one_process  # every field of every posting's label
    assert dask.pipeline.labelled == N_POSTINGS
    assert dask.pipeline.model_version == single.pipeline.model_version
    assert "classified on Dask: 5 partitions on 2 worker processes" in dask.pipeline.notes

    run = flow_runs("classify-partitions")[0]
    assert run.state.is_completed()
    parts = [t for t in task_runs(run.id) if t.name.startswith("classify-") and t.name != "classifier-version"]
    assert len(parts) == 5 and all(t.state.is_completed() for t in parts)
    assert flow_runs("backfill")[0].state.is_completed()


@pytest.mark.slow
def test_a_scheduler_address_and_each_worker_loading_the_classifier_once(
        prefect_api: None, fake_classifier: None, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """LABOURWATCH_DASK_ADDRESS: a long-lived cluster serves two runs; its workers load the classifier once."""
    from distributed import LocalCluster

    from flows.partitioned import classify_step, dask_task_runner

    store(engine)
    use_dask(monkeypatch, 2)
    with LocalCluster(**dask_task_runner().cluster_kwargs) as cluster:
        monkeypatch.setenv("LABOURWATCH_DASK_ADDRESS", cluster.scheduler_address)
        get_settings.cache_clear()
        first = classify_step()
        assert first.labelled == N_POSTINGS and first.pending_after == 0
        assert len(first.partitions) == 5 and len(first.workers) == 2
        assert sum(p.labelled for p in first.partitions) == N_POSTINGS
        # 5 partitions and a version look-up on 2 processes, yet no process loaded the classifier twice
        assert all(p.loads == 1 for p in first.partitions), first.partitions
        assert sum(p.load_seconds > 0 for p in first.partitions) <= 2

        from db.repo import store_postings
        from flows.classify import synthetic_postings

        store_postings(engine, synthetic_postings(300, seed=4, prefix="night2-"))
        second = classify_step()
        assert second.labelled == 300 and second.model_version == first.model_version
        assert {p.worker for p in second.partitions} <= set(first.workers)  # the same worker processes...
        assert all(p.loads == 1 and p.load_seconds == 0 for p in second.partitions)  # ...kept the model
    assert labels(engine) and len(labels(engine)) == N_POSTINGS + 300


@pytest.mark.slow
def test_a_killed_worker_partition_is_retried_without_duplicates(prefect_api: None, fake_classifier: None,
                                                                 engine: Engine, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # distributed is imported first so its config defaults are loaded before the `set` below: a `set` of a key
    # whose top level does not exist yet deletes that whole level on exit, and the next test's client fails.
    import dask
    import distributed  # noqa: F401

    from flows.backfill import backfill

    store(engine)
    marker = tmp_path / "a-worker-died"
    monkeypatch.setenv("LW_TEST_DIE_MARKER", str(marker))
    use_dask(monkeypatch, 2)
    # The nannies hand this configuration to the worker processes they start (and restart).
    with dask.config.set({"distributed.worker.preload": ["tests.flows.dask_fault"]}):
        report = backfill(start="2025-01", end="2025-06", crawl=False)

    assert marker.exists(), "no worker died: the fault was not injected"
    pid, died_at = (int(x) for x in marker.read_text().split())
    with engine.connect() as c:
        n_labels, n_distinct, n_postings = c.execute(text(
            "SELECT count(*), count(DISTINCT posting_id), (SELECT count(*) FROM postings) FROM posting_labels"
        )).one()
        unlabelled = c.execute(text("SELECT count(*) FROM postings p WHERE NOT EXISTS "
                                    "(SELECT 1 FROM posting_labels l WHERE l.posting_id = p.id)")).scalar()
    assert n_postings == N_POSTINGS
    assert n_labels == n_distinct == N_POSTINGS and unlabelled == 0  # each posting exactly one label row
    assert report.pipeline.ok and report.pipeline.labelled == N_POSTINGS

    run = flow_runs("classify-partitions")[0]
    assert run.state.is_completed() and flow_runs("backfill")[0].state.is_completed()
    parts = [t for t in task_runs(run.id) if t.name.startswith("classify-") and t.name != "classifier-version"]
    assert len(parts) == 5 and all(t.state.is_completed() for t in parts)
    # The dead worker's partition (the one holding the batch it died writing) is among the completed ones.
    assert sum(int(t.name.split("-")[1]) <= died_at <= int(t.name.split("-")[2]) for t in parts) == 1
    assert pid > 0
