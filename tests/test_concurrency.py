"""Several processes updating the same row lose no update, on SQLite and on PostgreSQL."""

import multiprocessing

from sqlalchemy import text

from app.extensions import db
from tests.concurrency_worker import increment_name_counter

PROCESSES = 4
TIMES = 25


def test_concurrent_read_modify_write_loses_nothing(app, make):
    person = make.person(name="Counter 0")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        retries = pool.starmap(increment_name_counter, [(uri, person.id, TIMES)] * PROCESSES)
    assert make.get(person).name == f"Counter {PROCESSES * TIMES}"
    # Every retry was a conflict the version check caught instead of a silent overwrite.
    assert make.get(person).version == 1 + PROCESSES * TIMES, retries


def test_sqlite_connections_are_configured_for_concurrency(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as connection:
            pragma = lambda name: connection.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 5000
