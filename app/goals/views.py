"""Growth-plan pages: a person's plan, one goal, proposing, editing, agreeing, moving a goal and
linking evidence to it."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import access
from app.core.errors import ConflictError
from app.forms import act, optional_id, saved, submit
from app.goals.forms import (
    AgreeForm,
    GoalForm,
    GoalLinkForm,
    LinkForm,
    PacketGoalsForm,
    StatusForm,
)
from app.models import GoalStatus
from app.request_input import page_number
from app.services import goals
from app.services.goals import cycles, pages

bp = Blueprint("goals", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/people/<int:person_id>/goals")
@access.requires("goal.view")
def plan(person_id: int):
    """A person's growth plan: goals by status, and a New goal form for the two who agree it."""
    page = pages.plan_page(_actor(), person_id, page_number("closed"))
    form = GoalForm(formdata=None)
    form.set_choices(page.competencies, page.levels)
    return render_template("goals/plan.html", page=page, form=form)


@bp.route("/people/<int:person_id>/goals/new", methods=["GET", "POST"])
@access.requires("goal.create")
def create(person_id: int):
    """Propose a goal; the other of the two (the person or their manager) agrees it."""
    page = pages.new_goal_page(_actor(), person_id)
    form = GoalForm()
    form.set_choices(page.competencies, page.levels)
    return submit(
        form,
        lambda: goals.create_goal(_actor(), person_id, _input(form)),
        page=lambda status, error=None: (
            render_template("goals/form.html", page=page, form=form, goal=None),
            status,
        ),
        done=lambda goal: saved(
            "Goal proposed; it joins the plan once the other of you agrees it.",
            "goals.show",
            goal_id=goal.id,
        ),
    )


@bp.route("/goals/<int:goal_id>")
@access.requires("goal.view")
def show(goal_id: int):
    """One goal: what will change, its measure, who proposed and agreed it, linked evidence."""
    page = pages.goal_page(_actor(), goal_id)
    return _goal_page(page, StatusForm(formdata=None), _link_form(page), 200)


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@access.requires("goal.edit")
def edit(goal_id: int):
    """Change a goal; saving over someone else's newer save shows both versions first."""
    actor = _actor()
    page = pages.edit_page(actor, goal_id)
    form = GoalForm() if request.method == "POST" else GoalForm(data=_saved_values(page.goal))
    form.set_choices(page.competencies, page.levels)

    def render(status: int, error=None):
        conflict = error if isinstance(error, ConflictError) else None
        if conflict:
            form.revision.data = page.record.revision  # saving again now overwrites, knowingly
        return render_template(
            "goals/form.html", page=page, form=form, goal=page.goal, conflict=conflict
        ), status

    return submit(
        form,
        lambda: goals.update_goal(
            actor, page.record, _input(form), expected_revision=_int(form.revision.data)
        ),
        page=render,
        done=lambda _: saved("Goal saved.", "goals.show", goal_id=goal_id),
    )


@bp.route("/goals/<int:goal_id>/agree", methods=["POST"])
@access.requires("goal.edit")
def agree(goal_id: int):
    """Agree a goal the other of you two proposed."""
    actor = _actor()
    goal = goals.get_goal(actor, goal_id)
    form = AgreeForm()
    return act(
        lambda: goals.agree_goal(actor, goal, expected_revision=_int(form.revision.data)),
        back=url_for("goals.show", goal_id=goal_id),
        done=lambda _: saved("Goal agreed: it is part of the plan.", "goals.show", goal_id=goal_id),
        conflict=lambda error: _goal_page(
            pages.goal_page(actor, goal_id), StatusForm(formdata=None), None, 409, error, True
        ),
    )


@bp.route("/goals/<int:goal_id>/status", methods=["POST"])
@access.requires("goal.edit")
def status(goal_id: int):
    """Move a goal: in progress, done with its outcome, dropped with a reason, or back."""
    actor = _actor()
    goal = goals.get_goal(actor, goal_id)
    form = StatusForm()
    return submit(
        form,
        lambda: goals.set_status(
            actor,
            goal,
            GoalStatus(form.status.data),
            note=form.note.data or "",
            expected_revision=_int(form.revision.data),
        ),
        page=lambda code, error=None: _goal_page(
            pages.goal_page(actor, goal_id), form, None, code, error
        ),
        done=lambda moved: saved(
            f"The goal is now {moved.status.label.lower()}.", "goals.show", goal_id=goal_id
        ),
    )


