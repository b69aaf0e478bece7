"""The RQ backend (REDIS_URL set): jobs go through Redis to `rq worker` processes anywhere.

Submitting enqueues `perform(job_id)` on the queue JOB_QUEUE ("rungs"). An RQ worker started with
the app's environment (DATABASE_URL, RUNGS_FILE_STORAGE=database or RUNGS_DATA_DIR on shared
storage, REDIS_URL, the RUNGS_JOB_* limits) and from the app's folder imports this module, claims
the job row (a conditional UPDATE: a job delivered twice still runs once) and calls the same
runner as the local backend, so the task runs in a separate process with the memory limit and is
killed at the time limit. RQ's own job_timeout is set above that, only as a backstop. Each worker
renders one job at a time: start as many workers as renders may run at once (JOB_CONCURRENCY
applies to the local backend).

Faults RQ does not handle for us, handled by `sweep`:
- A worker whose work horse (and the render under it) is killed (SIGKILL, a machine gone) leaves
  the row "running": RQ itself marks nothing. While it watches a render, the work horse renews a
  heartbeat key in Redis every JOB_HEARTBEAT_SECONDS that lives three times that; a running job
  without one is failed with a reason (and any running job past its time limit, as locally).
- Redis restarting empty (or evicting keys) loses queued jobs silently. Each RQ job has the id
  `<queue>-job-<row id>`, so a queued row can be looked up: one that Redis no longer holds
  (queue, the worker's intermediate list, started registry) ENQUEUE_GRACE after it was created
  is enqueued again when it was created within JOB_REQUEUE_MAX_AGE, else failed with a reason.
  A job delivered twice still runs once (the claim), so re-enqueueing one is always safe.
- A job waiting for its parts (registry.Waiting) is enqueued again by the supervisor of the part
  that ended last; should that process die first, the next sweep does it.
The sweep runs when a worker starts and between its jobs (SweepingWorker, `flask jobs worker`),
when a job starts and after jobs are enqueued (at most every SWEEP_EVERY seconds, one process at
a time), and from `flask jobs sweep` (cron). Never from a GET: pages only read.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from app.extensions import db
from app.models import JobStatus
from app.models.base import utcnow
from app.services.jobs import registry, runner, store

log = logging.getLogger(__name__)

BACKSTOP_SECONDS = 60  # RQ kills its work horse this long after our own time limit
# A queued row younger than this may be on its way to Redis (committed, not yet enqueued).
ENQUEUE_GRACE = timedelta(seconds=10)
SWEEP_EVERY = 10  # seconds: automatic sweeps (not `flask jobs sweep`) run at most this often
BEATS_MISSED = 3  # a job is silent when its heartbeat key outlived this many periods
SILENT = (
    "The worker running this job stopped without finishing it: no sign of life from it for "
    "{seconds} seconds (its process was killed or its machine went down). Start the job again."
)
LOST = (
    "The job was lost from the job queue (Redis restarted or was emptied) before a worker took "
    "it, and it was queued too long ago ({age}) to start it again unasked. Start it again if "
    "you still need it."
)
_APP: Flask | None = None


def connection(app: Flask) -> Redis:
    return Redis.from_url(app.config["REDIS_URL"])


def queue(app: Flask) -> Queue:
    return Queue(app.config["JOB_QUEUE"], connection=connection(app))


def rq_id(app: Flask, job_id: int) -> str:
    """The RQ job id of a job row: found again from the row (the queue name keeps databases
    that share one Redis apart)."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', app.config['JOB_QUEUE'])}-job-{job_id}"


def heartbeat_key(app: Flask, job_id: int) -> str:
    return f"rungs:heartbeat:{rq_id(app, job_id)}"


def silent_after(app: Flask) -> int:
    """Seconds without a heartbeat after which a running job's worker is taken for dead."""
    return BEATS_MISSED * int(app.config["JOB_HEARTBEAT_SECONDS"])


