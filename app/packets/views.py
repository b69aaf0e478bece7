"""The HTML preview of a case's packet: the same templates as the PDF, in the browser."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app import policy
from app.services import packets

bp = Blueprint("packets", __name__)


@bp.get("/cases/<int:case_id>/packet/preview")
@policy.requires("case.view")
def preview(case_id: int):
    """The packet of a case as HTML, in the view asked for (committee by default)."""
    view = request.args.get("view", "committee")
    packets.authorize(current_user, case_id, view)
    return packets.html(packets.assemble(case_id, view), preview=True)
