"""Dask worker preload for the killed-worker test: the first worker process to write a second label batch dies.

Loaded in every worker through the ``distributed.worker.preload`` configuration (the test sets it, and
``LW_TEST_DIE_MARKER``); the marker file, created atomically, makes it happen once across all workers and their
restarts. ``os._exit`` skips every cleanup: the process is gone as if killed, mid-partition, after its first
batch was committed and before the second is written.
"""

from __future__ import annotations

import os
from typing import Any


def dask_setup(worker: Any) -> None:
    marker = os.environ.get("LW_TEST_DIE_MARKER")
    if not marker:
        return
    import db.labels

    original = db.labels.write_labels
    writes = {"n": 0}

    def write_or_die(session: Any, rows: Any, *args: Any, **kwargs: Any) -> int:
        writes["n"] += 1
        if writes["n"] == 2:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, f"{os.getpid()} {rows[0].posting_id}".encode())
                os.close(fd)
                os._exit(17)
        return original(session, rows, *args, **kwargs)

    db.labels.write_labels = write_or_die