@bp.route("/goals/<int:goal_id>/evidence", methods=["POST"])
@access.requires("goal.edit")
def link(goal_id: int):
    """Link one of the person's evidence items to the goal."""
    actor = _actor()
    goal = goals.get_goal(actor, goal_id)
    form = LinkForm()
    return act(
        lambda: goals.link_evidence(actor, goal, optional_id(form.evidence_id.data) or 0),
        back=url_for("goals.show", goal_id=goal_id),
        done=lambda item: saved(
            f"“{item.title}” is linked to the goal.", "goals.show", goal_id=goal_id
        ),
    )


@bp.route("/goals/<int:goal_id>/evidence/<int:evidence_id>/unlink", methods=["POST"])
@access.requires("goal.edit")
def unlink(goal_id: int, evidence_id: int):
    """Take an evidence item off the goal (the item itself stays)."""
    actor = _actor()
    goal = goals.get_goal(actor, goal_id)
    return act(
        lambda: goals.unlink_evidence(actor, goal, evidence_id),
        back=url_for("goals.show", goal_id=goal_id),
        done=lambda _: saved("The item is no longer linked.", "goals.show", goal_id=goal_id),
    )


@bp.route("/evidence/<int:evidence_id>/goals", methods=["POST"])
@access.requires("goal.edit")
def link_from_evidence(evidence_id: int):
    """From an evidence item's page: link it to one of its owner's open goals."""
    actor = _actor()
    form = GoalLinkForm()
    goal = goals.get_goal(actor, optional_id(form.goal_id.data) or 0)
    return act(
        lambda: goals.link_evidence(actor, goal, evidence_id),
        back=url_for("evidence.show", evidence_id=evidence_id),
        done=lambda _: saved("Linked to your goal.", "evidence.show", evidence_id=evidence_id),
    )


@bp.route("/promotions/<int:cycle_id>/packet-goals", methods=["POST"])
@access.requires("cycles.manage")
def packet_setting(cycle_id: int):
    """Whether the cycle's committee packets show the candidate's growth-plan goals."""
    show = PacketGoalsForm().packets_show_goals.data
    return act(
        lambda: cycles.set_packets_show_goals(_actor(), cycle_id, bool(show)),
        back=url_for("cycles.show", cycle_id=cycle_id),
        done=lambda _: saved(
            "Committee packets now show growth-plan goals."
            if show
            else "Committee packets no longer show growth-plan goals.",
            "cycles.show",
            cycle_id=cycle_id,
        ),
    )


# --- helpers ----------------------------------------------------------------------------------


def _goal_page(page: pages.GoalPage, status_form, link_form, code: int, error=None, agreeing=False):
    conflict = error if isinstance(error, ConflictError) else None
    if conflict or not status_form.is_submitted():
        status_form.revision.data = page.goal.revision  # again now: on the saved version
    if not status_form.is_submitted():
        status_form.status.data = _suggested(page.goal.status).value
    return render_template(
        "goals/show.html",
        page=page,
        status_form=status_form,
        link_form=link_form or _link_form(page),
        agree_form=AgreeForm(formdata=None, data={"revision": page.goal.revision}),
        conflict=conflict,
        agreeing=agreeing,
    ), code


def _suggested(current: GoalStatus) -> GoalStatus:
    """The status a goal most likely moves to next, selected in the form."""
    return {
        GoalStatus.NOT_STARTED: GoalStatus.IN_PROGRESS,
        GoalStatus.IN_PROGRESS: GoalStatus.DONE,
    }.get(current, GoalStatus.IN_PROGRESS)


def _link_form(page: pages.GoalPage) -> LinkForm:
    form = LinkForm(formdata=None)
    form.evidence_id.choices = [
        SelectChoice(
            str(item.id),
            f"{item.title} ({item.occurred_on.isoformat()})",
            optgroup=f"Tagged {page.goal.competency}" if item.on_competency else "Other items",
        )
        for item in page.candidates
    ]
    return form


def _saved_values(goal: pages.GoalRow) -> dict:
    """The edit form's values before it is sent: the goal as saved."""
    return {
        "competency_key": goal.competency_key,
        "target_level_id": str(goal.target_level_id or ""),
        "change": goal.change,
        "measure": goal.measure,
        "target_on": goal.target_on,
        "revision": goal.revision,
    }


def _input(form: GoalForm) -> goals.GoalInput:
    return goals.GoalInput(
        competency_key=form.competency_key.data or "",
        target_level_id=optional_id(form.target_level_id.data),
        change=form.change.data or "",
        measure=form.measure.data or "",
        target_on=form.target_on.data,
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
