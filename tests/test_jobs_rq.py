"""Jobs through RQ (REDIS_URL set): a real `rq worker` process renders them, with the same limits.

Needs Redis on 127.0.0.1:6379 (.ci/run starts it). Each run uses database 9 and a queue of its
own, so that runs in parallel (SQLite and PostgreSQL suites) never take each other's jobs.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import redirect, request, url_for
from flask_login import current_user
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from app import policy
from app.extensions import db
from app.models import Job, JobStatus, User
from app.services import jobs
from app.services.jobs import rq_backend
from tests.factories import sign_in
from tests.services.test_jobs import sleep_forever, write_file

assert write_file and sleep_forever  # registers the test kinds in this process

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
    @policy.requires("home.view")
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

    started = time.monotonic()
    response = client.post_form("/test-jobs/start", {"text": "via Redis", "log": str(log)})
    assert time.monotonic() - started < 1.0
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
