"""Job rows: submitting, finding, claiming (atomically) and finishing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select, text, update

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import Job, JobStatus, User
from app.models.base import utcnow
from app.services import audit, storage
from app.services.jobs import registry

PER_PAGE = 20
MESSAGE_LENGTH = 200
# Claims take this PostgreSQL advisory lock, so that counting the running jobs and claiming one
# is a single step across processes (SQLite's BEGIN IMMEDIATE serialises them already).
CLAIM_LOCK = 0x52756E6773  # "Rungs"
# A job still marked running this long after its time limit lost its supervisor (a killed server).
STALE_GRACE = timedelta(seconds=60)
INTERRUPTED = "The job was interrupted (its worker stopped). Start it again."


def get(job_id: int) -> Job | None:
    return db.session.get(Job, job_id)


def get_for(viewer: User, job_id: int) -> Job:
    """A job its creator may see; anyone else gets NotFoundError (existence must not leak)."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFoundError("Not found.")
    policy.authorize(viewer, "job.view", job)
    return job


@dataclass(frozen=True)
class JobsPage:
    """The list of the viewer's jobs, what each kind on it is called and what each job is for
    (by id; none where its kind does not say or the viewer may no longer see it)."""

    page: Pagination
    labels: dict[str, str]
    abouts: dict[int, registry.About]


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING)


def cancel(actor: User, job_id: int) -> Job:
    """Cancel the actor's unfinished job in the caller's transaction: it never starts, or its
    process is stopped by its supervisor within CANCEL_CHECK_SECONDS; a job waiting for parts
    cancels the parts not yet finished (an export stops rendering packets). A finished job, or
    a part of another job (cancel that one), is refused."""
    job = get_for(actor, job_id)
    if job.status.is_finished:
        raise ValidationError(f"This job has already {_ended(job.status)}.")
    if job.kind in registry.unlisted():
        raise ValidationError("This is a part of another job: cancel that job instead.")
    ids = [job.id]
    if job.status is JobStatus.WAITING:
        waited = (job.params or {}).get(registry.WAITED_FOR) or []
        ids += [i for i in waited if isinstance(i, int)]
    db.session.execute(
        update(Job)
        .where(Job.id.in_(ids), Job.status.in_(UNFINISHED))
        .values(status=JobStatus.CANCELLED, message="Cancelled", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(job)
    audit.record(actor, "job.cancelled", job)
    return job


def _ended(status: JobStatus) -> str:
    return {JobStatus.DONE: "finished", JobStatus.FAILED: "failed"}.get(status, "been cancelled")


def is_cancelled(job_id: int) -> bool:
    """Whether the job was cancelled (read by its supervisor, outside any session)."""
    with db.engine.connect() as connection:
        status = connection.scalar(select(Job.status).where(Job.id == job_id))
    return status is JobStatus.CANCELLED


def unfinished_for(actor: User, kind: str, **params: Any) -> Job | None:
    """The actor's newest queued or running job of `kind` whose params hold these values: asking
    twice for the same file waits for the job already on its way instead of starting another."""
    waiting = db.session.scalars(
        select(Job)
        .where(
            Job.created_by_id == actor.id,
            Job.kind == kind,
            Job.status.in_(UNFINISHED),
        )
        .order_by(Job.id.desc())
    )
    return next(
        (job for job in waiting if all(job.params.get(k) == v for k, v in params.items())), None
    )


def jobs_page(viewer: User, page: int) -> JobsPage:
    found = recent(viewer, page)
    return JobsPage(
        found,
        {job.kind: registry.label(job.kind) for job in found.items},
        registry.abouts(viewer, found.items),
    )


@dataclass(frozen=True)
class JobPage:
    """One job's page: the job (its creator's only), what its kind is called and what this
    one is for (None: its kind does not say, or the viewer may no longer see it)."""

    job: Job
    label: str
    about: registry.About | None = None

    @property
    def may_cancel(self) -> bool:
        """Unfinished and not a part of another job (that one is cancelled instead)."""
        return not self.job.status.is_finished and self.job.kind not in registry.unlisted()


def job_page(viewer: User, job_id: int) -> JobPage:
    job = get_for(viewer, job_id)
    return JobPage(
        job, registry.label(job.kind), registry.about(viewer, job.kind, job.params or {})
    )


def recent(viewer: User, page: int) -> Pagination:
    """The viewer's jobs, newest first (not the parts of other jobs: an export's packets)."""
    return db.paginate(
        select(Job)
        .where(policy.where("job.view", viewer), Job.kind.not_in(registry.unlisted()))
        .order_by(Job.created_at.desc(), Job.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )


def file_for_download(viewer: User, job_id: int) -> tuple[Job, BinaryIO]:
    """The finished job's file, opened for reading, for its creator; the download is recorded
    in the audit log."""
    job = get_for(viewer, job_id)
    if job.status is not JobStatus.DONE or not job.result_path:
        raise NotFoundError("This job has no file to download yet.")
    try:
        file = storage.open(job.result_path)
    except (storage.MissingFileError, ValueError):
        raise NotFoundError(
            "The file this job made is no longer there. Start the job again."
        ) from None
    # The parameters say what the file is of (a packet job: the case and the view; its name
    # carries the data version), so the audit log tells who downloaded which packet.
    audit.record(
        viewer,
        "job.downloaded",
        job,
        after={"kind": job.kind, "name": job.result_name, "params": job.params},
    )
    return job, file


# --- claiming and finishing: short transactions of their own, from workers --------------------


def claim_next(limit: int, time_limit: int) -> tuple[int, str] | None:
    """Take the oldest queued job, unless `limit` jobs run already: (id, kind) or None. A job
    someone asked for goes before the parts of another job (the 300 packets of a cycle export
    would otherwise keep everyone else's packet waiting until the last of them).

    One transaction counts and claims; the UPDATE is conditional on the row still being queued,
    so two dispatchers (threads, processes, machines) never take the same job.
    """
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        _fail_stale(connection, time_limit)
        _settle_waiting(connection)  # in this transaction: on SQLite each one takes the lock
        running = connection.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.RUNNING)
        )
        if running >= limit:
            return None
        row = connection.execute(
            select(Job.id, Job.kind)
            .where(Job.status == JobStatus.QUEUED)
            .order_by(case((Job.kind.in_(registry.unlisted()), 1), else_=0), Job.created_at, Job.id)
            .limit(1)
        ).first()
        if row is None or not _take(connection, row.id):
            return None
        return row.id, row.kind


def claim(job_id: int) -> str | None:
    """Take one given job if it is still queued (RQ delivers ids): its kind, or None."""
    with db.engine.begin() as connection:
        kind = connection.scalar(select(Job.kind).where(Job.id == job_id))
        if kind is None or not _take(connection, job_id):
            return None
        return kind


def _take(connection, job_id: int) -> bool:
    taken = connection.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            started_at=utcnow(),
            # A job back from waiting for its parts keeps saying how far they got.
            message=case((Job.started_at.is_(None), "Starting"), else_=Job.message),
        )
    )
    return taken.rowcount == 1


