"""`flask db move-to DATABASE_URL`: move everything to an empty PostgreSQL database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group

from app.extensions import db
from app.services.database import move as moving


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
        db.session.remove()
        click.echo(f"Moving to {target.render_as_string(hide_password=True)} …")
        result = moving.move(
            db.engine,
            target,
            current_app.extensions["migrate"].directory,
            on_table=lambda name, rows: click.echo(f"  copied {name:<28} {rows:>9,} rows"),
        )
    except moving.MoveDiffers as error:
        _print_table(error.result)
        raise click.ClickException(error.message) from None
    except moving.MoveError as error:
        raise click.ClickException(error.message) from None
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
