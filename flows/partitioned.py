"""Classification scaled out: pending postings split into id ranges, each a Prefect task on a Dask cluster.

Off by default (``LABOURWATCH_DASK_WORKERS=0`` and no ``LABOURWATCH_DASK_ADDRESS``): the flows then run the
single-process ``classify-pending`` task as before. With Dask, ``classify_step`` runs the ``classify-partitions``
subflow with Prefect's ``DaskTaskRunner``: a temporary ``LocalCluster`` of ``LABOURWATCH_DASK_WORKERS``
processes, or the scheduler at ``LABOURWATCH_DASK_ADDRESS``.

Partitions are ranges of posting ids holding ``LABOURWATCH_CLASSIFY_PARTITION_SIZE`` pending postings each
(whole batches): equal work per task whatever the sources' sizes or the months' spread, and a range is cheap to
re-scan. A partition labels only postings of its range that still lack a label of the run's classifier version,
in committed batches written with the label upsert, so a retried or rescheduled partition (a worker killed
mid-way) resumes where the last committed batch ended and never duplicates a label.

Each worker process loads the classifier once (a per-process cache) and keeps it for later partitions and runs.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from db.labels import pending_count, pending_id_ranges
from db.session import get_engine
from labourwatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.futures import PrefectFuture
    from prefect.task_runners import TaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.classify import ClassifyReport
    from models import PostingClassifier

# --- the classifier, once per worker process -----------------------------------------------------------

_lock = threading.Lock()
_classifiers: dict[str, PostingClassifier] = {}  # model version → PostingClassifier (only the newest one is kept)
_default: list[str] = []  # the version the configured (unnamed) classifier resolved to in this process
LOADS = {"count": 0}  # classifier loads in this process (reported per partition: once per worker)


def worker_classifier(model_version: str | None = None) -> tuple[PostingClassifier, float]:
    """This process's classifier of ``model_version`` (default: the configured one), loaded on first use;
    returns it and the seconds spent loading it now (0.0 when it was cached)."""
    from models import load_classifier

    with _lock:
        wanted = model_version or (_default[0] if _default else None)
        if wanted is not None and wanted in _classifiers:
            return _classifiers[wanted], 0.0
        t0 = time.perf_counter()
        settings = get_settings()
        if model_version is not None:
            settings = settings.model_copy(update={"classifier_version": model_version})
        clf = load_classifier(settings)
        if model_version is None:
            _default[:] = [clf.model_version]
        if clf.model_version in _classifiers:  # the default version asked for by name later
            return _classifiers[clf.model_version], 0.0
        _classifiers.clear()  # a reclassify with a new version: do not keep the old model in memory
        _classifiers[clf.model_version] = clf
        LOADS["count"] += 1
        return clf, time.perf_counter() - t0


# --- planning ------------------------------------------------------------------------------------------


def partition_size(settings: Settings) -> int:
    """The partition size rounded up to whole classification batches (batches then match a single-process run)."""
    batch = settings.classify_batch_size
    size = max(settings.classify_partition_size, 1)
    return -(-size // batch) * batch


# --- tasks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionReport:
    """What one partition task did, and where."""

    first_id: int
    last_id: int
    labelled: int
    seconds: float  # in the task, model load included
    load_seconds: float  # of which loading the classifier (0 when the worker had it)
    worker: str  # host:pid
    loads: int  # classifier loads in that worker process so far


# The task bodies only call module functions: cloudpickle ships a Prefect task's function by value (the module
# attribute is the Task, not the function), copying any module global it names, while functions it calls are
# shipped by reference and so share this module's state (the classifier cache) inside a worker process.


@task(name="classifier-version", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def classifier_version() -> str:
    """Load the configured classifier on a worker (training it on a fresh install) and return its version."""
    return resolve_version()


@task(name="classify-partition", task_run_name="classify-{first_id}-{last_id}", retries=2,
      retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def classify_partition(first_id: int, last_id: int, model_version: str) -> PartitionReport:
    """Label the postings with ids ``first_id``..``last_id`` that lack a label of ``model_version``."""
    return run_partition(first_id, last_id, model_version)


def resolve_version() -> str:
    clf, _ = worker_classifier(None)
    return str(clf.model_version)


def run_partition(first_id: int, last_id: int, model_version: str) -> PartitionReport:
    """One partition in committed batches: postings labelled earlier (by this version) are skipped, so a re-run
    resumes after the last committed batch; ``write_labels`` upserts, so no label is ever written twice."""
    from db.labels import label_pending_batch
    from flows.classify import label_rows

    t0 = time.perf_counter()
    clf, load_s = worker_classifier(model_version)
    engine = get_engine()
    batch_size = get_settings().classify_batch_size
    after, done = first_id - 1, 0
    while True:
        batch = label_pending_batch(engine, model_version, batch_size, after, partial(label_rows, clf),
                                    last_id=last_id)
        if not batch:
            break
        after = batch[-1].id
        done += len(batch)
    return PartitionReport(first_id, last_id, done, time.perf_counter() - t0, load_s,
                           f"{socket.gethostname()}:{os.getpid()}", LOADS["count"])


# --- the flow ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionedReport:
    """A partitioned classification: the fields the flows read from a ``ClassifyReport``, plus the partitions."""

    labelled: int  # postings of the planned ranges labelled by this run (pending before − pending after)
    model_version: str
    seconds: float
    pending_after: int = 0
    partitions: list[PartitionReport] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.labelled / self.seconds if self.seconds > 0 else 0.0

    @property
    def workers(self) -> list[str]:
        return sorted({p.worker for p in self.partitions})


@flow(name="classify-partitions", timeout_seconds=6 * 3600)
def classify_partitions(model_version: str | None = None) -> PartitionedReport:
    """Label every pending posting with classifier ``model_version`` (default: the configured one, resolved on a
    worker), one ``classify-partition`` task per id range, on this flow's task runner (Dask)."""
    logger = get_run_logger()
    t0 = time.perf_counter()
    settings = get_settings()
    engine = get_engine()
    version = model_version or classifier_version.submit().result()
    ranges = pending_id_ranges(engine, version, partition_size(settings))
    before = pending_count(engine, version)
    logger.info("classifying %d pending postings with %s in %d partitions", before, version, len(ranges))
    futures = [classify_partition.submit(a, b, version) for a, b in ranges]
    reports = [f.result() for f in futures]  # a partition that failed after its retries fails the flow
    after = pending_count(engine, version)
    report = PartitionedReport(before - after, version, time.perf_counter() - t0, after, reports)
    logger.info("labelled %d postings in %d partitions on %d workers in %.1fs", report.labelled, len(reports),
                len(report.workers), report.seconds)
    return report


