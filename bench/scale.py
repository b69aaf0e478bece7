"""Issue 17: the key pages of a 2,000-person organisation on PostgreSQL, under load, against the
floor. Not a test: run it from the repository root and read the table.

    .venv/bin/python bench/scale.py [--quick] [--database-url URL] [--keep] [--explain]
                                    [--no-load] [--only WORDS] [--people N] [--evidence N]
                                    [--seconds S]

1. A throw-away database is created on the PostgreSQL server (default
   postgresql://postgres@127.0.0.1:5432; dropped at the end unless --keep; --database-url names
   an existing database to use instead, which is never dropped), migrated by the real
   `flask db upgrade` and, when it holds nobody yet, filled by bench/scale_data.py: 2,000
   people, 200,000 evidence items with tags, comments, kudos, confirmations and attachment rows,
   four published cycles and one in calibration with 300 cases in 10 sessions with votes
   (--quick: 10x smaller). The time it took is printed.
2. Each key page is fetched in-process, signed in as the person who would open it (a manager
   with reports, a candidate, the head of product, the session's facilitator), with the
   statements of its second view captured by SQLAlchemy's before_cursor_execute; the same pages
   are counted on an organisation generated 10x smaller and on the demo (`flask demo load`),
   each in a throw-away database of its own. The statements that differ are printed.
3. gunicorn serves the app (4 sync workers, production settings) and a bare Flask app (the floor:
   the page's exact SELECT statements replayed with their parameters on the same database, rows
   rendered by a precompiled Jinja template padded to the page's byte size), both loaded by the
   same client (wrk when installed, else Python processes with keep-alive connections).
   --no-load stops before this step.
4. --explain runs EXPLAIN (ANALYZE, BUFFERS) on every captured statement and prints the plans of
   the slowest ones, and every sequential scan of a big table.

Everything else happens in a scratch RUNGS_DATA_DIR, removed at the end; ./instance is never
touched. Needs a PostgreSQL server; `apt-get install wrk` for the preferred client.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402 - after the path is set

from bench.packets import free_port, stop, wait_until_serving  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
WORKERS = 4
THREADS, CONNECTIONS = 2, 8
TARGET = 0.3
BIG_TABLE_ROWS = 10_000
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
FOREIGN_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "FLASK_DEBUG", "RUNGS_ENV")
DEMO_PASSWORD = "rungs-demo-2026"  # noqa: S105 - app/demo's, printed by `flask demo load`


def main() -> None:
    args = parse_args()
    print(f"Command: {shlex.join([_shown_python(), *sys.argv])}  (in {Path.cwd()})")
    print(
        f"Machine: {os.cpu_count()} CPUs, load average at start "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + ". Wall-clock figures on this machine: on a shared one they are noisy."
    )
    scratch = Path(tempfile.mkdtemp(prefix="rungs-scale-"))
    databases = Databases(args.database_url, keep=args.keep, server=args.server)
    try:
        scale_url = databases.scale()
        started = time.monotonic()
        migrate(scale_url, scratch)
        migrated = time.monotonic() - started
        if has_people(scale_url):
            print(f"Reusing the organisation in {_safe(scale_url)} (migrated to head).")
        else:
            generated = fill(scale_url, scratch, args.people, args.evidence)
            seconds = time.monotonic() - started
            print(
                f"Generated in {seconds:.0f} s (migrations {migrated:.0f} s): "
                f"{generated.people:,} people, {generated.evidence:,} evidence items, "
                f"{sum(generated.rows.values()):,} rows in bulk. Database: {_safe(scale_url)}",
                flush=True,
            )
        analyze(scale_url)
        scale_pages = capture(scale_url, scratch, scale_data_password())
        small_url = databases.other("small")
        migrate(small_url, scratch)
        fill(small_url, scratch, max(20, args.people // 10), args.evidence // 10)
        small_pages = capture(small_url, scratch, scale_data_password())
        demo_url = databases.other("demo")
        migrate(demo_url, scratch)
        load_demo(demo_url, scratch)
        demo_pages = capture(demo_url, scratch, DEMO_PASSWORD)
        if args.explain:
            explain(scale_url, scale_pages, top=args.top)
        loaded = [page for page in scale_pages if _chosen(page, args.only)]
        results = [] if args.no_load else measure(scale_url, scratch, loaded, args.seconds)
        report(scale_pages, small_pages, demo_pages, results, args)
    finally:
        databases.drop()
        shutil.rmtree(scratch, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller, 3-second loads.")
    parser.add_argument(
        "--database-url", help="an existing PostgreSQL database: filled when empty, else reused"
    )
    parser.add_argument(
        "--server", default=SERVER, help=f"server for throw-away databases ({SERVER})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the throw-away databases")
    parser.add_argument("--people", type=int, help="people (2,000; 200 quick)")
    parser.add_argument("--evidence", type=int, help="evidence items (200,000; 20,000 quick)")
    parser.add_argument("--seconds", type=float, help="seconds of load per page (10; 3 quick)")
    parser.add_argument("--explain", action="store_true", help="print the slowest query plans")
    parser.add_argument("--no-load", action="store_true", help="query counts (and plans) only")
    parser.add_argument(
        "--only",
        action="append",
        metavar="WORDS",
        help="load only the pages whose name holds these words (repeatable; counts cover all)",
    )
    parser.add_argument("--top", type=int, default=3, help="plans printed per page (3)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    args.people = args.people or 2000 // scale
    args.evidence = args.evidence if args.evidence is not None else 200_000 // scale
    args.seconds = args.seconds or (3.0 if args.quick else 10.0)
    args.server = args.server.rstrip("/")
    return args


def _chosen(page: Page, only: list[str] | None) -> bool:
    return not only or any(words.lower() in page.label.lower() for words in only)


def _shown_python() -> str:
    try:
        return str(Path(sys.executable).relative_to(Path.cwd()))
    except ValueError:
        return sys.executable


def _safe(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def scale_data_password() -> str:
    import scale_data

    return scale_data.PASSWORD


# --- databases -----------------------------------------------------------------------------------


class Databases:
    """The scale database (given, or created) and the demo one (created), dropped at the end
    unless kept; a given database is never dropped."""

    def __init__(self, given: str | None, *, keep: bool, server: str = SERVER):
        self.given, self.keep, self.server = given, keep, server
        self.created: list[str] = []
        self.suffix = secrets.token_hex(3)

    def _admin(self):
        url = sa.make_url(self.given or self.server + "/postgres")
        url = url.set(drivername="postgresql+psycopg", database="postgres")
        return sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def _create(self, name: str) -> str:
        engine = self._admin()
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        self.created.append(name)
        base = sa.make_url(self.given or self.server + "/postgres")
        return base.set(database=name).render_as_string(hide_password=False)

    def scale(self) -> str:
        return self.given or self._create(f"rungs_scale_{self.suffix}")

    def other(self, kind: str) -> str:
        return self._create(f"rungs_scale_{kind}_{self.suffix}")

    def drop(self) -> None:
        if self.keep:
            if self.created:
                print("Kept: " + ", ".join(self.created))
            return
        engine = self._admin()
        with engine.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def child_env(url: str, scratch: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env.update(
        DATABASE_URL=url,
        RUNGS_DATA_DIR=str(scratch),
        FLASK_APP="app",
        SECRET_KEY=secrets.token_urlsafe(48),
        **more,
    )
    return env


def _flask(url: str, scratch: Path, *command: str) -> None:
    flask = [sys.executable, "-m", "flask", *command]
    done = subprocess.run(
        flask, cwd=ROOT, env=child_env(url, scratch), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def migrate(url: str, scratch: Path) -> None:
    _flask(url, scratch, "db", "upgrade")


def load_demo(url: str, scratch: Path) -> None:
    _flask(url, scratch, "demo", "load")


def app_for(url: str, scratch: Path):
    from app import create_app

    return create_app(
        {"ENV": "development"}, environ={"DATABASE_URL": url, "RUNGS_DATA_DIR": str(scratch)}
    )


def dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def fill(url: str, scratch: Path, people: int, evidence: int):
    import scale_data

    app = app_for(url, scratch)
    try:
        with app.app_context():
            return scale_data.generate(people=people, evidence=evidence)
    finally:
        dispose(app)


def has_people(url: str) -> bool:
    """Whether the database holds an organisation already (one this bench kept, say)."""
    engine = sa.create_engine(_psycopg(url))
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM users)").scalar()
    engine.dispose()
    return bool(found)


def analyze(url: str) -> None:
    """Fresh statistics after the bulk load, as autovacuum would have gathered by now."""
    engine = sa.create_engine(_psycopg(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def _psycopg(url: str) -> sa.URL:
    return sa.make_url(url).set(drivername="postgresql+psycopg")


# --- the pages and their statements -------------------------------------------------------------


@dataclass
class Page:
    label: str
    path: str
    email: str
    password: str
    signed_in_as: str
    statements: list[tuple[str, object]] = field(default_factory=list)  # every one sent
    size: int = 0

    @property
    def queries(self) -> int:
        return len(self.statements)

    @property
    def selects(self) -> list[tuple[str, object]]:
        return [(s, p) for s, p in self.statements if s.lstrip().upper().startswith("SELECT")]


def key_pages(password: str) -> list[Page]:
    """The key pages of the database of the current app, as the person who would open them:
    the open calibration session's first case's candidate's manager, the candidate (their own
    evidence), the head of product, the session's facilitator."""
    from app.extensions import db
    from app.models import (
        CalibrationSession,
        CyclePhase,
        Framework,
        FrameworkVersion,
        Level,
        PromotionCase,
        PromotionCycle,
        Role,
        User,
        VersionStatus,
    )

    def one(query):
        return db.session.execute(query).first()

    session = one(
        sa.select(CalibrationSession)
        .join(PromotionCycle, CalibrationSession.cycle_id == PromotionCycle.id)
        .join(PromotionCase, PromotionCase.session_id == CalibrationSession.id)
        .where(PromotionCycle.phase == CyclePhase.CALIBRATION)
        .order_by(CalibrationSession.id)
    )[0]
    case = one(
        sa.select(PromotionCase)
        .where(PromotionCase.session_id == session.id)
        .order_by(PromotionCase.id)
    )[0]
    manager = db.session.get(User, case.manager_id)
    facilitator = db.session.get(User, session.facilitator_id)
    head = one(sa.select(User).where(User.role == Role.HEAD).order_by(User.id))[0]
    slug, number = one(
        sa.select(Framework.slug, FrameworkVersion.number)
        .join(FrameworkVersion, FrameworkVersion.framework_id == Framework.id)
        .join(Level, Level.version_id == FrameworkVersion.id)
        .where(
            Level.id == case.current_level_id, FrameworkVersion.status == VersionStatus.PUBLISHED
        )
    ) or one(
        sa.select(Framework.slug, FrameworkVersion.number)
        .join(FrameworkVersion, FrameworkVersion.framework_id == Framework.id)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        .order_by(Framework.slug)
    )
    candidate = db.session.get(User, case.candidate_id)
    as_manager = (manager.email, password, "manager")
    return [
        Page("home", "/", *as_manager),
        Page("evidence list", "/evidence/", candidate.email, password, "candidate"),
        Page("growth (a report)", f"/growth/{case.candidate_id}", *as_manager),
        Page("team", "/team", *as_manager),
        Page("framework matrix", f"/frameworks/{slug}/v{number}/", head.email, password, "head"),
        Page(
            "calibration grid",
            f"/sessions/{session.id}",
            facilitator.email,
            password,
            "facilitator",
        ),
        Page("case page", f"/cases/{case.id}", head.email, password, "head"),
    ]


