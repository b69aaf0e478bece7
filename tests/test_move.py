"""`flask db move-to`: a SQLite Rungs (the demo plus a row in every table, thousands in all) moves
to an empty PostgreSQL database exactly, and every unsafe target is refused, leaving it as it was.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate.cli import db as db_group

from app import create_app
from app.extensions import db
from app.models import Evidence, User
from app.move.cli import migrations_upgrader
from app.services.database import inventory
from app.services.database import move as moving
from tests import move_data
from tests.factories import Factory

EVIDENCE = 4_500  # more than two of the move's batches


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The SQLite Rungs every test here moves (read only: nothing writes to it)."""
    app = move_data.sqlite_rungs(tmp_path_factory.mktemp("move-source"), evidence=EVIDENCE)
    yield app
    move_data.close(app)


def move_to(app, url) -> tuple[int, str]:
    target = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    result = app.test_cli_runner().invoke(db_group, ["move-to", target])
    return result.exit_code, result.output


summaries = inventory.summarise_at


def test_every_table_arrives_equal_once_and_the_app_carries_on(source, empty_postgres):
    code, output = move_to(source, empty_postgres)
    assert code == 0, output

    before = summaries(source.config["SQLALCHEMY_DATABASE_URI"])
    after = summaries(empty_postgres)
    assert after == before
    assert all(table.rows for table in before[1].values()), "a table was never filled"
    assert sum(table.rows for table in before[1].values()) > 7_500
    assert "every table matches" in output
    assert "Running upgrade" not in output  # Alembic's INFO lines are quiet during the move
    assert "Warning" not in output  # no password in the URL, no warning
    assert source.config["RUNGS_DATA_DIR"] in output
    assert "set DATABASE_URL" in output
    for name in before[1]:
        assert f"\n{name} " in output  # the comparison table names every table

    code, output = move_to(source, empty_postgres)  # run twice: refused, nothing changed
    assert code != 0
    assert f"already holds a Rungs database (revision {before[0]}): a move goes only" in output
    assert summaries(empty_postgres) == after

    moved = move_data.app_on(empty_postgres, source.config["RUNGS_DATA_DIR"])
    try:
        _sequences_continue(moved)
        _the_app_reads_and_writes(source, moved)
    finally:
        move_data.close(moved)


def _sequences_continue(moved) -> None:
    with moved.app_context(), db.engine.connect() as connection:
        serials = 0
        for table in inventory.reflect(connection):
            if "id" not in table.c:
                continue
            sequence = connection.execute(
                sa.select(sa.func.pg_get_serial_sequence(table.name, "id"))
            ).scalar()
            last = connection.execute(
                sa.text("SELECT pg_sequence_last_value(CAST(:s AS regclass))"), {"s": sequence}
            ).scalar()
            largest = connection.execute(sa.select(sa.func.max(table.c.id))).scalar()
            assert last == largest, table.name
            serials += 1
        assert serials > 40


def _the_app_reads_and_writes(source, moved) -> None:
    with source.app_context():
        item = db.session.scalars(sa.select(Evidence).order_by(Evidence.revision.desc())).first()
        old = (item.id, item.revision, item.title, item.created_at)
        source_names = db.session.scalars(sa.select(User.name).order_by(User.id)).all()
        last_user = db.session.scalar(sa.select(sa.func.max(User.id)))
        db.session.remove()
    with moved.app_context():
        item = db.session.get(Evidence, old[0])
        assert (item.id, item.revision, item.title, item.created_at) == old
        assert item.created_at.tzinfo is not None
        item.title = "Edited after the move ✓"
        db.session.commit()
        assert item.revision == old[1] + 1  # the version counter carried on
        stored = db.session.execute(sa.text("SELECT created_at FROM evidence LIMIT 1")).scalar()
        assert isinstance(stored, datetime) and stored.utcoffset() is not None
        names = db.session.scalars(sa.select(User.name).order_by(User.id)).all()
        assert names == source_names and "Chloé Martin" in names
        db.session.remove()
    person = Factory(moved).person(name="Joined after the move")
    assert person.id == last_user + 1  # the id sequence carried on after the copied ids


def test_a_target_with_tables_is_refused_and_left_alone(source, empty_postgres):
    engine = sa.create_engine(empty_postgres)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE stray (id integer)")
        connection.exec_driver_sql("INSERT INTO stray VALUES (7)")

    code, output = move_to(source, empty_postgres)

    assert code != 0
    assert "not empty (tables: stray)" in output
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == ["stray"]
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///elsewhere.db", "must be a PostgreSQL database (postgresql://…), not sqlite"),
        ("no url at all", "not a database URL"),
        ("postgresql://postgres@127.0.0.1:1/rungs", "Cannot reach the target database"),
        ("postgresql://postgres@127.0.0.1", "names no database"),
        ("postgresql://u:pw@h:notaport/db", "not a database URL"),
    ],
)
def test_a_target_that_is_not_a_reachable_postgresql_database_is_refused(source, url, message):
    code, output = move_to(source, url)

    assert code != 0
    assert message in output
    assert "Traceback" not in output


def test_the_current_database_is_not_a_target(empty_postgres, tmp_path):
    here = move_data.app_on(empty_postgres, tmp_path)
    try:
        code, output = move_to(here, empty_postgres.set(drivername="postgresql"))
    finally:
        move_data.close(here)

    assert code != 0
    assert "The target is the current database" in output


