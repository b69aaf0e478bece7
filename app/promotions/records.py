"""Decision logs (per case, per session and per cycle, as pages or CSV) and the fairness view."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user

from app import access
from app.request_input import page_number
from app.services.promotions import records

bp = Blueprint("records", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/cases/<int:case_id>/log")
@access.requires("case.view_log")
def case_log(case_id: int):
    """Everything decided on a case, newest first, with who, when and why (or as CSV)."""
    return _log(records.case_scope(_actor(), case_id))


@bp.route("/sessions/<int:session_id>/log")
@access.requires("session.view")
def session_log(session_id: int):
    """Everything decided in a calibration session, newest first (or as CSV)."""
    return _log(records.session_scope(_actor(), session_id))


@bp.route("/promotions/<int:cycle_id>/log")
@access.requires("cycles.manage")
def cycle_log(cycle_id: int):
    """Everything decided in a promotion cycle, newest first (or as CSV)."""
    return _log(records.cycle_scope(_actor(), cycle_id))


@bp.route("/promotions/<int:cycle_id>/fairness")
@access.requires("fairness.view")
def fairness(cycle_id: int):
    """Per manager: leniency against calibration and the gap to self-assessments."""
    min_group = current_app.config["FAIRNESS_MIN_GROUP"]
    figures = records.fairness(_actor(), cycle_id, min_group=min_group)
    return render_template("records/fairness.html", fairness=figures)


def _log(scope: records.LogScope):
    if request.args.get("format") == "csv":
        text = records.log_csv(scope, records.log_rows(_actor(), scope))
        return Response(
            text,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{scope.filename}"'},
        )
    page = records.log_page(_actor(), scope, page_number())
    return render_template("records/log.html", log=page, scope=scope)
