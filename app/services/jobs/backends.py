"""Submitting a job and handing it, once committed, to a backend: RQ when REDIS_URL is set, else
the local dispatcher.

Imports run one way: this module -> the backends (local, rq_backend) -> runner -> store (the rows)
-> registry. Submitting lives here, not in store, so that the rows never call back up.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Job, JobStatus, User
from app.models.base import utcnow
from app.services.jobs import registry, store

log = logging.getLogger(__name__)
_PENDING = "rungs_jobs_to_dispatch"


def submit(actor: User, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job of `kind` in the caller's transaction; it is handed to a worker after commit."""
    registry.task(kind)  # an unknown kind is a programming error: fail now, not in the worker
    try:
        params = json.loads(json.dumps(params))
    except (TypeError, ValueError) as error:
        raise ValueError(f"job parameters must be JSON: {error}") from None
    job = Job(
        kind=kind,
        params=params,
        status=JobStatus.QUEUED,
        progress=0,
        message="Waiting for a worker",
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append((job.id, kind))
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        dispatch(current_app._get_current_object(), pending)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def uses_redis(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def dispatch(app: Flask, pending: list[tuple[int, str]]) -> None:
    """Called after the commit that wrote the job rows."""
    if uses_redis(app):
        from app.services.jobs import rq_backend

        for job_id, kind in pending:
            rq_backend.enqueue(app, job_id, kind)
        try:  # a chance to recover other jobs (a POST: the sweep may write)
            rq_backend.sweep(app)
        except Exception:
            log.exception("the job sweep failed")
    elif app.config.get("JOB_LOCAL_DISPATCH"):
        ensure_dispatching(app)


def ensure_dispatching(app: Flask | None = None) -> None:
    """Make sure queued jobs get picked up (the local backend; RQ workers need no nudge)."""
    app = app or current_app._get_current_object()
    if uses_redis(app) or not app.config.get("JOB_LOCAL_DISPATCH"):
        return
    from app.services.jobs import local

    local.dispatcher(app).wake()


def sweep(app: Flask | None = None, *, force: bool = True) -> str:
    """Fail the jobs whose worker is gone; with Redis, also recover queued jobs it lost.

    What it did, in words (for `flask jobs sweep`). Writes: call it from a command, a worker or
    a POST, never from a GET."""
    app = app or current_app._get_current_object()
    if uses_redis(app):
        from app.services.jobs import rq_backend

        swept = rq_backend.sweep(app, force=force)
        if swept is None:
            return "Another sweep ran moments ago; nothing done."
        return (
            f"{swept.overdue} past the time limit and {swept.silent} without a live worker "
            f"failed; {swept.requeued} lost from Redis enqueued again, {swept.lost} too old "
            f"to start again failed; {swept.resumed} waiting for finished parts queued again."
        )
    overdue = store.fail_stale(int(app.config["JOB_TIME_LIMIT"]))
    resumed = len(store.settle_waiting())
    if resumed:
        ensure_dispatching(app)
    return (
        f"{overdue} past the time limit failed; {resumed} waiting for finished parts queued again."
    )


def run_pending(app: Flask | None = None) -> None:
    """Run every queued job now, in child processes, and return when they are finished.

    Local backend only (tests, `flask jobs worker --burst`); with Redis, start `rq worker --burst`.
    Commits the caller's session first: the jobs' processes must see what it wrote, and on SQLite
    an open transaction would hold the write lock they need.
    """
    from app.services.jobs import local

    if has_app_context():
        db.session.commit()
    local.Dispatcher(app or current_app._get_current_object()).run_until_idle()
