"""Benchmark for issue 6: packet render time against bare WeasyPrint, and evidence-page throughput
while packets render. Not a test: run it from the repository root and read the table.

    .venv/bin/python bench/packets.py [--quick] [--seconds N]

Everything happens in a scratch RUNGS_DATA_DIR (a temporary folder with its own SQLite database,
built by the real migrations), removed at the end; ./instance is never touched.

1. The committee packet of a realistic case (12 competencies, 60 shared evidence items, built by
   tests/packet_helpers.py) is rendered through the app's own path (assemble → html →
   render_html), interleaved with the floor: the same final HTML rendered by bare WeasyPrint with
   the same stylesheet, fonts, FontConfiguration handling and tagging, and no app code.
2. gunicorn serves the app on a free local port; client threads, each signed in through the real
   login form, fetch the evidence page for a fixed time: idle, with two packet renders running
   continuously in two other processes (a fresh `flask packets render` each time, like a job's
   fresh interpreter), and idle again.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.packet_helpers builds the case the packet tests use

from app.services.jobs.runner import NICENESS  # noqa: E402 - after the path is set

PDF_ASSETS = ROOT / "app" / "static" / "pdf"
STYLESHEET = "packet.css"
WORKERS = 2
CLIENTS = 4
RENDERERS = 2
PACKET_TARGET = 1.2
KEPT_TARGET = 0.5
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
# Settings a caller's environment might carry that would point the processes elsewhere.
FOREIGN_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "FLASK_DEBUG", "RUNGS_ENV")


def main() -> None:
    args = parse_args()
    load_at_start = os.getloadavg()
    print(f"Command: {shlex.join([_shown_python(), *sys.argv])}  (in {Path.cwd()})")
    print(
        f"Machine: {os.cpu_count()} CPUs, load average at start "
        + " ".join(f"{value:.2f}" for value in load_at_start)
        + ". The figures are wall-clock on this machine: on a shared one they are noisy."
    )
    scratch = Path(tempfile.mkdtemp(prefix="rungs-bench-"))
    try:
        app = build_database(scratch)
        case = build_case(app)
        print(f"Scratch data in {scratch}; case {case.case_id} built. Rendering...", flush=True)
        renders = measure_renders(app, case, repeats=args.repeats)
        print("Serving and loading the evidence page...", flush=True)
        load = measure_load(scratch, case, seconds=args.seconds)
        dispose(app)
        report(case, renders, load, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repetitions: a smoke run.")
    parser.add_argument(
        "--seconds", type=float, default=None, help="Seconds per load phase (default 15; 4 quick)."
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="Paired packet/floor renders (7; 2 quick)."
    )
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 15.0
    if args.repeats is None:
        args.repeats = 2 if args.quick else 7
    return args


def _shown_python() -> str:
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return sys.executable


# --- the scratch database and case -------------------------------------------------------------


def settings(scratch: Path) -> dict:
    return {"ENV": "development", "RUNGS_DATA_DIR": str(scratch)}


def child_env(scratch: Path) -> dict[str, str]:
    """The environment of gunicorn and the renders: the scratch data, production settings."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env.update(
        RUNGS_ENV="production",
        RUNGS_DATA_DIR=str(scratch),
        SECRET_KEY=secrets.token_urlsafe(48),
        FLASK_APP="app",
    )
    return env


def build_database(scratch: Path):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(settings(scratch), environ={})
    with app.app_context():
        upgrade()  # what `flask db upgrade` does
    return app


@dataclass(frozen=True)
class Case:
    case_id: int
    evidence_id: int  # shared, with a comment, kudos and a corroboration
    email: str
    password: str


def build_case(app) -> Case:
    from tests import packet_helpers
    from tests.factories import Factory

    org = Factory(app).organisation()
    built = packet_helpers.realistic_case(app, org, items=60)
    return Case(built.case_id, built.evidence_ids[0], org.pm_a1.email, org.pm_a1.password)


def dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- 1 and 2: the packet against the floor -----------------------------------------------------


@dataclass
class Renders:
    packet: list[float] = field(default_factory=list)
    assemble: list[float] = field(default_factory=list)
    html: list[float] = field(default_factory=list)
    render_html: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    untagged: list[float] = field(default_factory=list)
    competencies: int = 0
    evidence: int = 0
    pages: int = 0
    size: int = 0
    same_bytes: bool = False


def measure_renders(app, case: Case, *, repeats: int) -> Renders:
    from app.services import packets

    result = Renders()
    with app.app_context():
        data = packets.assemble(case.case_id, "committee")
        document = packets.html(data)
        pdf, result.pages = packets.render_html(document)  # also warms WeasyPrint up
    result.competencies, result.evidence, result.size = (
        len(data.competencies),
        len(data.appendix),
        len(pdf),
    )
    result.same_bytes = bare_weasyprint(document) == pdf
    bare_weasyprint(document, tags=False)
    for n in range(repeats):
        runs = [lambda: _app_render(app, case.case_id, result), lambda: _floor(document, result)]
        for run in runs if n % 2 == 0 else reversed(runs):  # interleaved, alternating order
            run()
        started = time.perf_counter()
        bare_weasyprint(document, tags=False)
        result.untagged.append(time.perf_counter() - started)
    return result


