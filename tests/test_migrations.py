"""Migrations: one head, no drift from the models, and SQLite rebuilds that keep child rows."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app import create_app
from app.database import configure_engine
from app.extensions import db, migrate


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


def test_downgrade_to_nothing_and_back(tmp_path):
    fresh = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"},
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