def fail_stale(time_limit: int) -> int:
    """Fail every job still running past its time limit and STALE_GRACE: how many."""
    with db.engine.begin() as connection:
        return _fail_stale(connection, time_limit)


def _fail_stale(connection, time_limit: int) -> int:
    cutoff = utcnow() - timedelta(seconds=time_limit) - STALE_GRACE
    return connection.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, Job.started_at < cutoff)
        .values(
            status=JobStatus.FAILED,
            finished_at=utcnow(),
            message="Interrupted",
            error=INTERRUPTED,
        )
    ).rowcount


def has_queued() -> bool:
    with db.engine.connect() as connection:
        return (
            connection.scalar(select(Job.id).where(Job.status == JobStatus.QUEUED).limit(1))
            is not None
        )


def unfinished() -> tuple[list[Any], list[Any]]:
    """The running jobs (id, started_at) and the queued ones (id, kind, created_at), for sweeps."""
    with db.engine.connect() as connection:
        running = connection.execute(
            select(Job.id, Job.started_at).where(Job.status == JobStatus.RUNNING)
        ).all()
        queued = connection.execute(
            select(Job.id, Job.kind, Job.created_at)
            .where(Job.status == JobStatus.QUEUED)
            .order_by(Job.created_at, Job.id)
        ).all()
    return running, queued


