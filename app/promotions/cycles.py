"""Promotion cycles and their cases: the list, a cycle, nominating, a case, decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app import policy
from app.extensions import db
from app.forms import apply_domain_error, optional_id
from app.models import CyclePhase, FrameworkVersion, Outcome, User, VersionStatus
from app.request_input import page_number
from app.services import level_history, markdown
from app.services.errors import ConflictError, ValidationError
from app.services.promotions import case_lists, loading, phases
from app.services.promotions import cycles as service
from app.services.promotions.calibration import panels as calibration_panels
from app.services.promotions.phases import Activity

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


class PhaseForm(FlaskForm):
    to_phase = HiddenField()
    revision = HiddenField()
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


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why withdraw",
        validators=[_at_most(service.REASON_MAX)],
        description="Kept in the decision log.",
        render_kw={"rows": 3},
    )


def _actor():
    return current_user._get_current_object()


# --- template globals for the case and cycle partials -------------------------------------------


@bp.app_template_global()
def level_history_of(person_id: int) -> list[level_history.Entry]:
    """Every level a person held, newest first (one query)."""
    return level_history.history(person_id)


bp.add_app_template_global(CyclePhase, "cycle_phase")


# --- pages --------------------------------------------------------------------------------------


@bp.route("/promotions")
@policy.requires("promotions.view")
def index():
    """Promotion cycles, your own cases and the cases you take part in."""
    page = page_number()
    cycle_page, cycles = case_lists.cycles(page_number("cycles_page"))
    others = case_lists.visible_cases(_actor(), page) if current_user.is_manager else (None, [])
    return render_template(
        "promotions/index.html",
        cycles=cycles,
        cycle_page=cycle_page,
        own=case_lists.own_cases(_actor()),
        others_page=others[0],
        others=others[1],
    )


@bp.route("/promotions/new", methods=["GET", "POST"])
@policy.requires("cycles.manage")
def create():
    """Open a promotion cycle pinned to published career paths."""
    form = CycleForm()
    published = db.session.execute(
        db.select(FrameworkVersion)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        .order_by(FrameworkVersion.name)
    ).scalars()
    form.version_ids.choices = [SelectChoice(v.id, f"{v.name} (v{v.number})") for v in published]
    if not form.is_submitted():
        form.version_ids.data = [choice.value for choice in form.version_ids.choices]
    if form.validate_on_submit():
        try:
            cycle = service.create_cycle(_actor(), form.name.data, form.version_ids.data)
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            cycle_id, message = cycle.id, f"{cycle.name} is open for nominations."
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("cycles.show", cycle_id=cycle_id))
    status = 400 if form.is_submitted() else 200
    return render_template("promotions/new.html", form=form), status


@bp.route("/promotions/<int:cycle_id>")
@policy.requires("promotions.view")
def show(cycle_id: int):
    """A cycle: its phase, the moves, and the cases you may see."""
    return _cycle_page(cycle_id)


@bp.route("/promotions/<int:cycle_id>/phase", methods=["POST"])
@policy.requires("cycles.manage")
def move(cycle_id: int):
    """Move the cycle forward one phase, or back with a reason."""
    form = PhaseForm()
    if not form.validate_on_submit():
        return _cycle_page(cycle_id, form=form, status=400)
    try:
        cycle = service.move_phase(
            _actor(),
            cycle_id,
            form.to_phase.data,
            form.reason.data or "",
            expected_revision=_int(form.revision.data),
        )
    except ConflictError as error:
        db.session.rollback()
        return _cycle_page(cycle_id, form=form, conflict=error, status=409)
    except ValidationError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _cycle_page(cycle_id, form=form, status=400)
    message = f"{cycle.name} is now in {cycle.phase.label.lower()}."
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("cycles.show", cycle_id=cycle_id))


@bp.route("/promotions/<int:cycle_id>/nominate", methods=["GET", "POST"])
@policy.requires("case.nominate")
def nominate(cycle_id: int):
    """Nominate a report for a higher level, with the manager statement."""
    cycle = loading.cycle(cycle_id)
    if not phases.allows(cycle.phase, Activity.NOMINATE):
        flash(f"Nominations are closed: {cycle.name} is in {cycle.phase.label.lower()}.", "error")
        return redirect(url_for("cycles.show", cycle_id=cycle_id))
    form = NominateForm()
    form.candidate_id.choices = [SelectChoice(None, "Choose a person")] + [
        SelectChoice(c.value, c.label) for c in case_lists.nominees(_actor(), cycle_id)
    ]
    form.proposed_level_id.choices = [SelectChoice(None, "Choose a level")] + [
        SelectChoice(c.value, c.label, optgroup=c.group) for c in case_lists.proposed_levels(cycle)
    ]
    if form.validate_on_submit():
        try:
            case = service.nominate(
                _actor(),
                cycle_id,
                form.candidate_id.data,
                form.proposed_level_id.data,
                form.statement.data or "",
            )
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            name = db.session.get(User, case.candidate_id).name  # loaded by the service
            case_id = case.id
            db.session.commit()
            flash(f"{name} was nominated.", "success")
            return redirect(url_for("cycles.case", case_id=case_id))
    status = 400 if form.is_submitted() else 200
    return render_template("promotions/nominate.html", form=form, cycle=cycle), status


@bp.route("/cases/<int:case_id>")
@policy.requires("case.view")
def case(case_id: int):
    """A promotion case: who, from which level to which, where it stands, what comes next."""
    return _case_page(case_id)


@bp.route("/cases/<int:case_id>/decision", methods=["POST"])
@policy.requires("case.decide")
def decide(case_id: int):
    """Record the head of product's decision on a case."""
    form = _decision_form()
    if not form.validate_on_submit():
        return _case_page(case_id, decision_form=form, status=400)
    try:
        found = service.decide(
            _actor(),
            case_id,
            form.decision.data or None,
            form.rationale.data or "",
            expected_revision=_int(form.revision.data),
        )
    except ConflictError as error:
        db.session.rollback()
        return _case_page(case_id, decision_form=form, conflict=error, status=409)
    except ValidationError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _case_page(case_id, decision_form=form, status=400)
    message = f"Decision recorded: {found.decision.label}."
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("cycles.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/withdraw", methods=["POST"])
@policy.requires("case.withdraw")
def withdraw(case_id: int):
    """Withdraw a case from its cycle, with a reason."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _case_page(case_id, withdraw_form=form, status=400)
    try:
        found = service.withdraw(_actor(), case_id, form.reason.data or "")
    except ValidationError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return _case_page(case_id, withdraw_form=form, status=400)
    message = f"{found.candidate.name}'s case was withdrawn."
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("cycles.case", case_id=case_id))


# --- helpers ------------------------------------------------------------------------------------


def _cycle_page(cycle_id: int, *, form: PhaseForm | None = None, conflict=None, status=200):
    cycle = loading.cycle(cycle_id)
    pagination, rows = case_lists.cycle_cases(_actor(), cycle.id, page_number())
    is_head = policy.can(_actor(), "cycles.manage")
    page = render_template(
        "promotions/cycle.html",
        cycle=cycle,
        phases=list(CyclePhase),
        rows=rows,
        page=pagination,
        is_head=is_head,
        blocker=service.next_move_blocker(cycle) if is_head else None,
        form=form or PhaseForm(formdata=None, revision=cycle.revision),
        revision=cycle.revision,
        conflict=conflict,
        may_nominate=policy.can(_actor(), "case.nominate")
        and phases.allows(cycle.phase, Activity.NOMINATE),
        sessions_panel=calibration_panels.sessions_panel(_actor(), cycle),
    )
    return page, status


def _decision_form(case=None) -> DecisionForm:
    form = DecisionForm() if case is None else DecisionForm(formdata=None, revision=case.revision)
    outcome = f" ({case.outcome.label})" if case is not None and case.outcome else ""
    form.decision.choices = [SelectChoice("", f"The session's outcome{outcome}")] + [
        SelectChoice(o.value, o.label) for o in Outcome
    ]
    return form


def _case_page(case_id: int, *, decision_form=None, withdraw_form=None, conflict=None, status=200):
    found = loading.case(case_id)
    policy.authorize(_actor(), "case.view", found)
    if decision_form is not None:
        fresh = _decision_form(found)
        decision_form.decision.choices = fresh.decision.choices
    page = render_template(
        "promotions/case.html",
        case=found,
        cycle=found.cycle,
        phases=list(CyclePhase),
        statement=markdown.render(found.statement),
        decision_rationale=markdown.render(found.decision_rationale),
        decision_form=decision_form or _decision_form(found),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        conflict=conflict,
        is_candidate=found.candidate_id == current_user.id,
        calibration_panel=calibration_panels.case_panel(_actor(), found),
    )
    return page, status


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
