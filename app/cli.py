"""Command-line interface: `flask demo ...` and `flask people ...`; it calls services only."""

from __future__ import annotations

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup

from app.extensions import db
from app.models.user import ROLE_LABELS
from app.policy import SYSTEM
from app.services import auth, demo, people, people_import
from app.services.errors import DomainError, RowErrors


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(people_cli)


demo_cli = AppGroup("demo", help="The demo organisation.")


@demo_cli.command("load")
@click.option("--force", is_flag=True, help="Add the demo people even if others exist already.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Load only into an empty database; otherwise do nothing and exit 0.",
)
def demo_load(force: bool, if_empty: bool):
    """Create the demo organisation: a head of product, 3 managers, 13 PMs and mentors."""
    if demo.has_people() and not force:
        if not if_empty:
            raise click.ClickException(
                "The database already has people. Use --force to add the demo people "
                "next to them (existing people are never changed)."
            )
        click.echo("The database already has people; the demo organisation was not loaded.")
    else:
        created = demo.load()
        db.session.commit()
        click.echo(f"Loaded the demo organisation ({len(created)} people added).")
    _print_sign_ins()


def _print_sign_ins() -> None:
    sign_ins = demo.sign_ins()
    if not sign_ins:
        return
    click.echo(f"\nDemo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for sign_in in sign_ins:
        click.echo(f"  {ROLE_LABELS[sign_in.role]:<16} {sign_in.email:<32} {sign_in.name}")


people_cli = AppGroup("people", help="People in the organisation.")


@people_cli.command("import")
@click.argument("file", type=click.File("rb"))
def people_import_cmd(file):
    """Import people from a CSV file (email,name,role,manager_email); all rows or none."""
    try:
        created = people_import.import_people(SYSTEM, file.read())
    except RowErrors as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        for line in error.errors:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Imported {len(created)} people.")


@people_cli.command("password-link")
@click.argument("email")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where people reach Rungs, to build the full link.",
)
def password_link(email: str, base_url: str):
    """Print a one-time link with which a person sets their password."""
    person = people.find_by_email(email)
    if person is None:
        raise click.ClickException(f"Nobody in Rungs uses {email}.")
    try:
        token = auth.create_reset_link(SYSTEM, person)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    with current_app.test_request_context(base_url=base_url):
        click.echo(url_for("auth.set_password", token=token, _external=True))