def _app_render(app, case_id: int, result: Renders) -> None:
    """packets.render(case_id, view), timed step by step."""
    from app.services import packets

    with app.app_context():
        t0 = time.perf_counter()
        data = packets.assemble(case_id, "committee")
        t1 = time.perf_counter()
        document = packets.html(data)
        t2 = time.perf_counter()
        packets.render_html(document)
        t3 = time.perf_counter()
    result.assemble.append(t1 - t0)
    result.html.append(t2 - t1)
    result.render_html.append(t3 - t2)
    result.packet.append(t3 - t0)


def _floor(document: str, result: Renders) -> None:
    started = time.perf_counter()
    bare_weasyprint(document)
    result.floor.append(time.perf_counter() - started)


def bare_weasyprint(document: str, *, tags: bool = True) -> bytes:
    """The app's HTML and stylesheet through WeasyPrint alone: the fonts come from the same files
    (file: URLs instead of the app's rungs-asset: fetcher), with one FontConfiguration shared by
    the stylesheet and the render, and the same tagging as app/infra/pdf.py."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    css_text = (PDF_ASSETS / STYLESHEET).read_text(encoding="utf-8")
    css_text = css_text.replace("rungs-asset:", PDF_ASSETS.as_uri() + "/")
    fonts = FontConfiguration()
    css = CSS(string=css_text, base_url=None, font_config=fonts)
    return HTML(string=document, base_url=None).write_pdf(
        stylesheets=[css], font_config=fonts, pdf_tags=tags
    )


# --- 3: the evidence page under load -----------------------------------------------------------


class Browser:
    """One client: its own connection (kept alive when the server allows) and cookies."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        from urllib.parse import urlencode

        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # a kept-alive connection the server closed: reopen
                if attempt == 2:
                    raise
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, text

    def sign_in(self, email: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"no login form (HTTP {status})")
        form = {"csrf_token": token.group(1), "email": email, "password": password}
        status, _ = self.request("POST", "/login", form)
        if status != 302:
            raise RuntimeError(f"sign-in failed (HTTP {status})")

    def close(self) -> None:
        self.connection.close()


@dataclass
class Phase:
    name: str
    loaded: bool = False  # packets render meanwhile
    started: float = 0.0  # monotonic
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    renders: list[float] = field(default_factory=list)  # seconds per render finished meanwhile

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass
class Load:
    path: str
    phases: list[Phase]
    render_failures: list[str]

    @property
    def kept(self) -> float:
        idle = statistics.mean(phase.rate for phase in self.phases if not phase.loaded)
        busy = next(phase for phase in self.phases if phase.loaded)
        return busy.rate / idle if idle else 0.0


def measure_load(scratch: Path, case: Case, *, seconds: float) -> Load:
    env = child_env(scratch)
    port = free_port()
    path = f"/evidence/{case.evidence_id}"
    server = start_gunicorn(env, port, scratch)
    browsers: list[Browser] = []
    try:
        wait_until_serving(port, server)
        for _ in range(CLIENTS):
            browser = Browser(port)
            browser.sign_in(case.email, case.password)
            status, _ = browser.request("GET", path)
            if status != 200:
                raise RuntimeError(f"{path} answered HTTP {status} to a signed-in client")
            browsers.append(browser)
        drive(browsers, path, min(2.0, seconds))  # warm the workers up
        phases = [drive(browsers, path, seconds, name="idle, before")]
        renderers = Renderers(env, scratch, case.case_id)
        renderers.start()
        try:
            renderers.wait_until_rendering()
            busy = drive(browsers, path, seconds, name=f"with {RENDERERS} packet renders")
            busy.loaded = True
            busy.renders = renderers.finished_between(busy)
        finally:
            renderers.stop()
        phases.append(busy)
        phases.append(drive(browsers, path, seconds, name="idle, after"))
        return Load(path, phases, renderers.failures)
    finally:
        for browser in browsers:
            browser.close()
        stop(server)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, scratch: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(scratch / "gunicorn.log"),
        "app:create_app()",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_until_serving(
    port: int, server: subprocess.Popen, path: str = "/login", timeout: float = 60
) -> None:
    """Until `path` answers 200 (raises when the server stops or a minute passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit code {server.returncode})")
        try:
            status, _ = Browser(port).request("GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drive(browsers: list[Browser], path: str, seconds: float, *, name: str = "warm-up") -> Phase:
    """Every browser fetches `path` back to back until the time is up."""
    phase = Phase(name)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(browser: Browser) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, _ = browser.request("GET", path)
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    phase.latencies.append(elapsed)
                else:
                    phase.errors += 1

    threads = [threading.Thread(target=client, args=(browser,)) for browser in browsers]
    phase.started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - phase.started
    return phase


def _as_a_job() -> None:
    os.nice(NICENESS)


class Renderers:
    """RENDERERS loops, each rendering the packet again and again in a fresh process."""

    def __init__(self, env: dict[str, str], scratch: Path, case_id: int):
        self.env, self.scratch, self.case_id = env, scratch, case_id
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.done: list[tuple[float, float]] = []  # (started, finished), monotonic
        self.failures: list[str] = []
        self.current: dict[int, subprocess.Popen] = {}
        self.threads = [threading.Thread(target=self._loop, args=(n,)) for n in range(RENDERERS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_until_rendering(self) -> None:
        """Past the first process's start-up (imports), so the loaded phase sees steady work."""
        time.sleep(2.5)

    def _loop(self, number: int) -> None:
        output = self.scratch / f"render-{number}.pdf"
        command = [
            sys.executable,
            "-m",
            "flask",
            "packets",
            "render",
            str(self.case_id),
            "-o",
            str(output),
            "--view",
            "committee",
        ]
        while not self.halt.is_set():
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                # the priority the job runner gives every render (app/services/jobs/runner.py)
                preexec_fn=_as_a_job,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            with self.lock:
                self.current[number] = process
            out, _ = process.communicate()
            with self.lock:
                del self.current[number]
                if process.returncode == 0:
                    self.done.append((started, time.monotonic()))
                elif not self.halt.is_set():
                    self.failures.append(out.strip().splitlines()[-1] if out.strip() else "?")

    def stop(self) -> None:
        self.halt.set()
        with self.lock:
            running = list(self.current.values())
        for process in running:
            stop(process)
        for thread in self.threads:
            thread.join()

    def finished_between(self, phase: Phase) -> list[float]:
        end = phase.started + phase.seconds
        with self.lock:
            return [b - a for a, b in self.done if phase.started <= b <= end]