def dask_task_runner(settings: Settings | None = None) -> DaskTaskRunner | None:
    """The Dask task runner the settings ask for, or None (classify in the flow's own process)."""
    s = settings or get_settings()
    if not s.dask_address and s.dask_workers <= 0:
        return None
    from prefect_dask import DaskTaskRunner

    if s.dask_address:
        return DaskTaskRunner(address=s.dask_address)
    # One thread per worker process, and the cores shared out between the processes' torch/BLAS thread pools.
    threads = str(max(1, (os.cpu_count() or 1) // s.dask_workers))
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": s.dask_workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None,
        "memory_limit": 0, "env": {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
    })


def partitions_on(runner: DaskTaskRunner) -> Flow[..., PartitionedReport]:
    """The ``classify-partitions`` flow with its tasks on ``runner``."""
    # A DaskTaskRunner's futures are PrefectFutures, but TaskRunner's type parameter is invariant.
    return classify_partitions.with_options(task_runner=cast("TaskRunner[PrefectFuture[Any]]", runner))


def classify_step(model_version: str | None = None) -> ClassifyReport | PartitionedReport:
    """The classify step of the flows: on Dask when configured, else the single-process task as before."""
    runner = dask_task_runner()
    if runner is None:
        from flows.tasks import pipeline

        return pipeline.classify_pending(model_version=model_version)
    return partitions_on(runner)(model_version=model_version)


# --- benchmark -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchRow:
    draw: str  # cold | warm title-embedding cache
    mode: str  # 1 process | N Dask workers
    postings: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.postings / self.seconds if self.seconds > 0 else 0.0


def bench_partitioned(n: int = 5000, workers: int = 2,
                      partition: int | None = None) -> tuple[list[BenchRow], int, int]:
    """Postings/s of the single-process ``classify_pending`` and of ``classify-partitions`` on a LocalCluster
    of ``workers`` processes, side by side on the same synthetic postings (two draws: the first with empty
    title-embedding caches, the second with what the first left), database writes included.

    A third side runs the single process with one torch thread (what each Dask worker has): threads vs
    processes. Each side has its own scratch SQLite database. The classifier is loaded before timing on both sides (every
    worker loads it once, as on a long-lived cluster reached through ``LABOURWATCH_DASK_ADDRESS``, which is
    how the flow runs here: the cluster outlives the runs); the Dask figure includes the flow's planning,
    Prefect task runs and scheduling. The on-disk title-embedding cache is off for both.

    ``partition``: postings per partition (default about 4 partitions per worker, rounded up to whole batches).

    Returns the rows, the number of labels compared and how many differ in any field between the two sides.
    """
    import tempfile
    from pathlib import Path

    import torch
    from distributed import Client, LocalCluster
    from prefect_dask import DaskTaskRunner

    from db.labels import stored_labels
    from db.migrate import upgrade
    from db.repo import store_postings
    from flows.classify import classify_pending, synthetic_postings
    from models import load_classifier

    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-dask-") as tmp:
        os.environ["LABOURWATCH_EMBEDDING_DISK_CACHE"] = "false"
        # default: about 4 partitions per worker, so that both workers get work and the last ones balance
        os.environ["LABOURWATCH_CLASSIFY_PARTITION_SIZE"] = str(partition or max(1, n // (4 * workers)))
        os.environ["LABOURWATCH_DB_URL"] = f"sqlite:///{Path(tmp) / 'dask.db'}"  # the flow's and the workers'
        get_settings.cache_clear()
        get_engine.cache_clear()
        settings = get_settings()
        single, multi = get_engine(f"sqlite:///{Path(tmp) / 'single.db'}"), get_engine()
        thin = get_engine(f"sqlite:///{Path(tmp) / 'single-1-thread.db'}")
        for eng in (single, multi, thin):
            upgrade(eng)
        clf = load_classifier(settings)
        clf_thin = load_classifier(settings)  # its own title cache: both single-process sides start cold
        local = dask_task_runner(settings.model_copy(update={"dask_workers": workers, "dask_address": None}))
        assert local is not None
        with LocalCluster(**local.cluster_kwargs) as cluster, Client(cluster) as client:
            client.run(resolve_version)  # every worker loads the classifier now, untimed
            runner = DaskTaskRunner(address=cluster.scheduler_address)
            # untimed: starts Prefect's temporary API (when no server is set) on an empty database
            partitions_on(runner)(model_version=clf.model_version)
            for draw, seed in (("cold", 7), ("warm", 8)):
                postings = synthetic_postings(n, seed=seed, prefix=f"s{seed}-")
                for eng in (single, multi, thin):
                    store_postings(eng, postings)
                one = classify_pending(single, classifier=clf)
                rows.append(BenchRow(draw, "1 process", one.labelled, one.seconds))
                # the same process with one torch thread: what each Dask worker gets (threads vs processes)
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    one = classify_pending(thin, classifier=clf_thin)
                finally:
                    torch.set_num_threads(threads)
                rows.append(BenchRow(draw, "1 process, 1 thread", one.labelled, one.seconds))
                t0 = time.perf_counter()
                many = partitions_on(runner)(model_version=clf.model_version)
                rows.append(BenchRow(draw, f"{workers} Dask workers", many.labelled, time.perf_counter() - t0))
        a, b = stored_labels(single), stored_labels(multi)
        differ = sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
        for eng in (single, multi, thin):
            eng.dispose()
    return rows, len(a), differ
