"""Running one claimed job: a separate process with a memory limit, killed at the time limit.

The same entry point serves both backends: the local dispatcher calls `supervise` from a thread of
the web (or `flask jobs worker`) process, and RQ calls it from its work horse. Either way the task
itself runs in a fresh interpreter (a subprocess: no state inherited from the parent) that builds
its own app and database connection from the parent's settings, sets RLIMIT_AS, runs the task
and writes progress and the outcome to the job row. The supervisor waits
at most the time limit (counted from the process's start, start-up included), then kills the
process and marks the job failed; it also marks it failed when the process died without saying.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import update

from app.core.errors import DomainError
from app.models import Job, JobStatus
from app.models.base import utcnow
from app.services import storage
from app.services.jobs import registry, store

log = logging.getLogger(__name__)
Heartbeat = Callable[[], None]

MB = 1024 * 1024
EXIT_OUT_OF_MEMORY = 3  # the child could not even start within the memory limit
ORPHAN_GRACE = 5  # seconds past the time limit after which an orphaned child ends itself
# Jobs are background work: they yield the CPU to web requests. bench/packets.py measured the
# evidence page keeping 0.29 of its throughput while two packets rendered at normal priority,
# and about all of it at this one.
NICENESS = 10
# How often a supervisor looks whether its job was cancelled, to stop the child's process.
CANCEL_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    concurrency: int
    seconds: int
    memory_mb: int

    @classmethod
    def of(cls, app: Flask) -> Limits:
        return cls(
            concurrency=int(app.config["JOB_CONCURRENCY"]),
            seconds=int(app.config["JOB_TIME_LIMIT"]),
            memory_mb=int(app.config["JOB_MEMORY_LIMIT_MB"]),
        )


def supervise(
    app: Flask,
    job_id: int,
    kind: str,
    module: str | None = None,
    *,
    heartbeat: Heartbeat | None = None,
) -> None:
    """Run the claimed job `job_id` in a child process and make sure it ends finished.

    `module` is where the task is registered, when this process may not have imported it (None:
    the child finds it among the tasks the app registers). `heartbeat` is called at once and
    then every JOB_HEARTBEAT_SECONDS while the child runs (the RQ backend's sign of life)."""
    limits = Limits.of(app)
    if module is None and kind in registry.TASKS:
        module = registry.TASKS[kind].module
    payload = {
        "job_id": job_id,
        "kind": kind,
        "module": module,
        "settings": settings_for_child(app),
        "memory_mb": limits.memory_mb,
        "seconds": limits.seconds,
        "sys_path": list(sys.path),
        "entry": CHILD_ENTRY,
    }
    started = time.monotonic()
    command = [sys.executable, "-c", CHILD_BOOT]  # fixed: the payload goes through stdin
    process = subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603
    try:
        process.stdin.write(pickle.dumps(payload))
        process.stdin.close()
    except BrokenPipeError:
        pass  # it died at once; its exit code says how
    exitcode = _wait(process, started + limits.seconds, heartbeat, app, job_id)
    if exitcode is CANCELLED:
        process.kill()
        process.wait()
        log.info("job %s (%s) cancelled after %.1f s", job_id, kind, time.monotonic() - started)
        return
    if exitcode is None:
        process.kill()
        process.wait()
        verdict = (
            f"The job was stopped after {limits.seconds} seconds, the time limit for a job. "
            "Try again later; if it keeps happening, ask your administrator to raise "
            "RUNGS_JOB_TIME_LIMIT."
        )
        _fail(app, job_id, verdict, message="Timed out")
        log.warning("job %s (%s) killed after %.1f s", job_id, kind, time.monotonic() - started)
        return
    if exitcode == EXIT_OUT_OF_MEMORY:
        _fail(app, job_id, out_of_memory(limits.memory_mb), message="Out of memory")
    elif exitcode != 0:
        _fail(app, job_id, f"The job's process stopped unexpectedly (exit code {exitcode}).")
    else:  # a clean exit always records an outcome; this only catches a lost update
        _fail(app, job_id, "The job ended without recording a result.")


CANCELLED = "cancelled"  # what _wait returns for a job cancelled while its child ran


def _wait(
    process: subprocess.Popen,
    deadline: float,
    heartbeat: Heartbeat | None,
    app: Flask,
    job_id: int,
) -> int | str | None:
    """The child's exit code; None when it still runs at `deadline` (time.monotonic); CANCELLED
    when its job was cancelled meanwhile (looked up every CANCEL_CHECK_SECONDS)."""
    every = CANCEL_CHECK_SECONDS
    if heartbeat is not None:
        every = min(every, float(app.config.get("JOB_HEARTBEAT_SECONDS") or 5))
    while True:
        if heartbeat is not None:
            heartbeat()
        left = deadline - time.monotonic()
        if left <= 0:
            return process.poll()
        try:
            return process.wait(min(left, every))
        except subprocess.TimeoutExpired:
            with app.app_context():
                if store.is_cancelled(job_id):
                    return CANCELLED


# A fresh interpreter (not a fork: nothing of the parent's threads, locks or connections), which
# takes the parent's import path and calls job_child of CHILD_ENTRY; unlike multiprocessing's
# spawn it never re-imports the parent's __main__ (a script without a main guard would run again).
# The child's entry is named, not imported: building the app is the worker module's job (the
# factory imports the services, so a service that imported it would close a loop).
CHILD_ENTRY = "app.worker"
CHILD_BOOT = (
    "import importlib, pickle, sys; payload = pickle.load(sys.stdin.buffer); "
    "sys.path[:] = payload['sys_path']; "
    "importlib.import_module(payload['entry']).job_child(payload)"
)


def _fail(app: Flask, job_id: int, error: str, *, message: str = "Failed") -> None:
    with app.app_context():
        store.fail_if_unfinished(job_id, error, message=message)


def out_of_memory(memory_mb: int) -> str:
    return (
        f"The job ran out of memory (the limit is {memory_mb} MB per job) and was stopped. "
        "Ask your administrator to raise RUNGS_JOB_MEMORY_LIMIT_MB if it keeps happening."
    )


def settings_for_child(app: Flask) -> dict[str, Any]:
    """The parent app's settings, for the app the child builds (only what pickles)."""
    settings: dict[str, Any] = {}
    for key, value in app.config.items():
        if not key.isupper():
            continue
        try:
            pickle.dumps(value)
        except Exception:  # noqa: S112 - a setting that cannot cross processes stays behind
            continue
        settings[key] = value
    settings["ENV"] = app.config.get("ENV_NAME", "development")
    settings["JOB_LOCAL_DISPATCH"] = False  # the child runs one task and never dispatches
    return settings


# --- in the child process --------------------------------------------------------------------


def limit_child(payload: dict[str, Any]) -> None:
    """First thing in the child: the memory limit, a lower priority and an orphan's deadline."""
    limit = payload["memory_mb"] * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(NICENESS)
    # Should the supervisor die (a killed server), the child still ends soon after its limit.
    signal.alarm(payload["seconds"] + ORPHAN_GRACE)


def run_child(app: Flask, payload: dict[str, Any]) -> None:
    """Run the payload's task in `app` (built by the child's entry) and record the outcome."""
    from app.extensions import db

    with app.app_context():
        _run_task(app, payload["job_id"], payload["kind"], payload["module"], payload["memory_mb"])
        db.engine.dispose()


def _run_task(app: Flask, job_id: int, kind: str, module: str | None, memory_mb: int) -> None:
    from app.extensions import db

    session = db.session()
    session.expire_on_commit = False  # progress commits must not unload what the task read
    try:
        task = registry.task(kind, module)
        params = session.get(Job, job_id).params or {}
        session.commit()  # end the read transaction before the task's long work
        result = task.run(dict(params), _Progress(job_id))
        if isinstance(result, registry.Waiting):
            if store.wait(job_id, params, result):
                session.commit()  # the parts the task submitted go to workers with this commit
            else:
                session.rollback()  # cancelled meanwhile: no part is handed out
            return
        path = registry.result_file(result.path)
        if not path.is_file():
            raise ValueError(f"job {job_id} ({kind}) returned {result.path!r}, which is no file")
        storage.put_file(result.path, path)  # committed with the job's status below
        _update(
            job_id,
            status=JobStatus.DONE,
            progress=100,
            message="Ready",
            result_path=result.path,
            result_name=(result.name or path.name)[:200],
            finished_at=utcnow(),
        )
    except Stopped:
        session.rollback()  # cancelled (or failed by a sweep): nothing since its last progress
    except MemoryError:
        session.rollback()
        _fail_here(job_id, out_of_memory(memory_mb), "Out of memory")
    except DomainError as error:
        session.rollback()
        _fail_here(job_id, error.message, "Failed")
    except Exception as error:
        session.rollback()
        app.logger.exception("job %s (%s) failed", job_id, kind)
        _fail_here(
            job_id,
            f"The job failed unexpectedly ({type(error).__name__}). The error was logged.",
            "Failed",
        )


class Stopped(BaseException):  # a signal to stop, as asyncio.CancelledError is
    """Raised in a task by its progress (or its result) once its job no longer runs: cancelled
    by the person, or failed by a sweep. A BaseException, so that a task's `except Exception`
    cannot swallow it; the task's session is rolled back, so what it did since its last
    progress (a packet put on record, a file stored) is not kept."""


def _update(job_id: int, **values: Any) -> None:
    """Write the running job's row and commit the task's session with it; Stopped (after a
    rollback) when the job no longer runs. The row is locked by the UPDATE until the commit,
    so a cancel comes either before (nothing kept) or after (all of it kept)."""
    from app.extensions import db

    updated = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(**values)
    )
    if updated.rowcount != 1:
        db.session.rollback()
        raise Stopped
    db.session.commit()


def _fail_here(job_id: int, error: str, message: str) -> None:
    with suppress(Stopped):  # it ended already (cancelled): that stands
        _update(
            job_id,
            status=JobStatus.FAILED,
            message=message,
            error=error[:2000],
            finished_at=utcnow(),
        )


class _Progress:
    """The `progress(percent, message)` a task is given: writes to the job row when it changed,
    committing the task's session; raises Stopped once the job no longer runs."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last: tuple[int, str] | None = None

    def __call__(self, percent: int, message: str = "") -> None:
        shown = (max(0, min(100, int(percent))), store.clip(message))
        if shown == self.last:
            return
        self.last = shown
        _update(self.job_id, progress=shown[0], message=shown[1])