# --- the table ---------------------------------------------------------------------------------


def report(case: Case, renders: Renders, load: Load, args: argparse.Namespace) -> None:
    ratios = [p / f for p, f in zip(renders.packet, renders.floor, strict=True)]
    untagged = [p / f for p, f in zip(renders.packet, renders.untagged, strict=True)]
    ratio = statistics.median(ratios)
    print()
    print(
        f"Packet: case {case.case_id}, committee view, {renders.competencies} competencies, "
        f"{renders.evidence} evidence items, {renders.pages} pages, {renders.size:,} bytes; "
        f"bare WeasyPrint's PDF is {'byte-identical' if renders.same_bytes else 'NOT identical'}."
    )
    print(f"{'Render (' + str(args.repeats) + ' interleaved pairs)':<58}{'median':>10}{'min':>10}")
    rows = [
        ("packet: assemble + html + render_html", renders.packet),
        ("  assemble (database → PacketData)", renders.assemble),
        ("  html (Jinja, chart)", renders.html),
        ("  render_html (safe fetcher + WeasyPrint)", renders.render_html),
        ("floor: bare WeasyPrint, same HTML, CSS, fonts, tags", renders.floor),
        ("(info) bare WeasyPrint without pdf_tags", renders.untagged),
    ]
    for label, values in rows:
        print(f"{label:<58}{statistics.median(values):>9.3f}s{min(values):>9.3f}s")
    verdict = "met" if ratio <= PACKET_TARGET else "MISSED"
    print(
        f"{'ratio packet / floor (per pair)':<58}{ratio:>10.3f}{min(ratios):>10.3f}"
        f"   target ≤ {PACKET_TARGET}: {verdict}"
    )
    print(
        f"{'(info) ratio packet / untagged floor':<58}"
        f"{statistics.median(untagged):>10.3f}{min(untagged):>10.3f}"
    )
    print()
    print(
        f"Evidence page GET {load.path} signed in as its owner: gunicorn, {WORKERS} sync workers "
        f"(production settings), {CLIENTS} client threads, {args.seconds:g} s per phase"
    )
    print(f"{'phase':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}  renders done")
    for phase in load.phases:
        p50, p95 = _percentiles(phase.latencies)
        done = (
            f"{len(phase.renders)} (mean {statistics.mean(phase.renders):.1f} s each)"
            if phase.renders
            else ("0" if phase.loaded else "-")
        )
        print(f"{phase.name:<34}{phase.rate:>9.1f}{p50:>9.1f}{p95:>9.1f}{phase.errors:>8}  {done}")
    verdict = "met" if load.kept >= KEPT_TARGET else "MISSED"
    print(
        f"{'kept while rendering (÷ mean idle)':<34}{load.kept:>9.2f}"
        f"   target ≥ {KEPT_TARGET}: {verdict}"
    )
    if load.render_failures:
        print(f"Render failures: {len(load.render_failures)}; last: {load.render_failures[-1]}")
    print(
        "Renders: each a fresh `python -m flask packets render` process (import, app, render), "
        "as a job runs in a fresh interpreter."
    )


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] * 1000 if values else 0.0,) * 2
    cuts = statistics.quantiles(values, n=20)
    return statistics.median(values) * 1000, cuts[18] * 1000


if __name__ == "__main__":
    main()