def capture(url: str, scratch: Path, password: str) -> list[Page]:
    """Each key page fetched twice in-process (the first view records its help as seen); the
    statements of the second view, with their parameters, and its size."""
    from sqlalchemy import event

    from app.extensions import db

    app = app_for(url, scratch)
    try:
        with app.app_context():
            pages = key_pages(password)
            engine = db.engine
        clients: dict[str, object] = {}
        for page in pages:
            client = clients.get(page.email) or _signed_in(app, page.email, password)
            clients[page.email] = client
            client.get(page.path)
            sent: list[tuple[str, object]] = []

            def record(_conn, _cursor, statement, parameters, _context, _many, sent=sent):
                sent.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", record)
            try:
                response = client.get(page.path)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            if response.status_code != 200:
                raise RuntimeError(f"{page.path} answered {response.status_code} in-process")
            page.statements, page.size = sent, len(response.data)
        return pages
    finally:
        dispose(app)


def _signed_in(app, email: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in as {email} failed (HTTP {answer.status_code})")
    return client


# --- EXPLAIN ------------------------------------------------------------------------------------


def explain(url: str, pages: list[Page], *, top: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT the pages sent; the slowest plans, and every
    sequential scan of a table with more than BIG_TABLE_ROWS rows."""
    engine = sa.create_engine(_psycopg(url))
    print("\nQuery plans on the generated database (EXPLAIN (ANALYZE, BUFFERS)):")
    with engine.connect() as connection:
        sizes = dict(
            connection.exec_driver_sql("SELECT relname, n_live_tup FROM pg_stat_user_tables").all()
        )
        for page in pages:
            plans = []
            for number, (statement, parameters) in enumerate(page.selects, 1):
                lines = [
                    row[0]
                    for row in connection.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    )
                ]
                took = float(re.search(r"Execution Time: ([\d.]+)", lines[-1]).group(1))
                plans.append((took, number, statement, lines))
            total = sum(p[0] for p in plans)
            print(f"\n== {page.label} {page.path}: {len(plans)} SELECTs, {total:.1f} ms in all")
            for took, number, statement, lines in sorted(plans, reverse=True)[:top]:
                print(f"-- #{number}, {took:.2f} ms: {_short(statement)}")
                print("\n".join("   " + line for line in lines))
            for _took, number, _statement, lines in plans:
                for line in lines:
                    scanned = re.search(r"Seq Scan on (\w+)", line)
                    if scanned and sizes.get(scanned.group(1), 0) > BIG_TABLE_ROWS:
                        rows = sizes[scanned.group(1)]
                        print(f"!! #{number}: Seq Scan on {scanned.group(1)} ({rows:,} rows)")
            connection.rollback()
    engine.dispose()


def _short(statement: str, width: int = 150) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Result:
    page: Page
    app: Load
    floor: Load

    @property
    def ratio(self) -> float:
        return self.app.rate / self.floor.rate if self.floor.rate else 0.0


def measure(url: str, scratch: Path, pages: list[Page], seconds: float) -> list[Result]:
    floor_data = scratch / "floor.pickle"
    floor_data.write_bytes(
        pickle.dumps(
            [(page.selects, page.size) for page in pages], protocol=pickle.HIGHEST_PROTOCOL
        )
    )
    (scratch / "floor_app.py").write_text(FLOOR_APP, encoding="utf-8")
    env = child_env(url, scratch, RUNGS_ENV="production", FLOOR_DATA=str(floor_data))
    app_port, floor_port = free_port(), free_port()
    server = start_gunicorn(env, app_port, "app:create_app()", ROOT, scratch / "app.log")
    floor = start_gunicorn(env, floor_port, "floor_app:app", scratch, scratch / "floor.log")
    results = []
    try:
        wait_until_serving(app_port, server, "/login")
        wait_until_serving(floor_port, floor, "/0")
        cookies: dict[str, str] = {}
        for number, page in enumerate(pages):
            if page.email not in cookies:
                cookies[page.email] = sign_in(app_port, page.email, page.password)
            status, body = get(app_port, page.path, cookies[page.email])
            if status != 200:
                raise RuntimeError(f"{page.path} answered HTTP {status} under gunicorn")
            floor_status, floor_body = get(floor_port, f"/{number}", "")
            if floor_status != 200:
                raise RuntimeError(f"floor /{number} answered HTTP {floor_status}")
            print(
                f"Loading {page.label} ({len(body):,} bytes; floor {len(floor_body):,})...",
                flush=True,
            )
            warm_up = max(3.0, seconds / 2)  # every worker past its first (cold) views
            load(app_port, page.path, cookies[page.email], warm_up)
            app_load = load(app_port, page.path, cookies[page.email], seconds)
            load(floor_port, f"/{number}", "", warm_up)
            floor_load = load(floor_port, f"/{number}", "", seconds)
            results.append(Result(page, app_load, floor_load))
    finally:
        stop(server)
        stop(floor)
    return results


FLOOR_APP = '''"""The floor: a bare Flask app replaying a page's SELECT statements with their
parameters and rendering the rows with a precompiled Jinja template of the page's size (values
cut where all of them would be longer, padded where shorter)."""

import os
import pickle

import sqlalchemy as sa
from flask import Flask
from jinja2 import Environment

with open(os.environ["FLOOR_DATA"], "rb") as data:
    PAGES = pickle.load(data)
engine = sa.create_engine(
    sa.make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
)
ROWS = (
    "<!doctype html><html><body>{% for rows in results %}<table>{% for row in rows %}<tr>"
    "{% for value in row %}<td>{{ (value|string)[:CAP] }}</td>{% endfor %}</tr>{% endfor %}"
    "</table>{% endfor %}"
)
environment = Environment(autoescape=True)


def replay(statements):
    with engine.connect() as connection:
        return [connection.exec_driver_sql(s, p).all() for s, p in statements]


def _template(statements, size):
    """Every value shown, cut to the longest length that keeps the page within its size, then
    padded to it exactly."""
    results = replay(statements)

    def compiled(cap, padding=""):
        source = ROWS.replace("CAP", str(cap)) + padding + "</body></html>"
        return environment.from_string(source)

    low, high = 1, max((len(str(v)) for rows in results for r in rows for v in r), default=1)
    while low < high:
        middle = (low + high + 1) // 2
        fits = len(compiled(middle).render(results=results).encode()) <= size
        low, high = (middle, high) if fits else (low, middle - 1)
    short = size - len(compiled(low).render(results=results).encode())
    return compiled(low, "<!--" + "x" * max(0, short - 7) + "-->" if short >= 7 else "")


TEMPLATES = [_template(statements, size) for statements, size in PAGES]
app = Flask(__name__)


@app.get("/<int:number>")
def page(number):
    statements, _size = PAGES[number]
    return TEMPLATES[number].render(results=replay(statements))
'''


def start_gunicorn(env, port: int, target: str, cwd: Path, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--keep-alive",
        "5",
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log),
        target,
    ]
    return subprocess.Popen(command, cwd=cwd, env=env)


def get(port: int, path: str, cookie: str, method="GET", form=None):
    """One request on a fresh connection: (status, body); Set-Cookie lines under "_cookies"."""
    import http.client
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        get.cookies = response.msg.get_all("Set-Cookie") or []
        return response.status, text
    finally:
        connection.close()


def sign_in(port: int, email: str, password: str) -> str:
    """A Cookie header of a session signed in through the real login form."""
    jar: dict[str, str] = {}

    def remember():
        for header in get.cookies:
            name, _, value = header.split(";", 1)[0].partition("=")
            jar[name.strip()] = value.strip()

    def header() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    status, page = get(port, "/login", "")
    remember()
    token = CSRF_INPUT.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"no login form (HTTP {status})")
    form = {"csrf_token": token.group(1), "email": email, "password": password}
    status, _ = get(port, "/login", header(), "POST", form)
    remember()
    if status != 302:
        raise RuntimeError(f"sign-in as {email} failed (HTTP {status})")
    return header()


WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "micros": %d, "p50": %d, "p95": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def load(port: int, path: str, cookie: str, seconds: float) -> Load:
    if shutil.which("wrk"):
        return _wrk(port, path, cookie, seconds)
    return _python_load(port, path, cookie, seconds)


def _wrk(port: int, path: str, cookie: str, seconds: float) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = [
            "wrk",
            "--timeout",
            "60s",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds:g}s",
            "-s",
            script.name,
        ]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        done = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Load(
        requests=figures["requests"],
        seconds=figures["micros"] / 1e6,
        p50_ms=figures["p50"] / 1000,
        p95_ms=figures["p95"] / 1000,
        errors=figures["errors"],
    )


def _python_load(port: int, path: str, cookie: str, seconds: float) -> Load:
    """The same load without wrk: CONNECTIONS processes, each with one kept-alive connection."""
    from multiprocessing import Pool

    with Pool(CONNECTIONS) as pool:
        parts = pool.starmap(_client, [(port, path, cookie, seconds)] * CONNECTIONS)
    latencies = [x for part, _errors in parts for x in part]
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return Load(
        requests=len(latencies),
        seconds=seconds,
        p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
        p95_ms=cuts[18] * 1000 if latencies else 0.0,
        errors=sum(errors for _part, errors in parts),
    )


def _client(port: int, path: str, cookie: str, seconds: float) -> tuple[list[float], int]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            connection.close()
            ok = False
        if ok:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
    connection.close()
    return latencies, errors


# --- the table -----------------------------------------------------------------------------------


def report(scale: list[Page], small: list[Page], demo: list[Page], results, args) -> None:
    client = (
        f"wrk {THREADS} threads x {CONNECTIONS} connections"
        if shutil.which("wrk")
        else f"{CONNECTIONS} Python client processes (keep-alive)"
    )
    print()
    print(
        f"gunicorn, {WORKERS} sync workers (production settings); {client}; {args.seconds:g} s "
        "per page after a warm-up; the floor served the same way. Queries: per page view at "
        "scale, on the 10x smaller generated organisation, on the demo."
    )
    print(
        f"{'page':<19}{'as':<12}{'p50 ms':>8}{'p95 ms':>8}{'req/s':>8}{'queries':>8}"
        f"{'1/10':>6}{'demo':>6}{'floor r/s':>10}{'ratio':>7}{'errors':>7}"
    )
    loads = {r.page.label: r for r in results}
    for page, small_page, demo_page in zip(scale, small, demo, strict=True):
        result = loads.get(page.label)
        figures = (
            f"{result.app.p50_ms:>8.1f}{result.app.p95_ms:>8.1f}{result.app.rate:>8.1f}"
            if result
            else f"{'-':>8}" * 3
        )
        floor = (
            f"{result.floor.rate:>10.1f}{result.ratio:>7.2f}"
            f"{result.app.errors + result.floor.errors:>7}"
            if result
            else f"{'-':>10}{'-':>7}{'-':>7}"
        )
        print(
            f"{page.label:<19}{page.signed_in_as:<12}{figures}{page.queries:>8}"
            f"{small_page.queries:>6}{demo_page.queries:>6}{floor}"
        )
    below = [r.page.label for r in results if r.ratio < TARGET]
    if results:
        verdict = "met." if not below else "MISSED by " + ", ".join(below) + "."
        which = "every page" if len(results) == len(scale) else "every page loaded"
        print(f"Target: {which} at or above {TARGET} of its floor: {verdict}")
    print("Paths: " + "; ".join(f"{p.label} {p.path}" for p in scale))
    grown = [(p, s) for p, s in zip(scale, small, strict=True) if p.queries != s.queries]
    for page, small_page in grown:
        print(
            f"QUERY COUNT DIFFERS WITH THE SIZE: {page.label}: {small_page.queries} at 1/10, "
            f"{page.queries} at scale"
        )
        for where, statement in _differences(small_page, page, "1/10"):
            print(f"   {where}: {_short(statement)}")
    if not grown:
        print("Query counts: the same at scale and at a tenth of it, page by page.")
    for page, demo_page in zip(scale, demo, strict=True):
        if page.queries != demo_page.queries:
            print(
                f"Differs from the demo: {page.label}: {demo_page.queries} on the demo "
                f"({demo_page.path}), {page.queries} at scale: statements of one only:"
            )
            for where, statement in _differences(demo_page, page, "demo"):
                print(f"   {where}: {_short(statement)}")


def _differences(other: Page, scale: Page, name: str) -> list[tuple[str, str]]:
    """Statements (by their text) sent more often on one database than on the other."""
    from collections import Counter

    there = Counter(s for s, _p in other.statements)
    here = Counter(s for s, _p in scale.statements)
    return [(f"{name} only", s) for s in (there - here).elements()] + [
        ("scale only", s) for s in (here - there).elements()
    ]


if __name__ == "__main__":
    main()
