"""Several machines, one database and one Redis (RUNGS_FILE_STORAGE=database): two web servers
and an RQ worker, each a process of its own with a data folder of its own, share nothing else.

A file uploaded through one server downloads, the same bytes, from the other; a packet rendered
by the worker downloads from both. In both suite passes: on SQLite the processes share the
suite's database file, on PostgreSQL the pass's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Job, JobStatus, Packet, StoredFile
from tests import packet_helpers
from tests.conftest import CSRF_INPUT
from tests.factories import Person
from tests.test_jobs_rq import REDIS_URL, redis_queue

assert redis_queue  # the fixture, used below by name

ROOT = Path(__file__).resolve().parent.parent


def environment(app, data_dir: Path) -> dict[str, str]:
    """What an operator sets on each machine: the shared database, files in it, the shared Redis,
    and a data folder of the machine's own."""
    data_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "RUNGS_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RUNGS_DATA_DIR": str(data_dir),
        "RUNGS_FILE_STORAGE": "database",
        "REDIS_URL": REDIS_URL,
    }


@contextmanager
def machines(app, folder: Path, queue: str) -> Iterator[tuple[str, str]]:
    """Two web servers (tests/instance_worker.py) and an RQ worker, started together (each
    takes seconds to import the app); the servers' base URLs."""
    commands = {
        "one": [sys.executable, "-m", "tests.instance_worker", queue],
        "two": [sys.executable, "-m", "tests.instance_worker", queue],
        "worker": [sys.executable, "-m", "rq.cli", "worker", "--url", REDIS_URL, queue],
    }
    processes = {}
    try:
        for name, command in commands.items():
            with (folder / f"{name}.log").open("w") as log:
                processes[name] = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=environment(app, folder / name),
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
        ports = [processes[name].stdout.readline().strip() for name in ("one", "two")]
        assert all(port.isdigit() for port in ports), (folder / "one.log").read_text()[-3000:]
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)
            process.stdout.close()


def finished(app, deadline_seconds: float = 180) -> Job:
    """The one job, once the worker has finished it (failing the test past the deadline)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        with app.app_context():
            job = db.session.scalars(select(Job)).one()
            db.session.expunge(job)
        if job.status.is_finished:
            return job
        assert time.monotonic() < deadline, f"the worker did not finish the job: {job.message}"
        time.sleep(0.2)


def signed_in(base: str, person: Person) -> requests.Session:
    """A browser of its own, signed in on that server."""
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30)
    token = CSRF_INPUT.search(page.text).group(1)
    form = {"csrf_token": token, "email": person.email, "password": person.password}
    answer = browser.post(f"{base}/login", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:2000]
    return browser


def token_of(browser: requests.Session, url: str) -> str:
    return CSRF_INPUT.search(browser.get(url, timeout=30).text).group(1)


def download(browser: requests.Session, url: str) -> bytes:
    answer = browser.get(url, timeout=30)
    assert answer.status_code == 200, answer.text[:2000]
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    return answer.content


def test_two_servers_and_a_worker_share_files_through_the_database(app, org, redis_queue, tmp_path):
    built = packet_helpers.realistic_case(app, org, items=1)
    item = built.evidence_ids[0]
    # A text file over three chunks (1 MB each) in the database.
    content = "".join(f"{os.urandom(24).hex()},{n}\n" for n in range(60_000)).encode()
    with machines(app, tmp_path, redis_queue.name) as (one, two):
        # An attachment uploaded on one downloads, the same bytes, from the other.
        author_one, author_two = signed_in(one, org.pm_a1), signed_in(two, org.pm_a1)
        page = f"{one}/evidence/{item}/attachments"
        upload = author_one.post(
            page,
            data={"csrf_token": token_of(author_one, page)},
            files={"attachment-file": ("numbers.csv", content, "text/csv")},
            allow_redirects=False,
            timeout=30,
        )
        assert upload.status_code in (302, 303), upload.text[:2000]
        with app.app_context():
            attachment = db.session.scalars(select(Attachment)).one()
            assert db.session.get(StoredFile, f"attachments/{attachment.stored_name[:2]}/"
                                  f"{attachment.stored_name}").size == len(content)  # fmt: skip
        assert download(author_two, f"{two}/attachments/{attachment.id}") == content

        # A packet asked for on one is rendered by the worker and downloads from both.
        head_one, head_two = signed_in(one, org.head), signed_in(two, org.head)
        case = f"{one}/cases/{built.case_id}"
        asked = head_one.post(
            f"{case}/packet",
            data={"csrf_token": token_of(head_one, case), "view": "committee"},
            allow_redirects=False,
            timeout=30,
        )
        assert asked.status_code == 303, asked.text[:2000]
        job_url = asked.headers["Location"]
        job = finished(app)
        assert job.status is JobStatus.DONE, job.error
        with app.app_context():
            packet = db.session.scalars(select(Packet)).one()
        pdf = download(head_two, f"{two}{job_url.removeprefix(one)}/download")
        assert pdf.startswith(b"%PDF-")
        assert download(head_one, f"{one}/packets/{packet.id}/download") == pdf
        assert download(head_two, f"{two}/packets/{packet.id}/download") == pdf
    # Nothing was written to any machine's own folders.
    for machine in ("one", "two", "worker"):
        written = [p for p in (tmp_path / machine).rglob("*") if p.is_file()]
        assert written == [], written
