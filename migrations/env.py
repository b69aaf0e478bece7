"""Alembic environment for Rungs, run through Flask-Migrate (`flask db ...`)."""

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app
from sqlalchemy.pool import NullPool

from app.database import configure_engine
from app.models.base import UTCDateTime

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the app's own column types as the plain types they stand for."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def skip_empty_revisions(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def migration_engine() -> sa.Engine:
    """The app's engine, except on SQLite: there a private one with foreign keys OFF.

    A batch-mode table rebuild on SQLite with foreign keys ON deletes child rows through
    ON DELETE CASCADE (FACTS.md). The pragma only takes effect outside a transaction, so it is
    set when the connection opens, and the foreign keys are checked after the upgrade instead.
    """
    engine = target_db.engine
    if engine.dialect.name != "sqlite":
        return engine
    private = sa.create_engine(engine.url, poolclass=NullPool)
    configure_engine(private, foreign_keys=False)
    return private


def run_migrations_offline():
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revisions)
    engine = migration_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_item=render_item,
            # SQLite runs DDL in transactions too: a failed upgrade leaves nothing half-done.
            transactional_ddl=True,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign key violations after migrating: {broken[:10]}")
    if engine is not target_db.engine:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
