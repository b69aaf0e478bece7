"""Changing a phase's due date after the cycle was opened or moved, with a reason."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from app import access
from app.core.errors import ConflictError
from app.forms import saved, submit
from app.infra import timezones
from app.models import CyclePhase
from app.services.promotions import deadlines

bp = Blueprint("due_dates", __name__)


class DueDateForm(FlaskForm):
    due_at = StringField(
        "Due",
        description="In your time zone. Leave it empty to remove the date.",
        render_kw={"type": "datetime-local"},
    )
    reason = TextAreaField(
        "Why change it",
        validators=[
            Length(
                max=deadlines.REASON_MAX,
                message=f"Use at most {deadlines.REASON_MAX:,} characters.",
            )
        ],
        description="Required; kept in the decision log, which the committee reads.",
        render_kw={"rows": 3},
    )
    revision = HiddenField()


@bp.route("/promotions/<int:cycle_id>/dates/<phase>", methods=["GET", "POST"])
@access.requires("cycles.manage")
def edit(cycle_id: int, phase: str):
    """Change when one phase of a cycle is due, saying why."""
    if phase not in {p.value for p in deadlines.DATED_PHASES}:
        abort(404)
    actor = current_user._get_current_object()
    shown = deadlines.date_page(actor, cycle_id, phase)
    form = DueDateForm(
        data={
            "due_at": timezones.input_value(shown.date.due_at, actor.time_zone),
            "revision": shown.date.revision,
        }
    )
    return submit(
        form,
        lambda: _change(actor, cycle_id, CyclePhase(phase), form),
        page=lambda status, error=None: _page(shown, form, status, error),
        done=lambda message: saved(message, "cycles.show", cycle_id=cycle_id),
    )


def _change(actor, cycle_id: int, phase: CyclePhase, form: DueDateForm) -> str:
    row = deadlines.change_due(
        actor,
        cycle_id,
        phase,
        deadlines.read_local(form.due_at.data, actor.time_zone),
        form.reason.data or "",
        expected_revision=_int(form.revision.data),
    )
    if row is None:
        return f"{phase.label} has no due date now."
    due = timezones.format_instant(row.due_at, actor.time_zone)
    return f"{phase.label} is now due {due}."


def _page(shown: deadlines.DatePage, form: DueDateForm, status: int, error=None):
    conflict = error if isinstance(error, ConflictError) else None
    if conflict is not None:  # show theirs, and save over it knowingly
        form.revision.data = deadlines.date_page(
            current_user._get_current_object(), shown.cycle_id, shown.date.phase
        ).date.revision
    return render_template(
        "promotions/due_date.html", shown=shown, form=form, conflict=conflict
    ), status


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
