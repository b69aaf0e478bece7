"""Benchmark for issue 10: what other people's requests get while a framework PDF is made for the
first time, on SQLite. Not a test: run it from the repository root and read the table.

    .venv/bin/python bench/framework_pdf.py [--rounds N] [--competencies N]

Everything happens in a scratch RUNGS_DATA_DIR (a temporary folder with its own SQLite database,
built by the real migrations), removed at the end; ./instance is never touched.

A large framework (many competencies, two tracks, a paragraph per cell) is imported and published
once per round, under a new slug, so that each round's PDF is made for the first time. gunicorn
serves the app (production settings, 2 sync workers, the local job dispatcher). Per round, one
person (Alice, a PM) asks for the PDF the way the version page offers it: a plain link that
renders in the request (before), or the form that starts a job, then the job page's status until
the file is ready (after). Meanwhile other clients, signed in as another person (Ben, a manager),
fetch pages back to back; every answer of 500 or more, and every connection error, is a failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.packets import (  # noqa: E402 - after the path is set
    Browser,
    build_database,
    child_env,
    dispose,
    free_port,
    start_gunicorn,
    stop,
    wait_until_serving,
)

OTHERS = 3
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
PDF_FORM = re.compile(r'<form[^>]*action="([^"]*/pdf)"', re.S)
PDF_LINK = re.compile(r'href="([^"]*\.pdf)"')
JOB_PATH = re.compile(r"/jobs/(\d+)")


def main() -> None:
    args = parse_args()
    print(f"Command: {shlex.join([sys.executable, *sys.argv])}  (in {Path.cwd()})")
    print(f"Load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    scratch = Path(tempfile.mkdtemp(prefix="rungs-bench-"))
    try:
        app = build_database(scratch)
        people = build_frameworks(app, args.rounds, args.competencies)
        dispose(app)
        print(f"Scratch data in {scratch}; {args.rounds} frameworks imported.", flush=True)
        rounds = serve_and_measure(scratch, people, args)
        report(rounds, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="PDFs made, one per round (3).")
    parser.add_argument(
        "--competencies", type=int, default=60, help="Competencies of the framework (60)."
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.1,
        help="Seconds each client waits between its requests (0.1): people read pages; "
        "clients in a tight loop starve the job, which runs at a lower priority.",
    )
    parser.add_argument(
        "--job-time-limit",
        type=int,
        default=600,
        help="RUNGS_JOB_TIME_LIMIT for the server (600; the app's default is 120): the job runs "
        "at a lower priority, and on a busy shared machine it can take minutes.",
    )
    return parser.parse_args()


def slug_of(n: int) -> str:
    return f"big-{n}"


def build_frameworks(app, rounds: int, competencies: int) -> dict[str, tuple[str, str]]:
    """One published framework per round; the people who sign in, as (email, password)."""
    import yaml

    from app.extensions import db
    from app.policy import SYSTEM
    from app.services.frameworks import files
    from tests.factories import Factory
    from tests.framework_samples import framework_data

    org = Factory(app).organisation()
    paragraph = " ".join(["Writes down what was decided, why, and who it affects."] * 8)
    with app.app_context():
        for n in range(1, rounds + 1):
            data = framework_data(
                slug=slug_of(n), levels=6, tracks=2, areas=4, per_area=competencies // 4
            )
            for area in data["areas"]:
                for competency in area["competencies"]:
                    for cell in competency["expectations"].values():
                        cell["text"] = f"{cell['text']} {paragraph}"
            text = yaml.safe_dump(data, sort_keys=False)
            files.import_text(SYSTEM, text, "yaml", publish=True)
            db.session.commit()
    return {
        "requester": (org.pm_a1.email, org.pm_a1.password),
        "other": (org.manager_b.email, org.manager_b.password),
    }


@dataclass
class Round:
    slug: str
    mode: str = ""  # "in the request" or "as a job"
    seconds: float = 0.0  # from asking until the PDF was downloaded
    pdf_bytes: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0


def serve_and_measure(scratch: Path, people: dict, args: argparse.Namespace) -> list[Round]:
    env = child_env(scratch)
    env["RUNGS_JOB_TIME_LIMIT"] = str(args.job_time_limit)
    port = free_port()
    server = start_gunicorn(env, port, scratch)
    try:
        wait_until_serving(port, server)
        requester = Browser(port)
        requester.sign_in(*people["requester"])
        others = []
        for _ in range(OTHERS):
            browser = Browser(port)
            browser.sign_in(*people["other"])
            others.append(browser)
        results = []
        for n in range(1, args.rounds + 1):
            print(f"Round {n}...", flush=True)
            results.append(one_round(requester, others, slug_of(n), args.pause))
            time.sleep(1)
        return results
    finally:
        stop(server)


def one_round(requester: Browser, others: list[Browser], slug: str, pause: float) -> Round:
    result = Round(slug)
    pages = ["/", "/evidence/", "/frameworks/", f"/frameworks/{slug}/v1/", "/jobs"]
    done = threading.Event()
    lock = threading.Lock()

    def fetch_pages(browser: Browser) -> None:
        n = 0
        while not done.is_set():
            path = pages[n % len(pages)]
            n += 1
            started = time.monotonic()
            try:
                status, _ = browser.request("GET", path)
                problem = f"{path}: HTTP {status}" if status >= 500 else None
            except OSError as error:
                problem = f"{path}: {type(error).__name__}"
            elapsed = time.monotonic() - started
            with lock:
                result.requests += 1
                result.slowest = max(result.slowest, elapsed)
                if problem:
                    result.failures.append(problem)
            time.sleep(pause)

    threads = [threading.Thread(target=fetch_pages, args=(b,)) for b in others]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    try:
        result.mode, result.pdf_bytes = ask_for_pdf(requester, slug)
    except RuntimeError as error:  # the PDF did not come: say why, and go on
        result.mode = f"failed: {error}"
    finally:
        result.seconds = time.monotonic() - started
        time.sleep(0.5)
        done.set()
        for thread in threads:
            thread.join()
    return result


def ask_for_pdf(browser: Browser, slug: str) -> tuple[str, int]:
    """Click the version page's PDF control, as a person would: how the PDF was made, and the
    length of what was downloaded (as text: only to see that something came)."""
    status, page = browser.request("GET", f"/frameworks/{slug}/v1/")
    if status != 200:
        raise RuntimeError(f"the version page answered HTTP {status}")
    form = PDF_FORM.search(page)
    if form is None:  # before: a link that renders in the request
        status, body = browser.request("GET", PDF_LINK.search(page).group(1))
        if status != 200:
            raise RuntimeError(f"the PDF answered HTTP {status}")
        return "in the request", len(body)
    token = CSRF_INPUT.search(page).group(1)
    status, body = browser.request("POST", form.group(1), {"csrf_token": token})
    job = JOB_PATH.search(body)  # the redirect's body links to its target
    if status != 303 or job is None:
        raise RuntimeError(f"starting the PDF answered HTTP {status}: {body[:200]}")
    return "as a job", wait_for_job(browser, int(job.group(1)))


def wait_for_job(browser: Browser, job_id: int, timeout: float = 900) -> int:
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = browser.request("GET", f"/jobs/{job_id}/status")
        state = json.loads(body)
        if state["finished"]:
            if state["status"] != "done":
                raise RuntimeError(f"job {job_id} {state['status']}: {state['message']}")
            status, body = browser.request("GET", f"/jobs/{job_id}/download")
            if status != 200:
                raise RuntimeError(f"the job's download answered HTTP {status}")
            return len(body)
        time.sleep(0.5)
    raise RuntimeError(f"job {job_id} did not finish in {timeout} s")


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    print()
    print(f"Framework: {args.competencies} competencies x 12 levels (2 tracks), a PDF per round.")
    print(
        f"{OTHERS} clients of another person fetch pages meanwhile, {args.pause} s apart; "
        "failures are 5xx or errors."
    )
    print()
    print(f"{'round':<8}{'PDF made':<16}{'seconds':>8}{'requests':>10}{'failed':>8}{'slowest':>9}")
    for n, result in enumerate(rounds, start=1):
        print(
            f"{n:<8}{result.mode:<16}{result.seconds:>8.1f}{result.requests:>10}"
            f"{len(result.failures):>8}{result.slowest:>8.1f}s"
        )
    failures = [failure for result in rounds for failure in result.failures]
    total = sum(result.requests for result in rounds)
    print(f"Load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()
    print(f"Requests of the other person that failed: {len(failures)} of {total}")
    for failure in sorted(set(failures)):
        print(f"  {failures.count(failure)} x {failure}")


if __name__ == "__main__":
    main()
