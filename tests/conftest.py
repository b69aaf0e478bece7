"""Fixtures: one migrated database per run (SQLite or TEST_DATABASE_URL), emptied per test.

The suite runs in two processes (pytest-xdist, `-n 2` in pyproject.toml): each has its own
SQLite file, or its own PostgreSQL database beside the one TEST_DATABASE_URL names.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, exists, inspect, literal, select, union_all, update
from sqlalchemy.engine import URL, make_url

from app import create_app
from app.extensions import db
from app.models import Base, User
from tests.clock import midday
from tests.factories import Factory

pytest_plugins = [
    "tests.mail_helpers",  # the smtp_server and mail_on fixtures
    "tests.sso_provider",  # oidc: a real OpenID Provider on loopback (started when used)
]

# Only the sequences a test used: a restarted one has no last value until it is used again, and
# restarting all sixty-odd after every test was half the time of emptying the tables.
RESTART_SEQUENCES = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT sequencename FROM pg_sequences
                WHERE schemaname = 'public' AND last_value IS NOT NULL LOOP
        EXECUTE format('ALTER SEQUENCE %%I RESTART', name);
    END LOOP;
END $$;
"""
# The tables, those that others refer to last, and which of them hold rows, asked in one
# statement: a test leaves rows in a few of the sixty-odd, and a DELETE for each one took 18 ms
# after a test that made an organisation on PostgreSQL (11 ms this way; 3.6 and 1.9 on SQLite).
TABLES_LAST_FIRST = list(reversed(Base.metadata.sorted_tables))
TABLES_WITH_ROWS = union_all(
    *(select(literal(table.name)).where(exists().select_from(table)) for table in TABLES_LAST_FIRST)
)
CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Client(FlaskClient):
    """A test client that fills in the CSRF token the way a browser form would."""

    def csrf_token(self) -> str:
        page = self.get("/login").get_data(as_text=True)
        found = CSRF_INPUT.search(page)
        if found is None:  # signed in: /login redirects, so read it from the home page
            found = CSRF_INPUT.search(self.get("/").get_data(as_text=True))
        assert found is not None, "no CSRF token on the page"
        return found.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = {"csrf_token": self.csrf_token(), **(data or {})}
        return self.post(url, data=data, **kwargs)


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'rungs-test.db'}"


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory, worker_id):
    url = database_url(tmp_path_factory.mktemp("db"))
    if worker_id == "master" or not url.startswith("postgresql"):
        yield url
        return
    # PostgreSQL under xdist: a database of this worker's own on the same server.
    own = make_url(url)
    with new_database(own, f"{own.database}_{worker_id}") as created:
        yield created.render_as_string(hide_password=False)


@contextlib.contextmanager
def new_database(server: URL, name: str) -> Iterator[URL]:
    """A new PostgreSQL database `name` on `server` (one of that name left by an earlier run is
    dropped first), dropped again afterwards; its URL. Its commits do not wait for the WAL to
    reach the disk (no test outlives a crash), which they otherwise do thousands of times a run."""
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# The modules that take longest (20 s or more in a pass, measured with --durations on both
# databases on 2026-12-06), longest first: pytest-xdist's loadscope hands modules to the workers
# in collection order, and one of these handed out last kept one worker busy for minutes while
# the other idled.
LONGEST_FIRST = (
    "tests/web/test_bad_input.py",
    "tests/browser/test_assessment_autosave.py",
    "tests/test_jobs_rq.py",
    "tests/services/test_packet_jobs.py",
    "tests/test_backups.py",
    "tests/browser/test_phone.py",
    "tests/browser/test_promotion_cycle.py",
    "tests/test_upgrades.py",
    "tests/browser/test_framework_editor.py",
    "tests/web/test_evidence_xss.py",
    "tests/web/test_get_writes_nothing.py",
    "tests/api/test_schemathesis.py",
    "tests/services/test_jobs.py",
    "tests/browser/test_framework_pages.py",
    "tests/test_move.py",
    "tests/browser/test_sign_in.py",
    "tests/services/test_sign_in_concurrency.py",
    "tests/services/test_policy_rules.py",
    "tests/web/test_packet_pages.py",
    "tests/services/test_password_reset_concurrency.py",
    "tests/test_migrations.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    first = {path: rank for rank, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def empty_postgres():
    """The URL of a new, empty PostgreSQL database (dropped after the test), on the server
    TEST_DATABASE_URL names or the local one: in both passes, for tests that move, restore or
    upgrade into PostgreSQL whatever the suite's own database is."""
    server = make_url(os.environ.get("TEST_DATABASE_URL") or POSTGRES_SERVER)
    server = server.set(drivername="postgresql+psycopg")
    with new_database(server, f"rungs_empty_{os.getpid()}_{secrets.token_hex(4)}") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_uri, tmp_path_factory):
    """The app, on a database built by the real migrations (not create_all)."""
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "RUNGS_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        },
        environ={},
    )
    app.test_client_class = Client
    with app.app_context():
        _drop_everything()
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _drop_everything() -> None:
    """Start from an empty database even when TEST_DATABASE_URL points at a used one."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite: a new file in a temporary folder for every run
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")


@pytest.fixture(autouse=True)
def midday_clock(request):
    """Tests marked `midday` (or in a module that is) run at noon UTC of tests.clock.TODAY."""
    if request.node.get_closest_marker("midday") is None:
        yield None
        return
    with midday() as day:
        yield day


@pytest.fixture(autouse=True)
def _empty_tables(app):
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            used = set(connection.scalars(TABLES_WITH_ROWS))
            if User.__tablename__ in used:
                connection.execute(update(User).values(manager_id=None, level_id=None))
            for table in TABLES_LAST_FIRST:
                if table.name in used:
                    connection.execute(delete(table))
            if connection.dialect.name == "postgresql":
                # Ids start at 1 again, as they do on SQLite. (TRUNCATE … RESTART IDENTITY did
                # both, but makes new files for every table and index: it was most of the time
                # of the PostgreSQL pass.)
                connection.exec_driver_sql(RESTART_SEQUENCES)


@pytest.fixture
def make_app(app):
    """Build more apps on the suite's database (another worker, extra routes); closed after."""
    built = []

    def build(**overrides):
        settings = {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
        other = create_app({**settings, **overrides}, environ={})
        other.test_client_class = Client
        built.append(other)
        return other

    yield build
    for other in built:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for service tests (web tests must not hold one open)."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def make(app) -> Factory:
    return Factory(app)


@pytest.fixture
def org(make):
    """A small organisation: head → two managers → PMs, one mentor across teams."""
    return make.organisation()


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())
