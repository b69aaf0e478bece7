"""Jobs through RQ (REDIS_URL set): a real `rq worker` process renders them, with the same limits.

Needs Redis on 127.0.0.1:6379 (.ci/run starts it). Each run uses database 9 and a queue of its
own, so that runs in parallel (SQLite and PostgreSQL suites) never take each other's jobs.
The fault tests start a redis-server of their own on a free port (restarted empty, or left
alone while they SIGKILL a worker, its work horse and the render).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import redirect, request, url_for
from flask_login import current_user
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import update

from app import access
from app.extensions import db
from app.models import Job, JobStatus, User
from app.models.base import utcnow
from app.services import jobs
from app.services.jobs import rq_backend, store
from app.services.packets import jobs as packet_jobs
from tests import promotion_helpers
from tests.factories import sign_in
from tests.services.test_jobs import sleep_forever, write_file, write_part

assert write_file and sleep_forever and write_part  # registers the test kinds in this process

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def redis_queue():
    """A fresh queue on the test Redis; the test fails (not skips) when Redis is not running."""
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisError as error:
        pytest.fail(
            f"Redis is not running on 127.0.0.1:6379 ({error}). The RQ tests need it: "
            "start it with `redis-server --daemonize yes` (.ci/run starts it in CI)."
        )
    queue = Queue(f"rungs-test-{os.getpid()}-{secrets.token_hex(4)}", connection=connection)
    yield queue
    registries = (queue.finished_job_registry, queue.failed_job_registry)
    for rq_job_id in [i for registry in registries for i in registry.get_job_ids()]:
        connection.delete(f"rq:job:{rq_job_id}", f"rq:results:{rq_job_id}")
    connection.delete(*(registry.key for registry in registries))
    queue.delete(delete_jobs=True)
    connection.close()


@pytest.fixture
def rq_app(app, make_app, redis_queue):
    """The app with REDIS_URL set, sending jobs to the test queue; with a page that starts one."""
    web = make_app(
        RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"], REDIS_URL=REDIS_URL, JOB_QUEUE=redis_queue.name
    )

    @web.post("/test-jobs/start")
    @access.requires("home.view")
    def start_test_job():
        params = {"text": request.form["text"], "log": request.form["log"], "n": 1}
        job = jobs.submit(current_user._get_current_object(), "test_write", params)
        job_id = job.id
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job_id))

    return web


def run_worker(app, queue: Queue, **environ: str) -> subprocess.CompletedProcess:
    """`rq worker --burst` in a process of its own, with the app's settings in its environment,
    as an operator would start one on another machine."""
    env = {
        **os.environ,
        "RUNGS_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RUNGS_DATA_DIR": app.config["RUNGS_DATA_DIR"],
        "REDIS_URL": REDIS_URL,
        **environ,
    }
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", REDIS_URL, queue.name]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def stored(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def test_a_job_goes_through_redis_to_an_rq_worker_process(rq_app, redis_queue, make, tmp_path):
    owner = make.person(name="Rae Queue")
    client = rq_app.test_client()
    sign_in(client, owner)
    log = tmp_path / "runs.jsonl"

    # The request only queues: the job is still waiting once it has answered (no wall-clock
    # limit here, which a busy machine broke: timing belongs in bench/).
    response = client.post_form("/test-jobs/start", {"text": "via Redis", "log": str(log)})
    page = response.headers["Location"]
    job_id = int(page.rsplit("/", 1)[1])
    assert redis_queue.count == 1
    assert stored(rq_app, job_id).status is JobStatus.QUEUED
    assert "Waiting for a worker" in client.get(page).get_data(as_text=True)
    rq_backend.enqueue(rq_app, job_id, "test_write")  # delivered twice: must still run once

    run_worker(rq_app, redis_queue)

    job = stored(rq_app, job_id)
    assert job.status is JobStatus.DONE, job.error
    assert (job.progress, job.message) == (100, "Ready")
    with client.get(f"{page}/download") as download:
        written = json.loads(download.data)
    assert written == {"pid": written["pid"], "text": "via Redis"}
    assert written["pid"] != os.getpid()
    assert len(log.read_text().splitlines()) == 1
    assert redis_queue.count == 0


def test_a_job_someone_asked_for_goes_ahead_of_the_parts_of_another(rq_app, redis_queue, make):
    """RQ workers take the queue's head: parts (an export's packets) go to its tail, a job a
    person asked for to its front, so that it waits for one running part at most."""
    owner = make.person(name="Rae Queue")
    with rq_app.app_context():
        person = db.session.get(User, owner.id)
        parts = [jobs.submit(person, "test_part", {"n": n}).id for n in range(2)]
        db.session.commit()
        asked = jobs.submit(person, "test_write", {}).id
        db.session.commit()
        order = [rq_backend.rq_id(rq_app, job_id) for job_id in (asked, *parts)]
    assert redis_queue.job_ids == order


def test_an_rq_job_over_the_time_limit_is_killed_and_failed(rq_app, redis_queue, make):
    owner = make.person(name="Tim Limit")
    with rq_app.app_context():
        job_id = jobs.submit(db.session.get(User, owner.id), "test_sleep", {}).id
        db.session.commit()

    started = time.monotonic()
    run_worker(rq_app, redis_queue, RUNGS_JOB_TIME_LIMIT="3")

    assert time.monotonic() - started < 60
    job = stored(rq_app, job_id)
    assert (job.status, job.message) == (JobStatus.FAILED, "Timed out")
    assert job.error.startswith("The job was stopped after 3 seconds, the time limit for a job.")


def test_a_job_fails_with_a_reason_when_redis_cannot_be_reached(app, make_app, make):
    owner = make.person(name="Una Reachable")
    web = make_app(RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"], REDIS_URL="redis://127.0.0.1:1/0")
    with web.app_context():
        job_id = jobs.submit(db.session.get(User, owner.id), "test_write", {}).id
        db.session.commit()

    job = stored(web, job_id)
    assert job.status is JobStatus.FAILED
    assert job.error == (
        "The job queue (Redis) could not be reached, so the job was not started. "
        "Try again in a moment."
    )


def test_a_cycle_export_goes_to_two_rq_workers_a_job_per_packet_then_the_zip(
    app, rq_app, redis_queue, org, tmp_path
):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))
    with rq_app.app_context():
        head = db.session.get(User, org.head.id)
        params = {"cycle_id": data.cycle_id, "view": "committee", "actor_id": head.id}
        export_id = jobs.submit(head, "cycle_packets", params).id
        db.session.commit()

    # Two workers, as on two machines: the export's first run queues its parts on the queue the
    # workers serve, they share them, and the one that ends the last part enqueues the ZIP.
    env = worker_environ(rq_app, RUNGS_JOB_QUEUE=redis_queue.name)
    command = [sys.executable, "-m", "rq.cli", "worker", "--url", REDIS_URL, redis_queue.name]
    first = subprocess.run(  # takes the export alone (a burst worker stops when idle)
        [*command, "--burst", "--max-jobs", "1"], cwd=ROOT, env=env, capture_output=True
    )
    assert first.returncode == 0, first.stderr[-3000:]
    export = stored(rq_app, export_id)
    assert (export.status, export.message) == (JobStatus.WAITING, "0 of 2 packets")
    assert redis_queue.count == 2
    workers = [
        subprocess.Popen([*command, "--burst"], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.wait(timeout=180) == 0, worker.stderr.read()[-3000:]
        worker.stderr.close()

    export = stored(rq_app, export_id)
    parts = [stored(rq_app, part) for part in export.params[jobs.WAITED_FOR]]
    assert [part.status for part in parts] == [JobStatus.DONE] * 2
    assert (export.status, export.message) == (JobStatus.DONE, "Ready"), export.error
    with rq_app.app_context():
        archive = jobs.result_file(export.result_path).read_bytes()
        head = db.session.get(User, org.head.id)
        packet_jobs.write_zip(head, data.cycle_id, "committee", tmp_path / "old.zip")
    assert archive == (tmp_path / "old.zip").read_bytes()  # the single job's bytes of before
    assert redis_queue.count == 0


# --- faults: a Redis of the test's own (restarted empty) and workers killed with SIGKILL ------


class OwnRedis:
    """A redis-server of this test only, on a free port, that can restart empty."""

    def __init__(self, folder: Path):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        connection = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                connection.ping()
                break
            except RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        connection.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def restart_empty(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; the RQ fault tests start one of their own.")
    server = OwnRedis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def faulty_app(app, make_app, own_redis):
    """The app on the test's own Redis, with heartbeats every second (silent after 3 s)."""
    return make_app(
        RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"],
        REDIS_URL=own_redis.url,
        JOB_HEARTBEAT_SECONDS=1,
    )


