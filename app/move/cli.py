"""`flask db move-to DATABASE_URL`: move everything to an empty PostgreSQL database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import Migrate
from flask_migrate.cli import db as db_group
from flask_sqlalchemy import SQLAlchemy

from app.extensions import db
from app.services.database import move as moving

URL_EXPOSURE_WARNING = (
    "Warning: the URL holds a password, which other users of this machine can see in the process "
    "list and which stays in your shell history. Next time leave it out of the URL and give it "
    "in PGPASSWORD or ~/.pgpass (see the README, Moving to PostgreSQL)."
)


def register(app) -> None:
    """Add `move-to` to Flask-Migrate's `db` group (the same group object for every app)."""
    db_group.add_command(move_to)


@click.command("move-to")
@click.argument("database_url")
@with_appcontext
def move_to(database_url: str):
    """Copy every table to an EMPTY PostgreSQL database, then compare both table by table."""
    try:
        target = moving.target_url(database_url)
        if target.password:
            click.echo(URL_EXPOSURE_WARNING, err=True)
        db.session.remove()
        click.echo(f"Moving to {target.render_as_string(hide_password=True)} …")
        directory = current_app.extensions["migrate"].directory
        with quiet_alembic():
            result = moving.move(
                db.engine,
                target,
                directory,
                migrations_upgrader(directory),
                on_table=lambda name, rows: click.echo(f"  copied {name:<28} {rows:>9,} rows"),
            )
    except moving.MoveDiffers as error:
        _print_table(error.result)
        raise click.ClickException(error.message) from None
    except moving.MoveError as error:
        raise click.ClickException(error.message) from None
    _print_summary(result)


def migrations_upgrader(directory: str) -> moving.UpgradeTarget:
    """Runs this code's migrations (migrations/env.py as they are) on the database at a URL:
    through a bare app whose Flask-Migrate is bound to it, with Alembic's command called
    directly (no alembic.ini, so its logging setup does not turn the INFO lines back on)."""

    def upgrade_target(url: sa.URL, revision: str) -> None:
        bare = Flask("rungs-move")
        bare.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
        bare.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": sa.pool.NullPool}
        target_db = SQLAlchemy()
        target_db.init_app(bare)
        Migrate(bare, target_db, directory=directory, render_as_batch=True)
        config = Config()
        config.set_main_option("script_location", directory)
        with bare.app_context():
            try:
                command.upgrade(config, revision)
            finally:
                target_db.engine.dispose()

    return upgrade_target


@contextmanager
def quiet_alembic() -> Iterator[None]:
    """Alembic's INFO lines (one per migration) would bury the move's own summary."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _print_summary(result: moving.MoveResult) -> None:
    _print_table(result)
    rate = result.rows / result.seconds if result.seconds else 0
    click.echo(
        f"\nMoved {result.rows:,} rows in {len(result.tables)} tables at schema revision "
        f"{result.revision} in {result.seconds:.1f} s ({rate:,.0f} rows/s); every table matches."
    )
    click.echo(
        f"Attachments, packets and other files stay in RUNGS_DATA_DIR "
        f"({current_app.config['RUNGS_DATA_DIR']}): keep it.\n"
        "Next: set DATABASE_URL to the new database (with the same RUNGS_DATA_DIR) and restart "
        "Rungs. The current database is left as it was."
    )


def _print_table(result: moving.MoveResult) -> None:
    click.echo(f"\n{'table':<28} {'rows here':>10} {'rows there':>10}  {'sha256':<12}  same")
    for table in result.tables:
        there = table.target.rows if table.target else 0
        digest = table.source.sha256[:12]
        mark = "yes" if table.equal else "NO"
        click.echo(f"{table.name:<28} {table.source.rows:>10,} {there:>10,}  {digest}  {mark}")