def fail_if_unfinished(
    job_id: int,
    error: str,
    *,
    message: str = "Failed",
    only: tuple[JobStatus, ...] = (JobStatus.QUEUED, JobStatus.RUNNING),
) -> bool:
    """Mark a queued or running job failed (a supervisor's verdict); False if it had finished.

    `only` narrows the states it may be in (a sweep's verdict on a running job must not fail
    one that was queued again meanwhile)."""
    with db.engine.begin() as connection:
        failed = connection.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(only))
            .values(
                status=JobStatus.FAILED, finished_at=utcnow(), message=message, error=error[:2000]
            )
        )
        return failed.rowcount == 1


# --- jobs that wait for other jobs (registry.Waiting) ------------------------------------------

# A waiting job's progress: what it did before waiting, then this share counts its jobs.
WAITING_FROM, WAITING_SHARE = 5, 85


def parts(job_ids: list[int]) -> list[Job]:
    """The jobs a waiting job waited for, in the order of `job_ids` (a deleted one is left out)."""
    found = {job.id: job for job in db.session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    return [found[job_id] for job_id in job_ids if job_id in found]


def settle_waiting() -> list[tuple[int, str]]:
    """Count the finished parts of every waiting job into its progress, and queue again each one
    whose parts are all done or failed: their (id, kind), for the backend to hand to a worker.

    Called when a job ends (by its supervisor, or the local dispatcher's next claim) and by every
    sweep, so that a part that ended any way (failed by a sweep, killed) still moves its waiting
    job on. Safe in several processes at once: the conditional UPDATE queues a job once."""
    with db.engine.begin() as connection:
        return _settle_waiting(connection)


def _settle_waiting(connection) -> list[tuple[int, str]]:
    waiting = connection.execute(
        select(Job.id, Job.kind, Job.params).where(Job.status == JobStatus.WAITING)
    ).all()
    return [(row.id, row.kind) for row in waiting if _settle(connection, row.id, row.params or {})]


def _settle(connection, job_id: int, params: dict[str, Any]) -> bool:
    """Move one waiting job on; True when this call queued it again."""
    ids = [i for i in params.get(registry.WAITED_FOR) or [] if isinstance(i, int)]
    unit = params.get(registry.WAITING_UNIT) or "jobs"
    counts = dict(
        connection.execute(
            select(Job.status, func.count()).where(Job.id.in_(ids)).group_by(Job.status)
        ).all()
    )
    unfinished = sum(
        counts.get(s, 0) for s in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING)
    )
    failed = counts.get(JobStatus.FAILED, 0) + counts.get(JobStatus.CANCELLED, 0)
    finished = len(ids) - unfinished  # a part deleted since counts as finished
    message = waiting_message(finished, len(ids), unit, failed)
    percent = WAITING_FROM + WAITING_SHARE * finished // max(len(ids), 1)
    mine = (Job.id == job_id, Job.status == JobStatus.WAITING)
    if unfinished:
        # Parts end in any order, their supervisors in parallel: never move backwards.
        connection.execute(
            update(Job)
            .where(*mine, Job.progress <= percent)
            .values(progress=percent, message=message)
        )
        return False
    queued = connection.execute(
        update(Job).where(*mine).values(status=JobStatus.QUEUED, progress=percent, message=message)
    )
    return queued.rowcount == 1


def waiting_message(finished: int, total: int, unit: str, failed: int = 0) -> str:
    """'212 of 300 packets', and how many of them failed."""
    return f"{finished} of {total} {unit}" + (f" ({failed} failed)" if failed else "")


def wait(job_id: int, params: dict[str, Any], waiting: registry.Waiting) -> bool:
    """Mark the running job waiting for `waiting.jobs`, in the task's session (the caller
    commits: the same commit hands the parts to workers). False when it no longer runs (it was
    cancelled meanwhile): the caller must roll back, so that no part is handed out."""
    params = {
        **params,
        registry.WAITED_FOR: list(waiting.jobs),
        registry.WAITING_UNIT: waiting.unit,
    }
    marked = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.WAITING,
            params=params,
            progress=WAITING_FROM,
            message=waiting_message(0, len(waiting.jobs), waiting.unit),
        )
    )
    return marked.rowcount == 1


def clip(message: str) -> str:
    message = " ".join(str(message).split())
    return message if len(message) <= MESSAGE_LENGTH else message[: MESSAGE_LENGTH - 1] + "…"
