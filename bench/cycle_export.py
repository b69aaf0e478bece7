"""Benchmark for issue 17: a cycle's export of N packets as one job per packet, then a ZIP job,
on two workers. Not a test: run it from the repository root and read the lines it prints.

    .venv/bin/python bench/cycle_export.py [--cases 300] [--items 12] [--redis URL]

It builds a scratch RUNGS_DATA_DIR with its own SQLite database (the real migrations), a cycle
with N cases (each candidate with `--items` evidence items on 12 competencies, recorded through
the services), submits the head of product's committee export as the page does, and runs it:
with the built-in runner at RUNGS_JOB_CONCURRENCY=2 (jobs.run_pending), or with `--redis` on
two `rq worker` processes of their own queue. It prints the total time from submitting to the
ZIP, the longest single job (each part, the export's first run — listing the cases and queueing
the parts — and its last run, the ZIP), RUNGS_JOB_TIME_LIMIT, and whether the ZIP has the same
bytes as `write_zip` (the single job of before, still `flask packets export`) writes for the
same cycle. The scratch folder is removed at the end; ./instance is never touched.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.* build the cases the packet tests use

WORKERS = 2
FOREIGN_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "FLASK_DEBUG", "RUNGS_ENV")


def main() -> None:
    args = parse_args()
    print(f"Command: {shlex.join([_shown_python(), *sys.argv])}  (in {Path.cwd()})")
    print(f"Machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="rungs-bench-export-"))
    workers: list[subprocess.Popen] = []
    try:
        app = build(scratch, args)
        started = time.monotonic()
        built = build_cycle(app, args.cases, args.items)
        print(
            f"Built {args.cases} cases ({args.items} evidence items each) in "
            f"{time.monotonic() - started:.0f} s"
        )
        export_id = submit(app, built)
        started = time.monotonic()
        if args.redis:
            workers = start_rq_workers(app, scratch, args.redis)
            wait_until_finished(app, export_id, workers)
        else:
            from app.services import jobs

            runner = threading.Thread(target=jobs.run_pending, args=(app,), daemon=True)
            runner.start()
            while runner.is_alive():
                runner.join(60)
                show_progress(app, export_id, time.monotonic() - started)
        total = time.monotonic() - started
        report(app, built, export_id, total, "RQ, 2 `rq worker`" if args.redis else "built-in")
    finally:
        for worker in workers:  # only the workers this run started
            worker.terminate()
            worker.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="cases in the cycle (300)")
    parser.add_argument("--items", type=int, default=12, help="evidence items per case (12)")
    parser.add_argument("--redis", help="a Redis URL: two RQ workers instead of the runner")
    return parser.parse_args()


def _shown_python() -> str:
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return sys.executable


def build(scratch: Path, args: argparse.Namespace):
    from flask_migrate import upgrade

    from app import create_app

    settings = {
        "ENV": "development",
        "RUNGS_DATA_DIR": str(scratch),
        "JOB_CONCURRENCY": WORKERS,
        "JOB_LOCAL_DISPATCH": False,  # run_pending runs them, in this process's dispatcher
    }
    if args.redis:
        settings.update(REDIS_URL=args.redis, JOB_QUEUE=f"rungs-bench-{secrets.token_hex(4)}")
    app = create_app(settings, environ={})
    with app.app_context():
        upgrade()
    return app


def build_cycle(app, cases: int, items: int):
    """A head of product, a manager, `cases` candidates placed at L1 with a case to L2 each."""
    from app.models import CyclePhase, Role
    from tests import evidence_helpers, promotion_helpers
    from tests.factories import Factory
    from tests.packet_helpers import BODY, KEYS, KINDS

    make = Factory(app)
    head = make.person(name="Hana Head", role=Role.HEAD, password=None)
    manager = make.person(name="Mo Manager", role=Role.MANAGER, manager=head, password=None)
    levels = promotion_helpers.publish_sample(app, areas=3, per_area=4)
    cycle_id = promotion_helpers.make_cycle(app, phase=CyclePhase.CALIBRATION)
    today = date.today()
    for n in range(cases):
        person = make.person(name=f"Candidate {n:03d}", manager=manager, password=None)
        promotion_helpers.place(app, [person], levels["L1"])
        promotion_helpers.make_case(
            app, cycle_id, person, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
        )
        for i in range(items):
            evidence_helpers.record(
                app,
                person,
                title=f"Evidence {i:02d} of candidate {n}",
                occurred_on=today - timedelta(days=9 * i + 3),
                kind=KINDS[i % len(KINDS)],
                competency_keys=[KEYS[i % 12], KEYS[(i + 5) % 12]],
                body=BODY.format(n=i),
            )
    return head, cycle_id


def submit(app, built) -> int:
    from app.extensions import db
    from app.models import User
    from app.services import jobs

    head, cycle_id = built
    with app.app_context():
        actor = db.session.get(User, head.id)
        params = {"cycle_id": cycle_id, "view": "committee", "actor_id": head.id}
        job_id = jobs.submit(actor, "cycle_packets", params).id
        db.session.commit()
    return job_id


def start_rq_workers(app, scratch: Path, redis_url: str) -> list[subprocess.Popen]:
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env.update(
        RUNGS_ENV="development",
        RUNGS_DATA_DIR=str(scratch),
        REDIS_URL=redis_url,
        RUNGS_JOB_QUEUE=app.config["JOB_QUEUE"],
    )
    command = [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url, "-q"]
    return [
        subprocess.Popen([*command, app.config["JOB_QUEUE"]], cwd=ROOT, env=env)
        for _ in range(WORKERS)
    ]


def show_progress(app, export_id: int, elapsed: float) -> None:
    """What the export's page says now, and the longest part so far (for a run cut short)."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from app.extensions import db
    from app.models import Job

    with app.app_context():
        try:
            job = db.session.get(Job, export_id)
        except OperationalError as error:  # SQLite busy past its timeout: report next minute
            print(f"  {elapsed:5.0f} s: (the database was busy: {error.orig})", flush=True)
            return
        longest = db.session.scalar(
            select(
                func.max(func.julianday(Job.finished_at) - func.julianday(Job.started_at))
            ).where(Job.kind == "export_packet")
        )
        print(
            f"  {elapsed:5.0f} s: {job.status.label}, {job.message}; longest part so far "
            f"{(longest or 0) * 86400:.1f} s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        db.session.rollback()


def wait_until_finished(app, export_id: int, workers: list[subprocess.Popen]) -> None:
    from app.extensions import db
    from app.models import Job

    started = time.monotonic()
    while True:
        with app.app_context():
            job = db.session.get(Job, export_id)
            if job.status.is_finished:
                return
        if any(worker.poll() is not None for worker in workers):
            raise SystemExit("an RQ worker stopped before the export finished")
        time.sleep(0.5)
        if int(time.monotonic()) % 60 == 0:
            show_progress(app, export_id, time.monotonic() - started)


def report(app, built, export_id: int, total: float, backend: str) -> None:
    from app.extensions import db
    from app.models import Job, JobStatus, User
    from app.services import jobs
    from app.services.packets import jobs as packet_jobs

    with app.app_context():
        export = db.session.get(Job, export_id)
        if export.status is not JobStatus.DONE:
            raise SystemExit(f"The export failed: {export.error}")
        parts = jobs.parts(export.params[jobs.WAITED_FOR])
        durations = [(p.finished_at - p.started_at).total_seconds() for p in parts]
        # The first run ended when it queued the parts: no row keeps its start, so its span from
        # submitting (queue wait included) bounds it from above.
        first = (max(p.created_at for p in parts) - export.created_at).total_seconds()
        last = (export.finished_at - export.started_at).total_seconds()
        archive = jobs.result_file(export.result_path).read_bytes()
        head, cycle_id = built
        target = Path(app.config["RUNGS_DATA_DIR"]) / "old.zip"
        packet_jobs.write_zip(db.session.get(User, head.id), cycle_id, "committee", target)
        same = archive == target.read_bytes()
    durations.sort()
    limit = app.config["JOB_TIME_LIMIT"]
    print(f"Backend: {backend}, {WORKERS} workers; RUNGS_JOB_TIME_LIMIT {limit} s")
    print(f"Export of {len(parts)} packets: {total:.1f} s in all, {len(archive) / 1e6:.1f} MB ZIP")
    print(
        f"Longest single job: {max(max(durations), first, last):.1f} s "
        f"(parts: median {durations[len(durations) // 2]:.1f} s, longest {durations[-1]:.1f} s; "
        f"export's first run ≤ {first:.1f} s; ZIP run {last:.1f} s)"
    )
    print(f"Sum of the parts' times (one job doing them all): {sum(durations):.0f} s")
    print(f"ZIP byte for byte what write_zip writes: {same}")


if __name__ == "__main__":
    main()
