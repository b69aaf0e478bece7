"""Issue 10's figure for jobs under faults (RQ): what becomes of a job after each fault.

From the repository root after `make install-dev`: `.venv/bin/python bench/job_faults.py`.
It starts a redis-server of its own on a free port and a scratch SQLite database, then:
- kill: a job renders under `rq worker`; the worker, its work horse and the render get SIGKILL;
  5 s later `flask jobs worker --burst` runs (what an operator does after a crash);
- restart: a job is queued; Redis restarts empty; 11 s later `flask jobs worker --burst` runs;
and prints the job's state each time, watched for 30 s. For the code before a change: copy this
file into that tree's bench/ and run it there, from its root, with `PYTHONPATH=.` and this venv.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError


def create():
    """The app for the workers this script starts: with the test job kinds registered."""
    import tests.services.test_jobs  # noqa: F401
    from app import create_app

    return create_app()


class Server:
    def __init__(self, folder: Path):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.folder)], stdout=subprocess.DEVNULL
        )
        while True:
            try:
                Redis.from_url(self.url).ping()
                return
            except RedisError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="rungs-job-faults-"))
    server = Server(folder)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
        "RUNGS_ENV": "testing",
        "FLASK_APP": "bench.job_faults:create()",
        "RUNGS_DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder}/rungs.db",
        "REDIS_URL": server.url,
        "RUNGS_JOB_HEARTBEAT_SECONDS": "1",
    }
    os.environ.update(env)
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import Job, User
    from app.services import jobs

    app = create()
    with app.app_context():
        upgrade()
        db.session.add(User(email="faults@example.com", name="Fay Faults", role="pm"))
        db.session.commit()
        user_id = db.session.query(User.id).scalar()

    def submit(kind: str) -> int:
        with app.app_context():
            job = jobs.submit(db.session.get(User, user_id), kind, {})
            db.session.commit()
            return job.id

    def state(job_id: int) -> tuple[str, str, str]:
        with app.app_context():
            job = db.session.get(Job, job_id)
            return job.status.value, job.message, job.error

    def flask_worker() -> None:
        flask = str(Path(sys.executable).parent / "flask")
        subprocess.run([flask, "jobs", "worker", "--burst"], env=env, capture_output=True)

    def watch(name: str, job_id: int, since: float) -> None:
        end = time.monotonic() + 30
        while state(job_id)[0] not in ("done", "failed") and time.monotonic() < end:
            time.sleep(0.5)
        status, message, error = state(job_id)
        print(f"{name}: {status!r} ({message}) {time.monotonic() - since:.1f} s after the fault")
        if error:
            print(f"  reason: {error}")

    try:
        job_id = submit("test_sleep")
        rq = [sys.executable, "-m", "rq.cli", "worker", "--url", server.url, "rungs"]
        worker = subprocess.Popen(rq, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while state(job_id)[1] != "Sleeping":
            time.sleep(0.2)
        horses = children(worker.pid)
        renders = [pid for horse in horses for pid in children(horse)]
        for pid in (worker.pid, *horses, *renders):
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        worker.wait()
        print(f"kill: SIGKILL to worker {worker.pid}, work horse {horses}, render {renders}")
        time.sleep(5)
        flask_worker()
        watch("kill", job_id, killed)

        job_id = submit("test_write")
        server.stop()
        server.start()
        restarted = time.monotonic()
        length = Redis.from_url(server.url).llen("rq:queue:rungs")
        print(f"restart: Redis restarted empty (queue length {length})")
        time.sleep(11)
        flask_worker()
        watch("restart", job_id, restarted)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
