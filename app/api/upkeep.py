"""`flask api …` (the API blueprint's command group): upkeep of the API's own tables."""

from __future__ import annotations

import click
from flask import current_app

from app.services.api import usage

from .core import bp


@bp.cli.command("purge-uses")
def purge_uses() -> None:
    """Delete records of API requests older than RUNGS_API_USE_RETENTION_DAYS (they are also
    purged a batch at a time as tokens are used)."""
    purged = usage.purge_all_old_uses()
    days = current_app.config["API_USE_RETENTION_DAYS"]
    click.echo(f"Purged {purged} API request record(s) older than {days} days.")
