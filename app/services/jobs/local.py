"""The local backend (no Redis): a dispatcher thread that claims queued jobs and supervises them.

`make run` needs nothing else: the web process starts the dispatcher on its first job (and when a
job page finds a queued job). The dispatcher claims jobs one at a time with a conditional UPDATE,
counting the running jobs in the same transaction, so that at most JOB_CONCURRENCY jobs run at
once across every process on the database and no job runs twice. Each job is supervised by a
thread of its own (runner.supervise), which runs the task in a separate process. When nothing is
queued and nothing of its own runs, the thread ends; the next job starts it again.
`flask jobs worker` runs the same dispatcher in the foreground, polling for good.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy.exc import OperationalError

from app.services.jobs import runner, store

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often a waiting dispatcher looks again when another process is full


class Dispatcher:
    def __init__(self, app: Flask, *, stay: bool = False):
        self.app = app
        self.stay = stay  # keep polling when idle (the `flask jobs worker` command)
        self.wakeup = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.running: dict[int, threading.Thread] = {}

    def wake(self) -> None:
        """Look for queued jobs now, starting the dispatcher thread if it is not running."""
        with self.lock:
            self.wakeup.set()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.loop, name="rungs-jobs", daemon=True)
                self.thread.start()

    def loop(self) -> None:
        with self.app.app_context():
            while True:
                self.wakeup.clear()
                try:
                    self.step()
                    idle = not self.running and not store.has_queued()
                except Exception:
                    log.exception("the job dispatcher failed; trying again")
                    idle = False
                if idle and not self.stay:
                    with self.lock:
                        if not self.wakeup.is_set():
                            self.thread = None
                            return
                    continue
                self.wakeup.wait(POLL_SECONDS)

    def run_until_idle(self) -> None:
        """Run every queued job, in this thread, until none is queued and none of ours runs."""
        with self.app.app_context():
            while True:
                self.wakeup.clear()
                try:
                    self.step()
                    idle = not self.running and not store.has_queued()
                except OperationalError as error:
                    # SQLite busy past its timeout (a job's process holds the lock on a loaded
                    # machine): the jobs go on; look again instead of leaving them behind.
                    log.warning("the job dispatcher could not reach the database: %s", error)
                    idle = False
                if idle:
                    return
                self.wakeup.wait(POLL_SECONDS)

    def step(self) -> None:
        """Forget finished supervisors, then claim jobs while there is room (each claim first
        queues again the waiting jobs whose parts all ended)."""
        for job_id, thread in list(self.running.items()):
            if not thread.is_alive():
                del self.running[job_id]
        limits = runner.Limits.of(self.app)
        while len(self.running) < limits.concurrency:
            claimed = store.claim_next(limits.concurrency, limits.seconds)
            if claimed is None:
                return
            job_id, kind = claimed
            thread = threading.Thread(
                target=self._supervise, args=(job_id, kind), name=f"rungs-job-{job_id}", daemon=True
            )
            self.running[job_id] = thread
            thread.start()

    def _supervise(self, job_id: int, kind: str) -> None:
        try:
            runner.supervise(self.app, job_id, kind)
        except Exception:
            log.exception("supervising job %s failed", job_id)
            try:
                runner._fail(self.app, job_id, "The job could not be run. The error was logged.")
            except Exception:
                log.exception("could not mark job %s failed", job_id)
        finally:
            self.wakeup.set()


def dispatcher(app: Flask) -> Dispatcher:
    """The app's one dispatcher (created on first use)."""
    state = app.extensions.setdefault("rungs_jobs", {})
    with _CREATE:
        if "dispatcher" not in state:
            state["dispatcher"] = Dispatcher(app)
    return state["dispatcher"]


_CREATE = threading.Lock()
