"""`flask reminders send` (for cron) and `flask messages send`: reach people outside the app."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services.messages import sending, wake

reminders_cli = AppGroup(
    "reminders", help="Reminders, notifications and digests by email and Slack."
)
messages_cli = AppGroup("messages", help="The outbox of emails and Slack messages.")


@reminders_cli.command("send")
def send_reminders():
    """Everything due now, in order: notifications become messages, reminders of what is due
    are queued, daily digests are gathered, and the outbox is sent. Safe to run twice at once
    (each step claims its rows; every message has a unique dedupe key). Run it from cron."""
    from app.services.messages import run

    for line in run.everything():
        click.echo(line)


@messages_cli.command("send")
@click.option("--limit", type=int, default=None, help="Send at most this many.")
def send_messages(limit: int | None):
    """Send the queued messages that are due (retries included)."""
    with wake.sent_here():
        click.echo(f"Outbox: {sending.send_due(limit=limit)}.")
