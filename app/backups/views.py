"""The backups page: when the last backup was taken, how large, where, and the cron line."""

from __future__ import annotations

from flask import Blueprint, render_template

from app import access
from app.infra.sizes import counted
from app.services import backups

bp = Blueprint("backups", __name__)
bp.add_app_template_filter(counted, "counted")


@bp.get("/settings/backups")
@access.requires("settings.manage")
def status():
    """The last backup, a warning when there is none or it is too old, and how to take them."""
    return render_template("backups/status.html", view=backups.backups_page())
