"""Background jobs: run in separate processes with time and memory limits, N at once, once each."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import AuditEvent, Job, JobStatus, User
from app.models.base import utcnow
from app.services import jobs
from app.services.jobs import runner, store

MB = 1024 * 1024


# --- tasks for the tests (module level: the job's process imports this module to find them) ---


@jobs.register("test_write", label="Test file")
def write_file(params: dict, progress: jobs.Progress) -> jobs.Result:
    """Write a small file; log when this run started and ended (for the concurrency tests)."""
    started = time.time()
    progress(10, "Starting")
    if params.get("wait_for"):  # report progress, then wait until the test has seen it
        progress(40, "Halfway there")
        deadline = time.monotonic() + 30
        while not os.path.exists(params["wait_for"]) and time.monotonic() < deadline:
            time.sleep(0.05)
    time.sleep(params.get("sleep", 0))
    path, relative = jobs.output_file(".txt")
    path.write_text(json.dumps({"pid": os.getpid(), "text": params.get("text", "")}))
    progress(90, "Written")
    if params.get("log"):
        line = json.dumps({"n": params.get("n"), "start": started, "end": time.time()})
        with open(params["log"], "a", encoding="utf-8") as log:
            log.write(line + "\n")
    return jobs.Result(relative, params.get("name", "result.txt"))


@jobs.register("test_part", label="Test part", listed=False)
def write_part(params: dict, progress: jobs.Progress) -> jobs.Result:
    """A part of another job (as an export's packets are): kept off the lists."""
    return write_file(params, progress)


@jobs.register("test_split", label="Test split")
def split(params: dict, progress: jobs.Progress) -> jobs.Result | jobs.Waiting:
    """Submit two parts and wait for them (as a cycle export does)."""
    actor = db.session.get(User, params["actor_id"])
    parts = [jobs.submit(actor, "test_part", {"n": n}).id for n in range(2)]
    return jobs.Waiting(parts, unit="parts")


@jobs.register("test_records", label="Test record")
def record_something(params: dict, progress: jobs.Progress) -> jobs.Result:
    """Wait for the test's signal, then put a row on record and report progress (as a packet
    job stores its packet): the row is kept only with the progress."""
    from app.services import audit

    progress(10, "Waiting")
    deadline = time.monotonic() + 30
    while not os.path.exists(params["go_on"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    actor = db.session.get(User, params["actor_id"])
    audit.record(actor, "test.recorded", actor)
    progress(90, "Recorded")
    return write_file(params, progress)


@jobs.register("test_sleep", label="Test sleeper")
def sleep_forever(params: dict, progress: jobs.Progress) -> jobs.Result:
    progress(5, "Sleeping")
    time.sleep(600)
    raise AssertionError("not killed")


@jobs.register("test_allocate", label="Test allocation")
def allocate(params: dict, progress: jobs.Progress) -> jobs.Result:
    progress(5, "Allocating")
    hog = bytearray(params["mb"] * MB)
    raise AssertionError(f"allocated {len(hog)} bytes")


@jobs.register("test_refuse", label="Test refusal")
def refuse(params: dict, progress: jobs.Progress) -> jobs.Result:
    raise ValidationError("The case was withdrawn, so there is no packet to make.")


@jobs.register("test_crash", label="Test crash")
def crash(params: dict, progress: jobs.Progress) -> jobs.Result:
    os._exit(7)


@jobs.register("test_escape", label="Test escape")
def escape(params: dict, progress: jobs.Progress) -> jobs.Result:
    return jobs.Result("../../etc/passwd", "passwd")


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def person(make):
    return make.person(name="Jo Jobs")


def submit(person, kind: str, **params) -> int:
    """Submit and commit a job as `person`; its id."""
    job_id = jobs.submit(db.session.get(User, person.id), kind, params).id
    db.session.commit()
    return job_id


def reload(job_id: int) -> Job:
    """The job as stored, detached; no transaction is left open (on SQLite it would hold the
    write lock that the job's process needs)."""
    db.session.rollback()
    job = db.session.get(Job, job_id, populate_existing=True)
    db.session.expunge(job)
    db.session.rollback()
    return job


def read_result(app, job: Job) -> dict:
    return json.loads((Path(app.config["RUNGS_DATA_DIR"]) / job.result_path).read_text())


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- tests ------------------------------------------------------------------------------------


def test_a_job_runs_in_another_process_shows_progress_and_leaves_its_file(
    app, ctx, person, tmp_path
):
    go_on = tmp_path / "go-on"
    job_id = submit(person, "test_write", text="hello", name="Hello.txt", wait_for=str(go_on))
    assert (reload(job_id).status, reload(job_id).message) == (
        JobStatus.QUEUED,
        "Waiting for a worker",
    )

    runner = threading.Thread(target=jobs.run_pending, args=(app,))
    runner.start()
    try:
        seen = wait_for(job_id, lambda job: job.progress == 40)
        assert (seen.status, seen.message) == (JobStatus.RUNNING, "Halfway there")
        assert seen.started_at is not None and seen.finished_at is None
    finally:
        go_on.touch()
        runner.join(60)
    assert not runner.is_alive()

    job = reload(job_id)
    assert job.status is JobStatus.DONE, job.error
    assert (job.progress, job.message, job.error) == (100, "Ready", "")
    assert job.result_name == "Hello.txt"
    assert job.started_at <= job.finished_at
    written = read_result(app, job)
    assert written["text"] == "hello"
    assert written["pid"] != os.getpid()


def wait_for(job_id: int, condition, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        job = reload(job_id)
        if condition(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id}: {job.status} {job.progress}"
        time.sleep(0.2)


def test_a_job_over_the_time_limit_is_killed_and_failed(app, ctx, person, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_TIME_LIMIT", 3)
    job_id = submit(person, "test_sleep")
    started = time.monotonic()

    jobs.run_pending(app)

    assert time.monotonic() - started < 10
    job = reload(job_id)
    assert (job.status, job.message) == (JobStatus.FAILED, "Timed out")
    assert job.error.startswith("The job was stopped after 3 seconds, the time limit for a job.")
    assert "RUNGS_JOB_TIME_LIMIT" in job.error


def test_failures_are_recorded_with_a_reason_the_person_can_read(app, ctx, person, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_MEMORY_LIMIT_MB", 300)
    monkeypatch.setitem(app.config, "JOB_CONCURRENCY", 4)
    memory = submit(person, "test_allocate", mb=600)
    refused = submit(person, "test_refuse")
    crashed = submit(person, "test_crash")
    escaped = submit(person, "test_escape")

    jobs.run_pending(app)

    outcomes = {job_id: reload(job_id) for job_id in (memory, refused, crashed, escaped)}
    assert all(job.status is JobStatus.FAILED for job in outcomes.values())
    assert all(job.result_path is None for job in outcomes.values())
    assert outcomes[memory].message == "Out of memory"
    assert outcomes[memory].error.startswith(
        "The job ran out of memory (the limit is 300 MB per job) and was stopped."
    )
    assert outcomes[refused].error == "The case was withdrawn, so there is no packet to make."
    assert outcomes[crashed].error == "The job's process stopped unexpectedly (exit code 7)."
    assert outcomes[escaped].error == (
        "The job failed unexpectedly (ValueError). The error was logged."
    )


def test_at_most_n_jobs_run_at_once_across_dispatchers_and_each_runs_once(
    app, ctx, person, monkeypatch, tmp_path, make_app
):
    monkeypatch.setitem(app.config, "JOB_CONCURRENCY", 2)
    other = make_app(RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"], JOB_CONCURRENCY=2)
    log = tmp_path / "runs.jsonl"
    ids = [submit(person, "test_write", n=n, sleep=0.3, log=str(log)) for n in range(4)]
    db.session.commit()

    dispatchers = [threading.Thread(target=jobs.run_pending, args=(a,)) for a in (app, other)]
    for dispatcher in dispatchers:
        dispatcher.start()
    for dispatcher in dispatchers:
        dispatcher.join(120)

    assert all(reload(job_id).status is JobStatus.DONE for job_id in ids)
    runs = log_lines(log)
    assert sorted(run["n"] for run in runs) == list(range(4))  # each job ran exactly once
    assert max_overlap(runs) <= 2


def max_overlap(runs: list[dict]) -> int:
    """The most runs that were going on at the same moment."""
    events = sorted([(r["start"], 1) for r in runs] + [(r["end"], -1) for r in runs])
    most = current = 0
    for _moment, change in events:
        current += change
        most = max(most, current)
    return most


def test_claims_never_hand_out_a_job_twice_nor_more_than_the_limit(app, ctx, person):
    ids = [submit(person, "test_write", n=n) for n in range(30)]
    taken: list[int] = []

    def claim_all(limit: int) -> None:
        with app.app_context():
            while (claimed := store.claim_next(limit, 120)) is not None:
                taken.append(claimed[0])

    def race(limit: int) -> None:
        threads = [threading.Thread(target=claim_all, args=(limit,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    race(limit=7)
    assert len(taken) == 7 and len(set(taken)) == 7
    race(limit=100)
    assert sorted(taken) == sorted(ids)
    statuses = db.session.scalars(select(Job.status).where(Job.id.in_(ids))).all()
    assert set(statuses) == {JobStatus.RUNNING}
    db.session.rollback()
    assert store.claim(ids[0]) is None  # a job delivered again (RQ) is not taken twice


def test_a_job_someone_asked_for_is_claimed_before_the_parts_of_another(app, ctx, person, make):
    """A cycle export queues a part per packet: a manager's one packet asked for afterwards must
    not wait behind all of them. Among themselves, each kind goes oldest first."""
    parts = [submit(person, "test_part", n=n) for n in range(3)]
    other = make.person(name="Mo Later")
    asked = [submit(person, "test_write"), submit(other, "test_write")]

    claimed = [store.claim_next(10, 120) for _ in range(6)]

    assert claimed == [
        *((job_id, "test_write") for job_id in asked),
        *((job_id, "test_part") for job_id in parts),
        None,
    ]


# --- cancelling ---------------------------------------------------------------------------------


def test_a_queued_job_cancelled_never_starts(app, ctx, person, make):
    job_id = submit(person, "test_write")
    with pytest.raises(NotFoundError):  # someone else's job is not found, let alone cancelled
        store.cancel(make.person(name="Not Theirs"), job_id)

    store.cancel(db.session.get(User, person.id), job_id)
    db.session.commit()

    assert store.claim_next(10, 120) is None and store.claim(job_id) is None
    job = reload(job_id)
    assert (job.status, job.message, job.status.label) == (
        JobStatus.CANCELLED,
        "Cancelled",
        "Cancelled",
    )
    assert job.status.is_finished and job.finished_at is not None
    assert (
        db.session.scalar(
            select(AuditEvent.actor_id).where(
                AuditEvent.action == "job.cancelled", AuditEvent.entity_id == job_id
            )
        )
        == person.id
    )
    with pytest.raises(ValidationError, match=r"This job has already been cancelled\."):
        store.cancel(db.session.get(User, person.id), job_id)


def test_a_finished_job_or_a_part_cannot_be_cancelled(app, ctx, person):
    done, part = submit(person, "test_write"), submit(person, "test_part")
    jobs.run_pending(app)
    me = db.session.get(User, person.id)
    with pytest.raises(ValidationError, match=r"This job has already finished\."):
        store.cancel(me, done)
    with pytest.raises(ValidationError, match="a part of another job: cancel that job instead"):
        store.cancel(me, submit(person, "test_part"))
    assert reload(done).status is JobStatus.DONE and reload(part).status is JobStatus.DONE


def test_a_running_job_cancelled_has_its_process_stopped(app, ctx, person, tmp_path):
    never = tmp_path / "never"  # the task would wait 30 s for it
    job_id = submit(person, "test_write", wait_for=str(never))
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        wait_for(job_id, lambda job: job.progress == 40)
        store.cancel(db.session.get(User, person.id), job_id)
        db.session.commit()
        stopped = time.monotonic()
        worker.join(20)  # the supervisor looks every CANCEL_CHECK_SECONDS
        assert not worker.is_alive()
        assert time.monotonic() - stopped < 15  # not the task's 30 s wait
    finally:
        never.touch()
        worker.join(60)
    job = reload(job_id)
    assert (job.status, job.message, job.result_path) == (JobStatus.CANCELLED, "Cancelled", None)


def run_here(app, job_id: int, kind: str) -> None:
    """The claimed job's task, run in this process as its child would run it."""
    runner.run_child(app, {"job_id": job_id, "kind": kind, "module": None, "memory_mb": 0})


def test_what_a_job_did_since_its_last_progress_is_not_kept_once_cancelled(
    app, ctx, person, tmp_path, monkeypatch
):
    """The person cancels while a packet renders; the render ends before the supervisor stops
    the process: the packet must not be put on record (QA saw one kept)."""
    monkeypatch.setattr(runner, "CANCEL_CHECK_SECONDS", 60.0)  # the process outlives the cancel
    go_on = tmp_path / "go-on"
    job_id = submit(person, "test_records", actor_id=person.id, go_on=str(go_on))
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        wait_for(job_id, lambda job: job.progress == 10)
        store.cancel(db.session.get(User, person.id), job_id)
        db.session.commit()
    finally:
        go_on.touch()
        worker.join(60)
    assert not worker.is_alive()

    job = reload(job_id)
    assert (job.status, job.progress, job.result_path) == (JobStatus.CANCELLED, 10, None)
    recorded = select(AuditEvent.id).where(AuditEvent.action == "test.recorded")
    assert db.session.scalars(recorded).all() == []
    db.session.rollback()


def test_cancelling_a_waiting_job_cancels_its_unfinished_parts(app, ctx, person):
    me = db.session.get(User, person.id)
    export = submit(person, "test_split", actor_id=person.id)
    assert store.claim_next(10, 120) == (export, "test_split")
    run_here(app, export, "test_split")
    first, second = reload(export).params[jobs.WAITED_FOR]
    assert reload(export).status is JobStatus.WAITING
    assert store.claim(first) == "test_part"  # one part runs, the other is still queued

    store.cancel(me, export)
    db.session.commit()

    assert [reload(i).status for i in (export, first, second)] == [JobStatus.CANCELLED] * 3
    assert store.settle_waiting() == [] and store.claim_next(10, 120) is None


def test_a_job_cancelled_while_it_submits_its_parts_hands_none_out(app, ctx, person):
    """The person cancels while the task runs: when it ends by waiting for the parts it
    submitted, none of them is kept (nothing would ever collect them)."""
    export = submit(person, "test_split", actor_id=person.id)
    assert store.claim(export) == "test_split"
    store.cancel(db.session.get(User, person.id), export)
    db.session.commit()

    run_here(app, export, "test_split")

    assert reload(export).status is JobStatus.CANCELLED
    assert db.session.scalars(select(Job.id).where(Job.kind == "test_part")).all() == []
    db.session.rollback()


def test_a_job_whose_worker_died_is_failed_instead_of_blocking_the_queue(app, ctx, person):
    stuck, waiting = submit(person, "test_write"), submit(person, "test_write")
    assert store.claim_next(1, 120) == (stuck, "test_write")
    assert store.claim_next(1, 120) is None  # the one slot is taken
    db.session.get(Job, stuck).started_at = utcnow() - timedelta(seconds=120 + 61)
    db.session.commit()

    assert store.claim_next(1, 120) == (waiting, "test_write")
    job = reload(stuck)
    assert (job.status, job.message) == (JobStatus.FAILED, "Interrupted")
    assert job.error == "The job was interrupted (its worker stopped). Start it again."


def test_flask_jobs_sweep_fails_jobs_running_past_their_time_limit(app, ctx, person):
    stuck, busy = submit(person, "test_write"), submit(person, "test_write")
    assert store.claim(stuck) and store.claim(busy)
    db.session.get(Job, stuck).started_at = utcnow() - timedelta(seconds=120 + 61)
    db.session.get(Job, busy).started_at = utcnow() - timedelta(seconds=120 + 59)
    db.session.commit()

    done = app.test_cli_runner().invoke(args=["jobs", "sweep"])

    assert (done.exit_code, done.output) == (
        0,
        "1 past the time limit failed; 0 waiting for finished parts queued again.\n",
    )
    job = reload(stuck)
    assert (job.status, job.message, job.error) == (
        JobStatus.FAILED,
        "Interrupted",
        "The job was interrupted (its worker stopped). Start it again.",
    )
    assert reload(busy).status is JobStatus.RUNNING  # within its grace: it may still finish


def test_only_the_creator_sees_and_downloads_a_job(app, ctx, person, make):
    other = db.session.get(User, make.person().id)
    owner = db.session.get(User, person.id)
    job_id = finished_job(app, owner)

    assert jobs.get_for(owner, job_id).id == job_id
    for action in (jobs.get_for, jobs.file_for_download):
        with pytest.raises(NotFoundError):
            action(other, job_id)
    with pytest.raises(NotFoundError):
        jobs.get_for(owner, job_id + 1)

    _job, file = jobs.file_for_download(owner, job_id)
    db.session.commit()
    with file:
        assert file.read() == b"the file"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.downloaded"))
    [event] = events.all()
    assert (event.actor_id, event.entity_type, event.entity_id) == (owner.id, "jobs", job_id)
    assert event.after == {"kind": "test_write", "name": "Report.txt", "params": {}}


def finished_job(app, owner: User, **values) -> int:
    """A done job with a file, written straight to the database (no process)."""
    path, relative = jobs.output_file(".txt")
    path.write_text("the file")
    job = Job(
        kind="test_write",
        params={},
        status=JobStatus.DONE,
        progress=100,
        message="Ready",
        result_path=relative,
        result_name="Report.txt",
        created_by_id=owner.id,
        created_at=utcnow(),
        **values,
    )
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    db.session.commit()
    return job_id


def test_a_job_without_its_file_cannot_be_downloaded(app, ctx, person):
    owner = db.session.get(User, person.id)
    queued = submit(person, "test_write")
    with pytest.raises(NotFoundError, match="no file to download yet"):
        jobs.file_for_download(owner, queued)
    gone = finished_job(app, owner)
    jobs.result_file(reload(gone).result_path).unlink()
    with pytest.raises(NotFoundError, match="no longer there"):
        jobs.file_for_download(owner, gone)


def test_results_must_stay_inside_the_data_directory(app, ctx):
    for outside in ("../secret.txt", "/etc/passwd", "jobs/../../x", "", "."):
        with pytest.raises(ValueError, match="inside RUNGS_DATA_DIR"):
            jobs.result_file(outside)


def test_submitting_checks_the_kind_and_the_parameters(app, ctx, person):
    owner = db.session.get(User, person.id)
    with pytest.raises(LookupError, match="no job task is registered for kind 'nope'"):
        jobs.submit(owner, "nope", {})
    with pytest.raises(ValueError, match="job parameters must be JSON"):
        jobs.submit(owner, "test_write", {"when": object()})


def test_a_job_is_handed_to_the_dispatcher_only_after_its_commit(app, ctx, person, monkeypatch):
    handed: list[list] = []
    monkeypatch.setattr(
        "app.services.jobs.backends.dispatch", lambda _app, pending: handed.append(pending)
    )
    owner = db.session.get(User, person.id)
    rolled_back = jobs.submit(owner, "test_write", {}).id
    db.session.rollback()
    assert handed == []
    kept = jobs.submit(owner, "test_write", {}).id
    assert handed == []
    db.session.commit()
    assert handed == [[(kept, "test_write")]]
    assert kept != rolled_back or db.session.get(Job, rolled_back) is not None
