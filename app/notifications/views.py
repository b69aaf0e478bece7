"""Notifications: your inbox, and marking it read."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app import access
from app.extensions import db
from app.forms import saved
from app.request_input import ID_MAX, page_number
from app.services import notifications

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@access.requires("notifications.view")
def inbox():
    """Your notifications, newest first; new ones stay new until you mark them read."""
    view = notifications.inbox_page(current_user._get_current_object(), page_number())
    return render_template("notifications/index.html", view=view)


@bp.route("/notifications/read", methods=["POST"])
@access.requires("notifications.view")
def mark_all_read():
    """Mark every notification as read, up to the newest the page showed."""
    through = request.form.get("through", type=int)
    if through is not None:
        through = min(through, ID_MAX)  # past every id means all; the database holds no more
    marked = notifications.mark_read(current_user.id, through_id=through)
    db.session.commit()
    return saved(
        f"{marked} notification{'' if marked == 1 else 's'} marked as read.", "notifications.inbox"
    )
