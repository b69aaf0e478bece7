"""`flask sso break-glass`: the one head of product who keeps a password when sign-in is
SSO-only (set only here, on the server, never from a page)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.extensions import db
from app.services.people import sso_settings

sso_cli = AppGroup("sso", help="Single sign-on.")


@sso_cli.command("break-glass")
@click.argument("email", required=False)
@click.option("--clear", is_flag=True, help="Have no break-glass account (not while SSO-only).")
def break_glass(email: str | None, clear: bool):
    """Make EMAIL (an active head of product) the break-glass account, which still signs in with
    its password when passwords are off; --clear removes it; with neither, show it."""
    if clear and email:
        raise click.UsageError("Give an email address or --clear, not both.")
    try:
        if clear:
            sso_settings.clear_break_glass()
        elif email:
            person = sso_settings.set_break_glass(email)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    if clear:
        click.echo("There is no break-glass account now.")
    elif email:
        click.echo(f"The break-glass account is {person.name} <{person.email}>.")
    else:
        current = sso_settings.break_glass_person()
        click.echo(
            f"The break-glass account is {current.name} <{current.email}>."
            if current
            else "There is no break-glass account."
        )
