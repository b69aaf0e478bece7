"""To do: everything you must do now; and, for the head of product, who has not done their task
in a phase of a cycle yet, with a Nudge per person and for all."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from app import access
from app.forms import act, optional_id, saved
from app.models import CyclePhase
from app.request_input import page_number
from app.services.todo import pages, waiting

bp = Blueprint("todo", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/todo")
@access.requires("home.view")
def index():
    """Everything the signed-in person must do now, most urgent first."""
    page = pages.todo_page(_actor(), page_number())
    return render_template("todo/index.html", page=page)


@bp.route("/promotions/<int:cycle_id>/waiting")
@access.requires("cycles.manage")
def waiting_for(cycle_id: int):
    """Who has not done their task in a phase of the cycle yet."""
    page = waiting.waiting_page(_actor(), cycle_id, _phase(), page_number())
    return render_template("todo/waiting.html", page=page)


@bp.route("/promotions/<int:cycle_id>/waiting/nudge", methods=["POST"])
@access.requires("cycles.manage")
def nudge(cycle_id: int):
    """Nudge one person (person_id) or everyone waiting (all=1), at most once a day each."""
    phase = _phase() or CyclePhase.NOMINATIONS
    return act(
        lambda: waiting.nudge(_actor(), cycle_id, phase, _whom()),
        back=url_for("todo.waiting_for", cycle_id=cycle_id, phase=phase.value),
        done=lambda count: saved(
            _nudged_message(count), "todo.waiting_for", cycle_id=cycle_id, phase=phase.value
        ),
    )


def _whom() -> list[int] | None:
    """None for everyone waiting; else the one person named (nobody, for a bad id: refused)."""
    if request.form.get("all") == "1":
        return None
    person_id = optional_id(request.form.get("person_id"))
    return [person_id] if person_id else []


def _phase() -> CyclePhase | None:
    value = request.values.get("phase", "")
    return CyclePhase(value) if value in {p.value for p in waiting.PHASES} else None


def _nudged_message(count: int) -> str:
    if count == 0:
        return "Nobody was nudged: each was nudged today already, or has reminders turned off."
    return f"Nudged {count} {'person' if count == 1 else 'people'}."