def enqueue(app: Flask, job_id: int, kind: str) -> None:
    """Hand one committed job to RQ; if Redis cannot be reached, the job fails with a reason.

    The task's module goes along, so that the worker (which builds no web app) can import it;
    a kind this process does not know (a sweep in a work horse) is found by the job's process.
    A job someone asked for goes to the front of the queue, ahead of the parts of another job
    (an export's packets), so that it waits for one part at most, not for all of them; behind
    a long export, two such jobs run newest first."""
    known = registry.TASKS.get(kind)
    try:
        queue(app).enqueue_call(
            "app.services.jobs.rq_backend.perform",
            args=(job_id, known.module if known else None),
            job_id=rq_id(app, job_id),
            timeout=int(app.config["JOB_TIME_LIMIT"]) + BACKSTOP_SECONDS,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"Rungs job {job_id}",
            at_front=known is not None and known.listed,
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


def perform(job_id: int, module: str | None) -> str:
    """The RQ job: claim the row and run it through the runner (in a limited child process),
    renewing its heartbeat while it runs."""
    app = _app()
    with app.app_context():
        db.engine.dispose(close=False)  # a forked work horse must not share the parent's sockets
        kind = store.claim(job_id)
    if kind is None:
        return f"job {job_id} was not queued any more; nothing to do"
    beat = Heartbeat(app, job_id)
    beat()  # before the sweep, which must not take this job for a silent one
    try:
        sweep(app)
    except Exception:  # the sweep is a courtesy to other jobs; this one runs regardless
        log.exception("the job sweep failed")
    try:
        runner.supervise(app, job_id, kind, module, heartbeat=beat)
    finally:
        beat.stop()
        try:  # this job may have been the last part another one waited for
            settle(app)
        except Exception:
            log.exception("settling the waiting jobs failed")
    return f"job {job_id} ran"


def settle(app: Flask) -> int:
    """Enqueue again the waiting jobs whose parts all ended (store.settle_waiting): how many."""
    with app.app_context():
        ready = store.settle_waiting()
    for job_id, kind in ready:
        enqueue(app, job_id, kind)
    return len(ready)


class Heartbeat:
    """Renews a running job's heartbeat key; a Redis hiccup must not stop the render."""

    def __init__(self, app: Flask, job_id: int):
        self.key = heartbeat_key(app, job_id)
        self.ttl = silent_after(app)
        # A hung Redis must not hold up the supervisor, which enforces the time limit.
        period = int(app.config["JOB_HEARTBEAT_SECONDS"])
        self.redis = Redis.from_url(app.config["REDIS_URL"], socket_timeout=period)

    def __call__(self) -> None:
        try:
            self.redis.set(self.key, int(time.time()), ex=self.ttl)
        except RedisError as error:
            log.warning("could not renew %s: %s", self.key, error)

    def stop(self) -> None:
        with contextlib.suppress(RedisError):  # else it expires on its own
            self.redis.delete(self.key)


@dataclass
class Swept:
    """What one sweep did: jobs failed past their time limit, failed for a silent worker,
    enqueued again after Redis lost them, failed as lost."""

    overdue: int = 0
    silent: int = 0
    requeued: int = 0
    lost: int = 0
    resumed: int = 0  # waiting jobs whose parts all ended, enqueued again


def sweep(app: Flask, *, force: bool = False) -> Swept | None:
    """Fail the jobs whose worker is gone and recover the queued jobs Redis lost.

    None when another sweep ran less than SWEEP_EVERY seconds ago (unless `force`). Without
    Redis, only the time limit is checked: neither heartbeats nor the queue can be judged."""
    redis = connection(app)
    try:
        lock = f"rungs:sweep:{app.config['JOB_QUEUE']}"
        if not force and not redis.set(lock, 1, nx=True, ex=SWEEP_EVERY):
            return None
    except RedisError as error:
        log.warning("the job sweep cannot reach Redis, so it checks only time limits: %s", error)
        redis = None
    with app.app_context():
        swept = Swept(overdue=store.fail_stale(int(app.config["JOB_TIME_LIMIT"])))
        if redis is not None:
            try:
                running, queued = store.unfinished()
                swept.silent = _fail_silent(app, redis, running)
                swept.requeued, swept.lost = _recover_lost(app, redis, queued)
            except RedisError as error:
                log.warning("the job sweep lost Redis half-way: %s", error)
    # After failing the dead: a part failed just now moves its waiting job on.
    swept.resumed = settle(app)
    if swept != Swept():
        log.warning("job sweep: %s", swept)
    return swept


def _fail_silent(app: Flask, redis: Redis, running: list) -> int:
    """Fail the running jobs without a heartbeat (their work horse is gone)."""
    seconds = silent_after(app)
    # Redis restarted within the window: heartbeats are being renewed again; judge none yet.
    if int(redis.info("server")["uptime_in_seconds"]) <= seconds:
        return 0
    cutoff = utcnow() - timedelta(seconds=seconds)
    suspects = [row.id for row in running if row.started_at and row.started_at < cutoff]
    if not suspects:
        return 0
    alive = redis.exists  # one round trip per job; running jobs are few (one per worker)
    reason = SILENT.format(seconds=seconds)
    return sum(
        store.fail_if_unfinished(job_id, reason, message="Interrupted", only=(JobStatus.RUNNING,))
        for job_id in suspects
        if not alive(heartbeat_key(app, job_id))
    )


def _recover_lost(app: Flask, redis: Redis, queued: list) -> tuple[int, int]:
    """Enqueue again (or fail, when too old) the queued jobs Redis no longer holds."""
    now = utcnow()
    waiting = [row for row in queued if row.created_at < now - ENQUEUE_GRACE]
    if not waiting:
        return 0, 0
    held = _held(queue(app))
    max_age = timedelta(seconds=int(app.config["JOB_REQUEUE_MAX_AGE"]))
    requeued = lost = 0
    for row in waiting:
        if rq_id(app, row.id) in held:
            continue
        age = now - row.created_at
        if age <= max_age:
            log.warning("job %s was lost from Redis; enqueueing it again", row.id)
            enqueue(app, row.id, row.kind)
            requeued += 1
        elif store.fail_if_unfinished(
            row.id, LOST.format(age=_ago(age)), message="Lost", only=(JobStatus.QUEUED,)
        ):
            lost += 1
    return requeued, lost


def _held(rq_queue: Queue) -> set[str]:
    """The ids of the jobs Redis still has on their way to or in a worker."""
    return {
        *rq_queue.get_job_ids(),
        *rq_queue.intermediate_queue.get_job_ids(),  # taken by a worker, not yet started
        *rq_queue.started_job_registry.get_job_ids(cleanup=False),
    }


def _ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes ago"
    hours = minutes // 60
    return f"{hours} hours ago" if hours < 48 else f"{hours // 24} days ago"


class SweepingWorker(Worker):
    """An RQ worker that also sweeps (see `sweep`) when it starts and between jobs.

    `rq worker -w app.services.jobs.rq_backend.SweepingWorker` or `flask jobs worker`."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            sweep(_app())
        except Exception:
            log.exception("the job sweep failed")
