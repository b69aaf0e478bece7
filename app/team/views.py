"""The manager's team page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app import access
from app.services.people import team

bp = Blueprint("team", __name__)


@bp.route("/team")
@access.requires("team.view")
def team_page():
    """Everyone in your line: recent shared evidence, readiness and last activity."""
    page = team.team_page(current_user._get_current_object())
    return render_template("team/index.html", page=page)
