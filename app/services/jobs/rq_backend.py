"""The RQ backend (REDIS_URL set): jobs go through Redis to `rq worker` processes anywhere.

Submitting enqueues `perform(job_id)` on the queue JOB_QUEUE ("rungs"). An RQ worker started with
the app's environment (DATABASE_URL, RUNGS_DATA_DIR on shared storage, REDIS_URL, the RUNGS_JOB_*
limits) and from the app's folder imports this module, claims the job row (a conditional UPDATE:
a job delivered twice still runs once) and calls the same runner as the local backend, so the task
runs in a separate process with the memory limit and is killed at the time limit. RQ's own
job_timeout is set above that, only as a backstop. Each worker renders one job at a time: start as
many workers as renders may run at once (JOB_CONCURRENCY applies to the local backend).
"""

from __future__ import annotations

import logging

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from app.extensions import db
from app.services.jobs import registry, runner, store

log = logging.getLogger(__name__)

BACKSTOP_SECONDS = 60  # RQ kills its work horse this long after our own time limit
_APP: Flask | None = None


def connection(app: Flask) -> Redis:
    return Redis.from_url(app.config["REDIS_URL"])


def queue(app: Flask) -> Queue:
    return Queue(app.config["JOB_QUEUE"], connection=connection(app))


def enqueue(app: Flask, job_id: int, kind: str) -> None:
    """Hand one committed job to RQ; if Redis cannot be reached, the job fails with a reason.

    The task's module goes along, so that the worker (which builds no web app) can import it."""
    try:
        module = registry.task(kind).module
        queue(app).enqueue_call(
            "app.services.jobs.rq_backend.perform",
            args=(job_id, module),
            timeout=int(app.config["JOB_TIME_LIMIT"]) + BACKSTOP_SECONDS,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"Rungs job {job_id}",
        )
    except RedisError:
        log.exception("could not enqueue job %s", job_id)
        with app.app_context():
            store.fail_if_unfinished(
                job_id,
                "The job queue (Redis) could not be reached, so the job was not started. "
                "Try again in a moment.",
            )


def use_app(app: Flask | None) -> None:
    """Run RQ jobs of this process with `app` (the `flask jobs worker` command, tests)."""
    global _APP
    _APP = app


def _app() -> Flask:
    global _APP
    if _APP is None:
        _APP = supervisor_app()
    return _APP


def supervisor_app() -> Flask:
    """What a work horse needs to claim and watch a job: the settings (from the worker's
    environment, as the web app's) and the database. The task's own process builds the whole
    app with create_app; building it here too would add seconds to every job."""
    import config as rungs_config
    from app.database import configure_engine

    app = Flask(__name__)
    app.config.from_mapping(rungs_config.load())
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    return app


def perform(job_id: int, module: str) -> str:
    """The RQ job: claim the row and run it through the runner (in a limited child process)."""
    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked work horse must not share the parent's sockets
        kind = store.claim(job_id)
    if kind is None:
        return f"job {job_id} was not queued any more; nothing to do"
    runner.supervise(app, job_id, kind, module)
    return f"job {job_id} ran"
