"""Which backend runs a committed job: RQ when REDIS_URL is set, else the local dispatcher."""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)


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
            "to start again failed."
        )
    from app.services.jobs import store

    overdue = store.fail_stale(int(app.config["JOB_TIME_LIMIT"]))
    return f"{overdue} past the time limit failed."


def run_pending(app: Flask | None = None) -> None:
    """Run every queued job now, in child processes, and return when they are finished.

    Local backend only (tests, `flask jobs worker --burst`); with Redis, start `rq worker --burst`.
    Commits the caller's session first: the jobs' processes must see what it wrote, and on SQLite
    an open transaction would hold the write lock they need.
    """
    from app.extensions import db
    from app.services.jobs import local

    if has_app_context():
        db.session.commit()
    local.Dispatcher(app or current_app._get_current_object()).run_until_idle()
