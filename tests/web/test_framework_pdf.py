"""A framework version as a PDF: made by a job, never in the web request; served from disk once
made; whoever may view the version may ask; other people's requests keep working meanwhile."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, JobStatus, User
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services import jobs
from app.services.frameworks import files, pdf, store, versions
from tests.factories import sign_in
from tests.framework_samples import framework_yaml

JOB_URL = re.compile(r"/jobs/(\d+)$")


@pytest.fixture
def sample(app):
    """Version 1 published, version 2 a draft."""
    with app.app_context():
        published = files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)[0]
        versions.new_draft(SYSTEM, published)
        db.session.commit()


@pytest.fixture
def no_render_here(monkeypatch):
    """WeasyPrint in this (the web) process fails the test; a job's own process is untouched."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a PDF was rendered in the web request")

    monkeypatch.setattr("app.infra.pdf.render_pdf", refuse)


def signed_in(app, person):
    client = app.test_client()
    sign_in(client, person)
    return client


def job_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


def ask(client, number: int = 1):
    return client.post_form(f"/frameworks/sample/v{number}/pdf")


def job_id_of(response) -> int:
    assert response.status_code == 303, response.status_code
    found = JOB_URL.search(response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def test_asking_starts_a_job_then_the_pdf_is_served_from_disk(app, org, sample, no_render_here):
    pm = signed_in(app, org.pm_a1)
    page = pm.get("/frameworks/sample/v1/").get_data(as_text=True)
    assert 'action="/frameworks/sample/v1/pdf"' in page  # the version page's "PDF" control

    started = time.monotonic()
    job_id = job_id_of(ask(pm))
    assert time.monotonic() - started < 2  # no render: the request only queues the job
    assert job_id_of(ask(pm)) == job_id  # asking again while it waits: the same job
    not_yet = pm.get("/frameworks/sample/v1.pdf")
    assert not_yet.status_code == 200 and not_yet.mimetype == "text/html"
    assert "not made yet" in not_yet.get_data(as_text=True)
    listed = pm.get("/jobs").get_data(as_text=True)
    assert "Career path PDF" in listed and "career path PDFs" in listed
    job_page = pm.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Waiting for a worker" in job_page
    version = '<a href="/frameworks/sample/v1/">Sample, version 1</a>'
    assert f'<p class="job-about">For {version}</p>' in job_page

    with app.app_context():
        jobs.run_pending(app)  # renders in the job's own process, with the runner's limits
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.DONE, job.error
        assert job.result_name == "sample-v1.pdf"
    download = pm.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    made = download.data
    download.close()
    assert "Level 1 L1" in PdfReader(io.BytesIO(made)).pages[1].extract_text()

    # Made once: the link now serves the same bytes, and asking again goes straight to them.
    served = pm.get("/frameworks/sample/v1.pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.data == made
    served.close()
    again = signed_in(app, org.manager_b)
    answer = ask(again)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/frameworks/sample/v1.pdf")
    assert job_count(app) == 1


def test_whoever_may_view_the_version_may_ask_for_its_pdf(app, org, sample, no_render_here):
    pm = signed_in(app, org.pm_a1)
    for number in (2, 9):  # a draft, and no such version
        assert ask(pm, number).status_code == 404
        assert pm.get(f"/frameworks/sample/v{number}.pdf").status_code == 404
    assert pm.post_form("/frameworks/nothing/v1/pdf").status_code == 404
    assert job_count(app) == 0
    head = signed_in(app, org.head)
    job_id_of(ask(head, 2))
    assert job_count(app) == 1


def test_anonymous_people_are_sent_to_sign_in(client, sample):
    assert client.get("/frameworks/sample/v1.pdf").status_code == 302
    assert client.post_form("/frameworks/sample/v1/pdf").status_code == 302


def test_the_job_checks_access_again_when_it_runs(app, org, sample):
    pm = signed_in(app, org.pm_a1)
    job_id = job_id_of(ask(pm))
    with app.app_context():
        db.session.get(User, org.pm_a1.id).deactivated_at = utcnow()
        db.session.commit()
        jobs.run_pending(app)
        job = db.session.get(Job, job_id)
        assert job.status is JobStatus.FAILED and job.error == "Not found."
        assert pdf.cached_pdf(store.find_version("sample", 1)) is None


def test_other_peoples_requests_succeed_while_a_framework_pdf_renders(app, org, monkeypatch):
    """On SQLite a transaction holds the write lock; a render inside one made every other
    request wait the busy timeout (5 s) and fail with "database is locked"."""
    with app.app_context():
        files.import_text(
            SYSTEM, framework_yaml(areas=4, per_area=5, levels=6), "yaml", publish=True
        )
        db.session.commit()
    rendering, finish = threading.Event(), threading.Event()

    def slow_render(html, **_kwargs):
        rendering.set()
        finish.wait(10)  # as long as the other person's requests take, up to 10 s
        return b"%PDF-1.7 rendered"

    monkeypatch.setattr("app.infra.pdf.render_pdf", slow_render)
    requester = signed_in(app, org.pm_a1)
    job_id = job_id_of(ask(requester))
    other = signed_in(app, org.manager_b)
    outcome: dict = {}

    def run_job():  # the task as the job's process runs it: its own app context and session
        with app.app_context():
            params = db.session.get(Job, job_id).params
            db.session.commit()
            try:
                outcome["result"] = pdf.render_version(params, lambda *_: None)
            finally:
                db.session.remove()

    worker = threading.Thread(target=run_job)
    worker.start()
    try:
        assert rendering.wait(10), "the job never started rendering"
        answers = []
        for path in ("/", "/evidence/", "/frameworks/", "/frameworks/sample/v1/", "/jobs"):
            started = time.monotonic()
            answers.append((path, other.get(path).status_code, time.monotonic() - started))
        started = time.monotonic()
        written = ask(other)  # a write: the other person's own job row
        answers.append(("ask", written.status_code, time.monotonic() - started))
    finally:
        finish.set()
        worker.join(15)
    failed = [(path, status) for path, status, _ in answers if status >= 500]
    assert failed == []
    assert [status for *_, status, _ in answers] == [200, 200, 200, 200, 200, 303]
    assert max(seconds for *_, seconds in answers) < 3  # never waited for a lock (5 s)
    assert outcome["result"].name == "sample-v1.pdf"


def test_the_cli_writes_the_same_bytes_as_the_job(app, org, sample, tmp_path):
    """`flask frameworks pdf` renders directly (no job); the same content gives the same bytes,
    rendered once: the job after it finds the file on disk."""
    target = tmp_path / "sample.pdf"
    result = app.test_cli_runner().invoke(args=["frameworks", "pdf", "sample", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote Sample version 1" in result.output
    pm = signed_in(app, org.pm_a1)
    served = pm.get("/frameworks/sample/v1.pdf")
    assert served.mimetype == "application/pdf" and served.data == target.read_bytes()
    served.close()
    assert ask(pm).headers["Location"].endswith("/frameworks/sample/v1.pdf")
    assert job_count(app) == 0