def burst(app, command: list[str]) -> None:
    """Run a worker command until its queue is empty; it must exit cleanly."""
    done = subprocess.run(
        command, cwd=ROOT, env=worker_environ(app), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]


def worker_environ(app, **environ: str) -> dict[str, str]:
    return {
        **os.environ,
        "RUNGS_ENV": "testing",
        "FLASK_APP": "app",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RUNGS_DATA_DIR": app.config["RUNGS_DATA_DIR"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RUNGS_JOB_HEARTBEAT_SECONDS": str(app.config["JOB_HEARTBEAT_SECONDS"]),
        **environ,
    }


def submit_as(app, person: User, kind: str, **params) -> int:
    with app.app_context():
        job_id = jobs.submit(db.session.get(User, person.id), kind, params).id
        db.session.commit()
    return job_id


def submit_quietly(app, person: User) -> int:
    """A job committed but not handed to Redis (as if its web process stopped in between)."""
    with app.app_context():
        job_id = jobs.submit(db.session.get(User, person.id), "test_write", {}).id
        db.session.info.pop("rungs_jobs_to_dispatch")
        db.session.commit()
    return job_id


def set_times(app, job_id: int, **values) -> None:
    """Move a job's clock back (as if it was queued or started that long ago)."""
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(**values))
        db.session.commit()


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    """Ended (or a zombie nobody reaped yet: it runs no more code)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def sweep(app) -> str:
    done = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert done.exit_code == 0, done.output
    return done.output


def test_a_job_whose_worker_horse_and_render_are_killed_is_failed_with_a_reason(faulty_app, make):
    owner = make.person(name="Kim Killed")
    job_id = submit_as(faulty_app, owner, "test_sleep")
    command = [sys.executable, "-m", "rq.cli", "worker", "--url", faulty_app.config["REDIS_URL"]]
    worker = subprocess.Popen(
        [*command, faulty_app.config["JOB_QUEUE"]],
        cwd=ROOT,
        env=worker_environ(faulty_app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while stored(faulty_app, job_id).message != "Sleeping":  # the render has begun
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        # A live job past the silent window is left alone: its work horse keeps beating.
        started = stored(faulty_app, job_id).started_at
        time.sleep(max(0.0, 4 - (utcnow() - started).total_seconds()))
        assert "0 without a live worker failed" in sweep(faulty_app)
        assert stored(faulty_app, job_id).status is JobStatus.RUNNING
        horses = children(worker.pid)
        renders = [pid for horse in horses for pid in children(horse)]
        assert len(horses) == 1 and len(renders) == 1, (horses, renders)
        for pid in (worker.pid, *horses, *renders):
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        worker.wait(10)
        while not all(gone(pid) for pid in (*horses, *renders)):
            assert time.monotonic() - killed < 10
            time.sleep(0.05)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    # Before: nothing in RQ marks the job; it stays running until a sweep finds no heartbeat.
    assert stored(faulty_app, job_id).status is JobStatus.RUNNING
    while stored(faulty_app, job_id).status is JobStatus.RUNNING:
        assert time.monotonic() - killed < 15, "the sweep never failed the job"
        output = sweep(faulty_app)
        time.sleep(0.25)
    failed_after = time.monotonic() - killed

    assert "1 without a live worker failed" in output
    job = stored(faulty_app, job_id)
    assert (job.status, job.message) == (JobStatus.FAILED, "Interrupted")
    assert job.error == rq_backend.SILENT.format(seconds=3)
    assert 2 <= failed_after < 8  # three missed beats of one second, give or take one
    client = faulty_app.test_client()
    sign_in(client, owner)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "no sign of life from it for 3 seconds" in page


def test_queued_jobs_that_redis_lost_are_enqueued_again_or_failed(faulty_app, own_redis, make):
    owner = make.person(name="Roz Restart")
    queue = rq_backend.queue(faulty_app)
    wanted = submit_as(faulty_app, owner, "test_write", text="again")
    too_old = submit_as(faulty_app, owner, "test_write", text="stale")
    assert queue.count == 2

    own_redis.restart_empty()
    assert queue.count == 0
    now = utcnow()
    set_times(faulty_app, wanted, created_at=now - timedelta(minutes=5))
    set_times(faulty_app, too_old, created_at=now - timedelta(hours=3))
    # Before: both rows say "Waiting for a worker" and no worker will ever get them.
    assert {stored(faulty_app, i).status for i in (wanted, too_old)} == {JobStatus.QUEUED}

    assert "1 lost from Redis enqueued again, 1 too old" in sweep(faulty_app)

    assert queue.job_ids == [rq_backend.rq_id(faulty_app, wanted)]
    lost = stored(faulty_app, too_old)
    assert (lost.status, lost.message) == (JobStatus.FAILED, "Lost")
    assert lost.error == rq_backend.LOST.format(age="3 hours ago")
    client = faulty_app.test_client()
    sign_in(client, owner)
    page = client.get(f"/jobs/{too_old}").get_data(as_text=True)
    assert "was lost from the job queue (Redis restarted or was emptied)" in page

    # A job that lost its worker since: the worker's job sweeps before it renders (plain
    # `rq worker` has no sweep of its own).
    overdue = submit_quietly(faulty_app, owner)
    long_ago = now - timedelta(hours=1)
    set_times(faulty_app, overdue, status=JobStatus.RUNNING, started_at=long_ago)
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", own_redis.url]
    burst(faulty_app, [*command, queue.name])
    job = stored(faulty_app, wanted)
    assert job.status is JobStatus.DONE, job.error
    with client.get(f"/jobs/{wanted}/download") as download:
        assert json.loads(download.data)["text"] == "again"
    job = stored(faulty_app, overdue)
    assert (job.status, job.error) == (JobStatus.FAILED, store.INTERRUPTED)


def test_submitting_a_job_recovers_lost_ones_but_not_one_being_enqueued(faulty_app, make):
    owner = make.person(name="Gus Grace")
    pending = submit_quietly(faulty_app, owner)  # committed, not handed to Redis yet
    queue = rq_backend.queue(faulty_app)

    assert "0 lost from Redis enqueued again" in sweep(faulty_app)
    assert queue.count == 0
    set_times(faulty_app, pending, created_at=utcnow() - rq_backend.ENQUEUE_GRACE * 2)
    Redis.from_url(faulty_app.config["REDIS_URL"]).flushall()  # and the last sweep's mark
    newer = submit_as(faulty_app, owner, "test_write")  # its commit sweeps

    assert set(queue.job_ids) == {rq_backend.rq_id(faulty_app, i) for i in (pending, newer)}
    assert stored(faulty_app, pending).status is JobStatus.QUEUED


def test_flask_jobs_worker_sweeps_when_it_starts(faulty_app, make):
    owner = make.person(name="Wes Worker")
    overdue = submit_as(faulty_app, owner, "test_write")
    abandoned = submit_as(faulty_app, owner, "test_write")
    Redis.from_url(faulty_app.config["REDIS_URL"]).flushall()  # Redis lost both
    long_ago = utcnow() - timedelta(hours=2)
    set_times(faulty_app, abandoned, created_at=long_ago)
    set_times(
        faulty_app, overdue, status=JobStatus.RUNNING, created_at=long_ago, started_at=long_ago
    )

    burst(faulty_app, [str(Path(sys.executable).parent / "flask"), "jobs", "worker", "--burst"])

    job = stored(faulty_app, overdue)
    assert (job.status, job.error) == (JobStatus.FAILED, store.INTERRUPTED)
    job = stored(faulty_app, abandoned)
    assert (job.status, job.message) == (JobStatus.FAILED, "Lost")


def test_a_job_rendering_while_redis_restarts_empty_is_not_taken_for_dead(
    faulty_app, own_redis, make, tmp_path
):
    owner = make.person(name="Ray Running")
    go_on, log = tmp_path / "go-on", tmp_path / "worker.log"
    job_id = submit_as(faulty_app, owner, "test_write", text="survived", wait_for=str(go_on))
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", own_redis.url]
    with log.open("w") as output:
        worker = subprocess.Popen(
            [*command, faulty_app.config["JOB_QUEUE"]],
            cwd=ROOT,
            env=worker_environ(faulty_app),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while stored(faulty_app, job_id).message != "Halfway there":
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        own_redis.restart_empty()
        redis = Redis.from_url(own_redis.url)
        # Past the silent window, with Redis up long enough for the sweep to judge heartbeats.
        while int(redis.info("server")["uptime_in_seconds"]) <= 3:
            time.sleep(0.2)
        redis.close()
        assert "0 without a live worker failed" in sweep(faulty_app)
        go_on.touch()
        worker.wait(60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    job = stored(faulty_app, job_id)
    assert job.status is JobStatus.DONE, (job.error, log.read_text()[-3000:])
