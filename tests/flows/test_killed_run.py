"""A nightly run killed half-way (SIGKILL to the whole process group), then run again, ends complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import text

from db.session import get_engine

pytestmark = pytest.mark.slow


def test_nightly_killed_mid_crawl_then_rerun(prefect_api: None, fake_classifier: None, small_board: Any) -> None:
    from flows.nightly import nightly

    dataset, _board = small_board
    engine = get_engine()
    # The killed run is a real `labourwatch nightly` in its own process group (its crawl subprocesses too).
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "nightly"], env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stored = 0
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with engine.connect() as c:
                    stored = c.execute(text("SELECT count(*) FROM postings")).scalar() or 0
            except Exception:  # the schema may not exist yet
                stored = 0
            if stored > 0:
                break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert 0 < stored, "the run ended or stalled before storing anything; nothing was interrupted"
    with engine.connect() as c:
        before = c.execute(text("SELECT count(*) FROM postings")).scalar()
        labelled_before = c.execute(text("SELECT count(*) FROM posting_labels")).scalar()
    well_formed = sum(not p.malformed for p in dataset.postings)
    assert before < well_formed or labelled_before < well_formed  # it really was cut short

    report = nightly(crawl_retries=2)
    assert report.ok, report.markdown()
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*), count(DISTINCT source_id || ':' || external_id) FROM postings")).one()
        unlabelled = c.execute(text("SELECT count(*) FROM postings p WHERE NOT EXISTS "
                                    "(SELECT 1 FROM posting_labels l WHERE l.posting_id = p.id)")).scalar()
        counted = dict(c.execute(text("SELECT period, n FROM trend_demand WHERE period_type='month' "
                                      "AND dim='all' AND category='all'")).all())
        canonical = dict(c.execute(text("SELECT posted_month, count(*) FROM postings WHERE canonical_id IS NULL "
                                        "GROUP BY posted_month")).all())
    assert tuple(n) == (well_formed, well_formed)  # every posting, none twice
    assert unlabelled == 0
    assert counted == canonical  # the trend tables caught up with everything stored
    again = nightly(crawl_retries=2)
    assert (again.new, again.labelled, again.duplicates_linked, again.trend_rows_changed) == (0, 0, 0, 0)
