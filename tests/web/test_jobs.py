"""Job pages through HTTP: progress, the file as a download, your jobs; and a job started by a
web request runs in another process while the request returns at once (the local backend)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from flask import redirect, url_for
from flask_login import current_user
from sqlalchemy import select

from app import access
from app.extensions import db
from app.models import AuditEvent, Job, JobStatus
from app.models.base import utcnow
from app.services import jobs
from tests.factories import sign_in
from tests.services.test_jobs import write_file, write_part

assert write_file and write_part  # registers the "test_write" and "test_part" kinds here


@pytest.fixture
def owner(make):
    return make.person(name="Olu Owner")


@pytest.fixture
def stranger(make):
    return make.person(name="Sam Stranger")


def signed_in(app, person):
    client = app.test_client()
    sign_in(client, person)
    return client


def add_job(app, person, status: JobStatus, **values) -> int:
    """A job row as a worker would have left it (no process runs here)."""
    with app.app_context():
        if status is JobStatus.DONE and "result_path" not in values:
            path, values["result_path"] = jobs.output_file(".pdf")
            path.write_bytes(b"%PDF-1.7 the packet")
            values.setdefault("result_name", "Packet \u2013 Alice.pdf")
        job = Job(
            kind=values.pop("kind", "test_write"),
            params={},
            status=status,
            created_by_id=person.id,
            created_at=utcnow(),
            **values,
        )
        db.session.add(job)
        db.session.flush()
        job_id = job.id
        db.session.commit()
        return job_id


def test_a_running_job_shows_its_progress_and_polls_without_inline_script(app, owner):
    job_id = add_job(app, owner, JobStatus.RUNNING, progress=40, message="Rendering sections")
    page = signed_in(app, owner).get(f"/jobs/{job_id}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<progress id="job-progress"[^>]* max="100" value="40">', html)
    assert '<label for="job-progress"' in html
    assert "Rendering sections" in html and 'role="status"' in html
    assert f'data-job-status-url="/jobs/{job_id}/status"' in html
    assert '<script src="/static/js/jobs.js" defer></script>' in html
    assert "<script>" not in html and 'http-equiv="refresh"' not in html
    assert f'href="/jobs/{job_id}"' in html  # reload by hand without JavaScript
    assert "/download" not in html


def test_the_status_is_polled_as_json(app, owner):
    job_id = add_job(app, owner, JobStatus.RUNNING, progress=70, message="Almost")
    response = signed_in(app, owner).get(f"/jobs/{job_id}/status")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "running",
        "label": "Running",
        "progress": 70,
        "message": "Almost",
        "finished": False,
        "url": f"/jobs/{job_id}",
    }


def test_a_finished_job_offers_its_file_and_no_script(app, owner):
    job_id = add_job(app, owner, JobStatus.DONE, progress=100, message="Ready")
    html = signed_in(app, owner).get(f"/jobs/{job_id}").get_data(as_text=True)

    assert f'href="/jobs/{job_id}/download"' in html
    assert "Download Packet \u2013 Alice.pdf" in html
    assert "jobs.js" not in html and "<progress" not in html


def test_a_failed_job_says_why(app, owner):
    error = "The job was stopped after 120 seconds, the time limit for a job."
    job_id = add_job(app, owner, JobStatus.FAILED, message="Timed out", error=error)
    html = signed_in(app, owner).get(f"/jobs/{job_id}").get_data(as_text=True)

    assert 'role="alert"' in html and error in html
    assert "/download" not in html and "jobs.js" not in html


def test_the_download_is_an_attachment_that_is_never_sniffed_and_is_audited(app, owner):
    job_id = add_job(app, owner, JobStatus.DONE, progress=100)
    with signed_in(app, owner).get(f"/jobs/{job_id}/download") as response:
        assert response.status_code == 200
        body = response.data
    assert body == b"%PDF-1.7 the packet"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Packet Alice.pdf\"; filename*=UTF-8''Packet%20%E2%80%93%20Alice.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response.headers["Cache-Control"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "jobs"))
        assert [(e.action, e.actor_id, e.entity_id) for e in events] == [
            ("job.downloaded", owner.id, job_id)
        ]


def test_the_person_cancels_an_unfinished_job_from_its_page(app, owner, stranger):
    job_id = add_job(app, owner, JobStatus.RUNNING, progress=40, message="Rendering")
    client = signed_in(app, owner)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'<form method="post" action="/jobs/{job_id}/cancel" class="job-cancel">' in html
    assert '<button type="submit" class="button">Cancel this job</button>' in html
    assert signed_in(app, stranger).post_form(f"/jobs/{job_id}/cancel", {}).status_code == 404

    answer = client.post_form(f"/jobs/{job_id}/cancel", {})

    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/jobs/{job_id}")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The job was cancelled." in page and "You cancelled this job" in page
    assert "job-status-cancelled" in page
    assert "Cancel this job" not in page and "jobs.js" not in page and "/download" not in page
    assert client.get(f"/jobs/{job_id}/status").get_json()["finished"] is True
    client.post_form(f"/jobs/{job_id}/cancel", {})  # again, from a page left open
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "This job has already been cancelled." in page


def test_finished_jobs_and_parts_offer_no_cancel(app, owner):
    for status, kind in [(JobStatus.DONE, "test_write"), (JobStatus.QUEUED, "test_part")]:
        job_id = add_job(app, owner, status, kind=kind)
        assert "Cancel this job" not in signed_in(app, owner).get(f"/jobs/{job_id}").get_data(
            as_text=True
        )


@pytest.mark.parametrize("suffix", ["", "/status", "/download"])
def test_only_the_person_who_started_a_job_sees_it(app, owner, stranger, suffix):
    job_id = add_job(app, owner, JobStatus.DONE, progress=100)
    client = signed_in(app, stranger)

    assert client.get(f"/jobs/{job_id}{suffix}").status_code == 404
    assert client.get(f"/jobs/{job_id + 1}{suffix}").status_code == 404  # looks the same
    assert app.test_client().get(f"/jobs/{job_id}{suffix}").status_code == 302  # sign in first
    with app.app_context():
        assert (
            db.session.scalar(select(AuditEvent.id).where(AuditEvent.entity_id == job_id)) is None
        )


def test_an_unfinished_job_has_nothing_to_download(app, owner):
    job_id = add_job(app, owner, JobStatus.QUEUED)
    assert signed_in(app, owner).get(f"/jobs/{job_id}/download").status_code == 404


def test_your_jobs_are_listed_newest_first_a_page_at_a_time(app, owner, stranger):
    client = signed_in(app, owner)
    empty = client.get("/jobs").get_data(as_text=True)
    assert "No jobs yet." in empty

    ids = [add_job(app, owner, JobStatus.QUEUED) for _ in range(22)]
    done = add_job(app, owner, JobStatus.DONE, progress=100)
    theirs = add_job(app, stranger, JobStatus.QUEUED)

    first = client.get("/jobs").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'href="/jobs/(\d+)"', first)]
    assert listed[:1] == [done] and theirs not in listed
    assert f'href="/jobs/{done}/download"' in first
    assert "Page 1 of 2 · 23 jobs" in first and 'rel="next"' in first
    second = client.get("/jobs?page=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/jobs/(\d+)"', second)] == ids[:3][::-1]
    assert "There is no page 9." in client.get("/jobs?page=9").get_data(as_text=True)


# --- a job started by a web request, run by the app's own dispatcher -------------------------


def with_start_route(app):
    """The app plus a page that starts a job the way the packet pages do."""

    @app.post("/test-jobs/start")
    @access.requires("home.view")
    def start_test_job():
        actor = current_user._get_current_object()
        job = jobs.submit(actor, "test_write", {"text": "from the web", "sleep": 1})
        job_id = job.id
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job_id))

    return app


def test_a_job_started_by_a_request_runs_in_another_process_while_the_request_returns(
    app, make_app, owner
):
    web = with_start_route(
        make_app(RUNGS_DATA_DIR=app.config["RUNGS_DATA_DIR"], JOB_LOCAL_DISPATCH=True)
    )
    client = signed_in(web, owner)

    response = client.post_form("/test-jobs/start")

    assert response.status_code == 302
    page = response.headers["Location"]
    job_id = int(page.rsplit("/", 1)[1])
    status = client.get(f"{page}/status").get_json()
    # The task sleeps 1 s after a process start: a request that waited for it would find it done.
    assert not status["finished"]

    deadline = time.monotonic() + 60
    while not status["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
        status = client.get(f"{page}/status").get_json()
    assert status["status"] == "done", client.get(page).get_data(as_text=True)

    with client.get(f"{page}/download") as download:
        written = json.loads(download.data)
    assert written["text"] == "from the web"
    assert written["pid"] != os.getpid()
    with web.app_context():
        job = db.session.get(Job, job_id)
        assert Path(web.config["RUNGS_DATA_DIR"], job.result_path).is_file()
