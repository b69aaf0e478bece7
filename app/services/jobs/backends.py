"""Which backend runs a committed job: RQ when REDIS_URL is set, else the local dispatcher."""

from __future__ import annotations

from flask import Flask, current_app, has_app_context


def uses_redis(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def dispatch(app: Flask, pending: list[tuple[int, str]]) -> None:
    """Called after the commit that wrote the job rows."""
    if uses_redis(app):
        from app.services.jobs import rq_backend

        for job_id, kind in pending:
            rq_backend.enqueue(app, job_id, kind)
    elif app.config.get("JOB_LOCAL_DISPATCH"):
        ensure_dispatching(app)


def ensure_dispatching(app: Flask | None = None) -> None:
    """Make sure queued jobs get picked up (the local backend; RQ workers need no nudge)."""
    app = app or current_app._get_current_object()
    if uses_redis(app) or not app.config.get("JOB_LOCAL_DISPATCH"):
        return
    from app.services.jobs import local

    local.dispatcher(app).wake()


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
