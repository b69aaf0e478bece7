"""The entry point of a job's own process: it builds the app, which services never do.

The job runner (app/services/jobs/runner.py) starts a fresh interpreter for each job and hands it
a payload; that interpreter calls `job_child` here by its dotted name (runner.CHILD_ENTRY), so the
services only know the name and imports keep running one way: this module -> the factory and the
runner, never the reverse.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from app.services.jobs import runner


def job_child(payload: dict[str, Any]) -> None:
    """A job process's whole life: limit memory, build an app, run the task, record the outcome."""
    runner.limit_child(payload)
    try:
        from app import create_app  # after the memory limit: building the app counts

        app = create_app(payload["settings"], environ={})
    except MemoryError:
        sys.exit(runner.EXIT_OUT_OF_MEMORY)
    runner.run_child(app, payload)
    # The outcome is committed: skip the interpreter's slow teardown of every module.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