def test_a_database_never_migrated_is_not_moved(empty_postgres, tmp_path):
    bare = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/new.db"}, environ={}
    )
    try:
        code, output = move_to(bare, empty_postgres)
    finally:
        move_data.close(bare)

    assert code != 0
    assert "no known schema revision (none); run `flask db upgrade`" in output
    assert summaries(empty_postgres) == (None, {})


def test_the_suite_database_moves_too(app, org, empty_postgres):
    """On the PostgreSQL pass this is a move from PostgreSQL to PostgreSQL."""
    code, output = move_to(app, empty_postgres)

    assert code == 0, output
    assert summaries(empty_postgres) == summaries(app.config["SQLALCHEMY_DATABASE_URI"])


def test_a_table_that_arrives_different_is_named_and_nothing_is_kept(
    one_person, empty_postgres, tmp_path, monkeypatch
):
    app = _one_person_rungs(one_person, tmp_path)
    real = inventory.summarise

    def off_by_one_on_postgresql(connection, names=None):
        found = real(connection, names)
        if connection.dialect.name == "postgresql" and connection.engine.url == empty_postgres:
            found["users"] = inventory.TableSummary(rows=2, sha256=found["users"].sha256)
        return found

    monkeypatch.setattr(inventory, "summarise", off_by_one_on_postgresql)
    try:
        code, output = move_to(app, empty_postgres)
    finally:
        move_data.close(app)

    assert code != 0
    assert "users                                 1          2" in output
    assert "The copy differs from the current database in users" in output
    monkeypatch.undo()
    assert summaries(empty_postgres) == (None, {})


def test_a_target_the_user_may_not_write_to_is_refused_without_a_traceback(
    empty_postgres, tmp_path
):
    admin = sa.create_engine(empty_postgres, isolation_level="AUTOCOMMIT")
    role = f"reader_{empty_postgres.database[-8:]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD 'reader'")
        connection.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    app = move_data.sqlite_rungs(tmp_path, demo_org=False, fill=False)
    try:
        code, output = move_to(app, empty_postgres.set(username=role, password="reader"))
    finally:
        move_data.close(app)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()

    assert code != 0
    assert "The move failed, and the target was left empty: permission denied" in output
    assert "Traceback" not in output


def test_a_password_in_the_url_is_warned_about_and_never_printed(source):
    code, output = move_to(source, "postgresql://postgres:s3cret-pw@127.0.0.1:1/rungs")

    assert code != 0
    assert "Warning: the URL holds a password" in output
    assert "PGPASSWORD or ~/.pgpass" in output
    assert "s3cret-pw" not in output


@pytest.fixture(scope="module")
def one_person(tmp_path_factory):
    """A migrated SQLite Rungs file with one person (id 1), built once and copied per test."""
    folder = tmp_path_factory.mktemp("one-person")
    app = move_data.sqlite_rungs(folder, demo_org=False, fill=False)
    Factory(app).person(name="Only person")
    move_data.close(app)
    return folder / "rungs.db"


def _one_person_rungs(template, tmp_path, *statements: str):
    """A copy of the one-person Rungs, then raw SQL with foreign keys off: what SQLite lets in
    and PostgreSQL refuses."""
    source, copy = sqlite3.connect(template), sqlite3.connect(tmp_path / "rungs.db")
    source.backup(copy)
    source.close()
    with copy:
        for statement in statements:
            copy.execute(statement)
    copy.close()
    return move_data.app_on(sa.make_url(f"sqlite:///{tmp_path}/rungs.db"), tmp_path)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE users SET name = 'Nul' || char(0) || 'here'",
            "users.name (row id 1) holds a NUL character, which PostgreSQL cannot store",
        ),
        (
            "UPDATE users SET name = printf('%.121c', 'x')",
            "users.name (row id 1) holds 121 characters, more than the column's 120",
        ),
        (
            "UPDATE users SET version = 'seven'",
            "users.version (row id 1) holds 'seven', not a whole number, in an integer column",
        ),
        (
            "UPDATE users SET manager_id = 999",  # a manager who is not there
            "The move failed linking the rows of table users, and the target was left empty: "
            'insert or update on table "users" violates foreign key constraint',
        ),
    ],
)
def test_a_value_postgresql_refuses_names_the_table_and_leaves_the_target_empty(
    one_person, empty_postgres, tmp_path, statement, message
):
    app = _one_person_rungs(one_person, tmp_path, statement)
    try:
        code, output = move_to(app, empty_postgres)
    finally:
        move_data.close(app)

    assert code != 0
    assert message in output
    assert "Traceback" not in output
    assert summaries(empty_postgres) == (None, {})


def test_migrations_that_fail_partway_leave_the_target_empty(source, empty_postgres):
    real = migrations_upgrader(source.extensions["migrate"].directory)

    def fails_after_migrating(url, revision):
        real(url, revision)
        raise RuntimeError("the migration broke")

    with source.app_context(), pytest.raises(moving.MoveError) as raised:
        moving.move(
            db.engine,
            moving.target_url(empty_postgres.render_as_string(hide_password=False)),
            source.extensions["migrate"].directory,
            fails_after_migrating,
        )
    with source.app_context():
        db.session.remove()

    assert "Migrating the target failed, and the target was left empty" in raised.value.message
    assert summaries(empty_postgres) == (None, {})


def test_drop_all_tables_drops_every_table_in_a_cycle_and_alembics(empty_postgres):
    engine = sa.create_engine(empty_postgres, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE a (id int PRIMARY KEY, b_id int)")
        connection.exec_driver_sql("CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a)")
        connection.exec_driver_sql("ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b")
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num varchar(32))")
        inventory.drop_all_tables(connection)
        inventory.drop_all_tables(connection)  # nothing left: nothing to do
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()
