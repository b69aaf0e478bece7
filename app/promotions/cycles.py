"""Promotion cycles and their cases: the list, a cycle, nominating, a case, decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app import access
from app.core.errors import ConflictError
from app.forms import optional_id, saved, submit
from app.infra import timezones
from app.models import CyclePhase, Outcome
from app.request_input import page_number
from app.services.promotions import confirmations, deadlines, pages
from app.services.promotions import cycles as service

bp = Blueprint("cycles", __name__)


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit:,} characters.")


class Checkboxes(SelectMultipleField):
    def pre_validate(self, form) -> None:
        """Unknown ids are the service's to refuse, with a message that says why."""


class CycleForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired(message="Give the cycle a name, for example “H1 2027”."),
            _at_most(service.NAME_MAX),
        ],
        description="For example “H1 2027”. Everyone sees it.",
        render_kw={"autocomplete": "off", "maxlength": service.NAME_MAX},
    )
    version_ids = Checkboxes(
        "Career paths",
        coerce=int,
        validators=[DataRequired(message="Choose at least one career path.")],
        description="Cases propose levels of these published versions; they stay pinned to "
        "them even if a newer version is published during the cycle.",
    )
    due_at = StringField(
        "Nominations due",
        description="When managers should have nominated, in your time zone. Optional; you can "
        "set or change it later on the cycle's page.",
        render_kw={"type": "datetime-local"},
    )
    packets_show_goals = BooleanField(
        "Committee packets show the candidate's growth-plan goals",
        description="Their agreed goals, status, measure and outcome, so calibration sees the "
        "trajectory. Never in the candidate's copy. You can change it later on the cycle's page.",
    )


class PhaseForm(FlaskForm):
    to_phase = HiddenField()
    revision = HiddenField()
    due_at = StringField(
        "Due",
        description="When the work of the next phase is due, in your time zone. Optional.",
        render_kw={"type": "datetime-local"},
    )
    reason = TextAreaField(
        "Why go back",
        validators=[_at_most(service.REASON_MAX)],
        description="Required when going back; kept in the decision log.",
        render_kw={"rows": 3},
    )


class NominateForm(FlaskForm):
    candidate_id = SelectField("Person", coerce=optional_id, validate_choice=False)
    proposed_level_id = SelectField("Proposed level", coerce=optional_id, validate_choice=False)
    statement = TextAreaField(
        "Manager statement",
        validators=[_at_most(service.STATEMENT_MAX)],
        description="Why they are ready: the impact, the scope they already work at, the "
        "evidence to read first. Markdown works. The committee reads it; the candidate does not.",
        render_kw={"rows": 10},
    )


class DecisionForm(FlaskForm):
    decision = SelectField("Decision", validate_choice=False)
    rationale = TextAreaField(
        "Rationale",
        validators=[_at_most(service.RATIONALE_MAX)],
        description="Required when the decision differs from the session's outcome. The "
        "candidate reads it once the cycle is published.",
        render_kw={"rows": 4},
    )
    revision = HiddenField()


class PublishForm(FlaskForm):
    revision = HiddenField()


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why withdraw",
        validators=[_at_most(service.REASON_MAX)],
        description="Kept in the decision log.",
        render_kw={"rows": 3},
    )


def _actor():
    return current_user._get_current_object()


def _conflict(error) -> ConflictError | None:
    return error if isinstance(error, ConflictError) else None


# --- pages --------------------------------------------------------------------------------------


@bp.route("/promotions")
@access.requires("promotions.view")
def index():
    """Promotion cycles, your own cases and the cases you take part in."""
    page = pages.promotions_page(_actor(), page_number(), page_number("cycles_page"))
    return render_template("promotions/index.html", page=page)


@bp.route("/promotions/new", methods=["GET", "POST"])
@access.requires("cycles.manage")
def create():
    """Open a promotion cycle pinned to published career paths."""
    form = _cycle_form()
    return submit(
        form,
        lambda: _open(form),
        page=lambda status, error=None: (render_template("promotions/new.html", form=form), status),
        done=lambda opened: saved(opened[1], "cycles.show", cycle_id=opened[0]),
    )


@bp.route("/promotions/<int:cycle_id>")
@access.requires("promotions.view")
def show(cycle_id: int):
    """A cycle: its phase, the moves, and the cases you may see."""
    return _cycle_page(cycle_id, 200)


