"""Migrations: one head, no drift from the models, and SQLite rebuilds that keep child rows."""

import re

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app import create_app
from app.database import configure_engine
from app.extensions import db, migrate
from app.infra.migration_guard import DataLossRefused
from app.services.database.inventory import reflect, schema_revision, summarise_table
from tests.table_filler import fill
from tests.test_upgrades import HEAD, REVISIONS, database_for


def script_directory(app) -> ScriptDirectory:
    with app.app_context():
        return ScriptDirectory.from_config(migrate.get_config())


def test_there_is_a_single_head(app):
    assert len(script_directory(app).get_heads()) == 1


def test_every_revision_has_a_message(app):
    for revision in script_directory(app).walk_revisions():
        assert revision.doc and revision.doc.strip(), revision.revision


def test_upgraded_database_matches_the_models(app):
    """The suite's database was built by `upgrade` (SQLite or PostgreSQL): no autogenerate drift."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_nothing_and_back(tmp_path, request):
    """An empty database goes all the way down without force (nothing to lose), and back up."""
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_for(tmp_path, request)},
        environ={},
    )
    with fresh.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "users" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def rebuild_users_table(engine: sa.Engine) -> int:
    """A batch-mode rebuild of the parent table, as an alter_column on SQLite does."""
    with engine.begin() as connection:
        with Operations(MigrationContext.configure(connection)).batch_alter_table(
            "users", recreate="always"
        ) as batch:
            batch.alter_column("name", existing_type=sa.String(120), type_=sa.String(160))
        return connection.exec_driver_sql("SELECT count(*) FROM mentorships").scalar()


def test_sqlite_rebuild_with_foreign_keys_off_keeps_child_rows(tmp_path):
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fk.db'}"},
        environ={},
    )
    with fresh.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO users (id, email, name, role, session_token, created_at, updated_at,"
                " version) VALUES (1, 'a@x.io', 'A', 'pm', 't1', '2026-01-01', '2026-01-01', 1),"
                " (2, 'b@x.io', 'B', 'pm', 't2', '2026-01-01', '2026-01-01', 1)"
            )
            connection.exec_driver_sql("INSERT INTO mentorships VALUES (1, 2)")
        url = db.engine.url
        db.engine.dispose()

    # As the migrations run it: foreign keys off at connect, so the rebuild keeps the child row.
    safe = sa.create_engine(url, poolclass=sa.pool.NullPool)
    configure_engine(safe, foreign_keys=False)
    assert rebuild_users_table(safe) == 1
    # The trap this avoids: with foreign keys on, the same rebuild cascades the delete.
    unsafe = sa.create_engine(url, poolclass=sa.pool.NullPool)
    configure_engine(unsafe, foreign_keys=True)
    assert rebuild_users_table(unsafe) == 0


def test_each_downgrade_refuses_to_drop_data_and_names_exactly_what(tmp_path, request):
    """Walking down from head with every table filled: each step that drops tables or columns
    stops, changes nothing and names them (no more, no fewer); forced, it goes ahead. A step that
    drops only indexes (no data of their own) goes ahead unforced."""
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_for(tmp_path, request)},
        environ={},
    )
    with fresh.app_context():
        upgrade()
        for revision in reversed(REVISIONS):
            with db.engine.begin() as connection:
                tables = reflect(connection)
                fill(connection, rows=3, seed=int(revision), tables=tables)
                held = {table.name: summarise_table(connection, table) for table in tables}
            try:
                command.downgrade(migrate.get_config(), "-1")
                named: set[str] = set()
            except DataLossRefused as refused:
                with db.engine.connect() as connection:
                    assert schema_revision(connection) == revision
                    assert {t.name: summarise_table(connection, t) for t in tables} == held
                command.downgrade(migrate.get_config(x_arg=["force=yes"]), "-1")
                named = set(re.findall(r"((?:table|column) \S+) \(\d+ \w+\)", str(refused)))
            with db.engine.connect() as connection:
                assert schema_revision(connection) != revision
                dropped = schema_loss(
                    columns_by_table(tables), columns_by_table(reflect(connection))
                )
            assert named == dropped, revision
        db.engine.dispose()


def columns_by_table(tables: list[sa.Table]) -> dict[str, set[str]]:
    return {table.name: {c.name for c in table.columns} for table in tables}


def schema_loss(before: dict[str, set[str]], after: dict[str, set[str]]) -> set[str]:
    tables = {f"table {name}" for name in before.keys() - after.keys()}
    return tables | {
        f"column {name}.{column}"
        for name in before.keys() & after.keys()
        for column in before[name] - after[name]
    }


def test_refused_downgrade_on_the_command_line(tmp_path, request):
    """As a user sees it: `flask db downgrade` says what would be lost and changes nothing,
    even when the refusing step comes after steps that had nothing to drop."""
    url = database_for(tmp_path, request)
    fresh = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url}, environ={})
    with fresh.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO users (email, name, role, session_token, created_at, updated_at,"
                " version, slack_user_id) VALUES ('a@x.io', 'Zoë', 'pm', 't1', '2026-01-01',"
                " '2026-01-01', 1, 'U0123')"
            )
        db.engine.dispose()
    runner = fresh.test_cli_runner()

    with fresh.app_context():
        refused = runner.invoke(args=["db", "downgrade", "0008"])
        assert refused.exit_code == 1
        message = refused.stderr.strip().splitlines()[-1]
        assert message.startswith("ERROR [flask_migrate] Error: Downgrading below 0009 would")
        assert "would delete data: column users.slack_user_id (1 value)" in message
        assert "Nothing was changed" in message
        assert message.endswith("anyway, run: flask db downgrade --x-arg force=yes 0008")
        assert "Traceback" not in refused.output
        with db.engine.connect() as connection:
            assert schema_revision(connection) == HEAD
            assert sa.inspect(connection).has_table("api_tokens")

        forced = runner.invoke(args=["db", "downgrade", "--x-arg", "force=yes", "0008"])
        assert forced.exit_code == 0, forced.output
        with db.engine.connect() as connection:
            assert schema_revision(connection) == "0008"
        db.engine.dispose()


def test_a_column_holding_only_its_default_is_not_counted_as_data(tmp_path, request):
    """0007 gave every competency short_name '': dropping that column again loses nothing."""
    url = database_for(tmp_path, request)
    fresh = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url}, environ={})
    with fresh.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            fill(connection, rows=3)
            connection.exec_driver_sql("UPDATE competencies SET short_name = ''")
            connection.exec_driver_sql("DELETE FROM help_seen")
        command.downgrade(migrate.get_config(), "-1")
        with db.engine.connect() as connection:
            assert schema_revision(connection) == "0006"
            assert connection.exec_driver_sql("SELECT count(*) FROM competencies").scalar() == 3
        db.engine.dispose()


def test_an_offline_downgrade_cannot_count_so_it_is_refused_unless_forced(tmp_path):
    """`flask db downgrade --sql` prints statements without reading the database: it names what
    the step drops and stops, instead of printing DROPs nobody checked."""
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o.db'}"},
        environ={},
    )
    with fresh.app_context():
        refused = fresh.test_cli_runner().invoke(args=["db", "downgrade", "--sql", "0010:0009"])
    assert refused.exit_code == 1
    message = refused.stderr.strip().splitlines()[-1]
    assert (
        "Downgrading below 0010 drops, unchecked (--sql reads no data): table api_token_uses"
        in message
    )
    assert "column users.totp_secret" in message
    assert "DROP TABLE" not in refused.stdout


def test_an_offline_downgrade_that_drops_only_an_index_goes_ahead(tmp_path):
    """0013 drops only indexes, which holds no data: `--sql` prints its statement unforced."""
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'o.db'}"},
        environ={},
    )
    with fresh.app_context():
        done = fresh.test_cli_runner().invoke(args=["db", "downgrade", "--sql", "0013:0012"])
    assert done.exit_code == 0, done.output
    assert "DROP INDEX ix_comments_author_id" in done.stdout
    assert "DROP INDEX ix_evidence_lessons_shared" in done.stdout