@bp.route("/promotions/<int:cycle_id>/phase", methods=["POST"])
@access.requires("cycles.manage")
def move(cycle_id: int):
    """Move the cycle forward one phase, or back with a reason (publishing has its own page)."""
    form = PhaseForm()
    if form.to_phase.data == CyclePhase.PUBLISHED.value:
        return redirect(url_for("cycles.publish", cycle_id=cycle_id), code=303)
    return submit(
        form,
        lambda: _move(cycle_id, form),
        page=lambda status, error=None: _cycle_page(cycle_id, status, form, _conflict(error)),
        done=lambda message: saved(message, "cycles.show", cycle_id=cycle_id),
    )


@bp.route("/promotions/<int:cycle_id>/publish", methods=["GET", "POST"])
@access.requires("cycles.manage")
def publish(cycle_id: int):
    """Confirm, then publish the cycle: who is promoted, who sees their outcome."""
    shown = confirmations.publish_page(_actor(), cycle_id)
    form = PublishForm(data={"revision": shown.revision})
    return submit(
        form,
        lambda: _publish(cycle_id, form),
        page=lambda status, error=None: _confirm_page(
            shown,
            _knowingly(form, shown, error),
            "cycles.publish",
            url_for("cycles.show", cycle_id=cycle_id),
            status,
            error,
            cycle_id=cycle_id,
        ),
        done=lambda message: saved(message, "cycles.show", cycle_id=cycle_id),
    )


@bp.route("/promotions/<int:cycle_id>/nominate", methods=["GET", "POST"])
@access.requires("case.nominate")
def nominate(cycle_id: int):
    """Nominate a report for a higher level, with the manager statement: choose the person
    (the page reloads with their levels, the next one chosen), then the level and statement."""
    candidate_id = optional_id(request.values.get("candidate_id"))
    every_track = request.values.get("every_track") == "1"
    page = pages.nominate_page(_actor(), cycle_id, candidate_id, every_track=every_track)
    if not page.is_open:
        return _nominations_closed(page.cycle)
    form = _nominate_form(page)
    return submit(
        form,
        lambda: _nominate(cycle_id, form),
        page=lambda status, error=None: _nominate_page(form, page, status),
        done=lambda nominated: saved(nominated[1], "cycles.case", case_id=nominated[0]),
    )


@bp.route("/cases/<int:case_id>")
@access.requires("case.view")
def case(case_id: int):
    """A promotion case: who, from which level to which, where it stands, what comes next."""
    return _case_page(case_id, 200)


@bp.route("/cases/<int:case_id>/decision", methods=["POST"])
@access.requires("case.decide")
def decide(case_id: int):
    """Record the head of product's decision on a case."""
    form = _decision_form()
    return submit(
        form,
        lambda: _decide(case_id, form),
        page=lambda status, error=None: _case_page(
            case_id, status, decision_form=form, conflict=_conflict(error)
        ),
        done=lambda message: saved(message, "cycles.case", case_id=case_id),
    )


@bp.route("/cases/<int:case_id>/withdraw", methods=["GET", "POST"])
@access.requires("case.withdraw")
def withdraw(case_id: int):
    """Confirm, then withdraw a case from its cycle, with a reason."""
    shown = confirmations.withdraw_page(_actor(), case_id)
    form = WithdrawForm()
    return submit(
        form,
        lambda: _withdraw(case_id, form),
        page=lambda status, error=None: _confirm_page(
            shown,
            form,
            "cycles.withdraw",
            url_for("cycles.case", case_id=case_id),
            status,
            error,
            danger=True,
            case_id=case_id,
        ),
        done=lambda message: saved(message, "cycles.case", case_id=case_id),
    )


# --- saving: call the service, say what happened (read before the commit expires it) ----------


def _open(form: CycleForm) -> tuple[int, str]:
    cycle = service.create_cycle(
        _actor(),
        form.name.data,
        form.version_ids.data,
        packets_show_goals=bool(form.packets_show_goals.data),
        due_at=deadlines.read_local(form.due_at.data, _actor().time_zone),
    )
    return cycle.id, f"{cycle.name} is open for nominations."


def _move(cycle_id: int, form: PhaseForm) -> str:
    cycle = service.move_phase(
        _actor(),
        cycle_id,
        form.to_phase.data,
        form.reason.data or "",
        expected_revision=_int(form.revision.data),
        due_at=deadlines.read_local(form.due_at.data, _actor().time_zone),
    )
    return f"{cycle.name} is now in {cycle.phase.label.lower()}."  # publishing: _publish


def _nominate(cycle_id: int, form: NominateForm) -> tuple[int, str]:
    case = service.nominate(
        _actor(),
        cycle_id,
        form.candidate_id.data,
        form.proposed_level_id.data,
        form.statement.data or "",
    )
    return case.id, f"{case.candidate.name} was nominated."


def _publish(cycle_id: int, form: PublishForm) -> str:
    cycle = service.move_phase(
        _actor(),
        cycle_id,
        CyclePhase.PUBLISHED,
        expected_revision=_int(form.revision.data),
    )
    return f"{cycle.name} is now published."


def _decide(case_id: int, form: DecisionForm) -> str:
    case = service.decide(
        _actor(),
        case_id,
        form.decision.data or None,
        form.rationale.data or "",
        expected_revision=_int(form.revision.data),
    )
    return f"The decision on {case.candidate.name}'s case is recorded: {case.decision.label}."


def _withdraw(case_id: int, form: WithdrawForm) -> str:
    case = service.withdraw(_actor(), case_id, form.reason.data or "")
    return f"{case.candidate.name}'s case is withdrawn from {case.cycle.name}."


# --- helpers ------------------------------------------------------------------------------------


def _cycle_page(cycle_id: int, status: int, form: PhaseForm | None = None, conflict=None):
    page = pages.cycle_page(_actor(), cycle_id, page_number())
    form = form or _phase_form(page)
    following = page.cycle.phase.next
    if following is not None:
        form.due_at.label.text = f"{following.label} due"
    return render_template("promotions/cycle.html", page=page, form=form, conflict=conflict), status


def _phase_form(page: pages.CyclePage) -> PhaseForm:
    """The move form, its due date filled with the next phase's date when one is set."""
    following = page.cycle.phase.next
    shown = page.date_of(following) if following else None
    due = timezones.input_value(shown.due_at if shown else None, _actor().time_zone)
    return PhaseForm(formdata=None, revision=page.cycle.revision, due_at=due)


def _confirm_page(shown, form, endpoint: str, back: str, status: int, error, danger=False, **args):
    page = render_template(
        "promotions/confirm.html",
        confirm=shown,
        form=form,
        action=url_for(endpoint, **args),
        back=back,
        danger=danger,
        conflict=_conflict(error),
    )
    return page, status


def _knowingly(form: PublishForm, shown, error) -> PublishForm:
    """After a conflict the form carries the revision shown now: confirming again is knowing."""
    if isinstance(error, ConflictError):
        form.revision.data = shown.revision
    return form


def _cycle_form() -> CycleForm:
    form = CycleForm()
    form.version_ids.choices = [SelectChoice(c.value, c.label) for c in pages.published_versions()]
    if not form.is_submitted():  # every published career path, unless the head unticks one
        form.version_ids.data = [choice.value for choice in form.version_ids.choices]
    return form


def _nominations_closed(cycle):
    flash(f"Nominations are closed: {cycle.name} is in {cycle.phase.label.lower()}.", "error")
    return redirect(url_for("cycles.show", cycle_id=cycle.id))


def _nominate_page(form: NominateForm, page: pages.NominatePage, status: int):
    return render_template(
        "promotions/nominate.html", form=form, cycle=page.cycle, page=page
    ), status


def _nominate_form(page: pages.NominatePage) -> NominateForm:
    form = NominateForm()
    form.candidate_id.choices = [SelectChoice(None, "Choose a person")] + [
        SelectChoice(c.value, c.label) for c in page.nominees
    ]
    form.proposed_level_id.choices = [SelectChoice(None, "Choose a level")] + [
        SelectChoice(c.value, c.label, optgroup=c.group) for c in page.levels_choices
    ]
    if request.method == "GET":  # the person chosen on the first step, their next level
        form.candidate_id.data = page.candidate_id
        form.proposed_level_id.data = page.levels.next_level_id if page.levels else None
    return form


def _decision_form(case=None) -> DecisionForm:
    form = DecisionForm() if case is None else DecisionForm(formdata=None, revision=case.revision)
    outcome = f" ({case.outcome.label})" if case is not None and case.outcome else ""
    form.decision.choices = [SelectChoice("", f"The session's outcome{outcome}")] + [
        SelectChoice(o.value, o.label) for o in Outcome
    ]
    return form


def _case_page(case_id: int, status: int, *, decision_form=None, conflict=None):
    page = pages.case_page(_actor(), case_id)
    if decision_form is not None:  # a sent form knows no case: its choices name the outcome
        decision_form.decision.choices = _decision_form(page.case).decision.choices
    return render_template(
        "promotions/case.html",
        page=page,
        decision_form=decision_form or _decision_form(page.case),
        conflict=conflict,
    ), status


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
