"""Calibration sessions: blind pre-votes, the meeting grid, agreeing, locking."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app import access, policy
from app.extensions import db
from app.forms import apply_domain_error, optional_id
from app.models import Outcome, Rating
from app.services import markdown
from app.services.errors import ConflictError, ValidationError
from app.services.promotions import calibration, loading, phases

bp = Blueprint("calibration", __name__)

RATING_CHOICES = [SelectChoice(r.value, r.label) for r in Rating]
OUTCOME_CHOICES = [SelectChoice(o.value, o.label) for o in Outcome]
TEXT_LIMIT = Length(max=calibration.TEXT_MAX, message="Use at most 5,000 characters.")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- forms --------------------------------------------------------------------------------------


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, laid out by the template."""

    def pre_validate(self, form) -> None:
        """Unknown ids are the service's to refuse, with a message that names them."""


class SessionForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[Length(max=calibration.NAME_MAX, message="Use at most 120 characters.")],
        description="What the meeting is about, e.g. “Senior PM, H1 2027”.",
        render_kw={"autocomplete": "off", "maxlength": calibration.NAME_MAX},
    )
    facilitator_id = SelectField(
        "Facilitator",
        coerce=optional_id,
        validate_choice=False,
        description="Runs the meeting: reveals the votes, sets agreed ratings and outcomes, locks.",
    )
    participant_ids = CheckboxesField("Participants", coerce=optional_id)
    case_ids = CheckboxesField("Cases", coerce=optional_id)
    proposing_level_id = SelectField(
        "And every case proposing", coerce=optional_id, validate_choice=False
    )
    revision = HiddenField()

    def set_choices(self, choices: calibration.PlanningChoices) -> None:
        self.facilitator_id.choices = [SelectChoice(None, "Choose a person")] + [
            SelectChoice(i, name) for i, name in choices.people
        ]
        self.participant_ids.choices = [SelectChoice(i, name) for i, name in choices.people]
        self.case_ids.choices = [SelectChoice(c.id, c.candidate) for c in choices.cases]
        self.proposing_level_id.choices = [
            SelectChoice(None, "No level: only the cases ticked")
        ] + [SelectChoice(i, label) for i, label in choices.levels]

    def scope(self) -> calibration.Scope:
        return calibration.Scope(
            self.name.data or "",
            self.facilitator_id.data,
            [i for i in self.participant_ids.data or [] if i is not None],
            [i for i in self.case_ids.data or [] if i is not None],
            self.proposing_level_id.data,
        )


class AgreeForm(FlaskForm):
    rating = RadioField("Agreed rating", choices=RATING_CHOICES, validate_choice=False)
    rationale = TextAreaField(
        "Rationale",
        validators=[TEXT_LIMIT],
        description="Why this rating, in words the candidate reads once the cycle is published.",
        render_kw={"rows": 4},
    )
    reason = TextAreaField(
        "Reason for departing from the manager's rating",
        validators=[TEXT_LIMIT],
        description="Needed whenever the agreed rating differs from the manager's; it is kept "
        "in the decision log.",
        render_kw={"rows": 3},
    )
    revision = HiddenField()


class OutcomeForm(FlaskForm):
    outcome = RadioField("Outcome", choices=OUTCOME_CHOICES, validate_choice=False)
    outcome_rationale = TextAreaField(
        "Rationale for the outcome",
        validators=[TEXT_LIMIT],
        description="The candidate reads it once the cycle is published.",
        render_kw={"rows": 4},
    )
    revision = HiddenField()


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why reopen it",
        validators=[TEXT_LIMIT],
        description="Kept in the decision log.",
        render_kw={"rows": 2},
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def vote_form(ballot: calibration.Ballot) -> FlaskForm:
    """One radio group per competency, named by position (keys are the service's)."""

    class VoteForm(FlaskForm):
        pass

    for i, competency in enumerate(ballot.competencies):
        setattr(
            VoteForm,
            f"c{i}",
            RadioField(
                competency.name,
                choices=RATING_CHOICES,
                default=getattr(ballot.my_votes.get(competency.key), "value", None),
                validators=[InputRequired(message="Choose a rating.")],
            ),
        )
    return VoteForm()


def _actor():
    return current_user._get_current_object()


@bp.app_template_global()
def calibration_sessions(cycle) -> list[calibration.SessionSummary]:
    """The cycle's sessions the signed-in person may open (two queries)."""
    return calibration.sessions_of(_actor(), cycle.id)


@bp.app_template_global()
def calibration_case(case) -> calibration.CasePanel | None:
    """A case's session, agreed ratings and outcome as the signed-in person may see them."""
    return calibration.case_panel(_actor(), case)


@bp.app_template_global()
def calibration_may_plan(cycle) -> bool:
    """Whether the signed-in person may plan a session of this cycle now."""
    return policy.can(_actor(), "cycles.manage") and phases.allows(
        cycle.phase, phases.Activity.PLAN_SESSIONS
    )


bp.add_app_template_global(markdown.render, "calibration_markdown")


# --- planning -----------------------------------------------------------------------------------


@bp.route("/promotions/<int:cycle_id>/sessions/new", methods=["GET", "POST"])
@access.requires("cycles.manage")
def create(cycle_id: int):
    """Plan a calibration session: its facilitator, participants and cases."""
    cycle = loading.cycle(cycle_id)
    choices = calibration.planning_choices(cycle.id)
    form = SessionForm()
    form.set_choices(choices)
    if form.validate_on_submit():
        scope = form.scope()
        try:
            session = calibration.create_session(
                _actor(),
                cycle.id,
                scope.name,
                scope.facilitator_id,
                scope.participant_ids,
                scope.case_ids,
                scope.proposing_level_id,
            )
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"{session.name} is planned; its people were told.", "success")
            return redirect(url_for("calibration.show", session_id=session.id))
    return _session_form(form, cycle, choices, None)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@access.requires("cycles.manage")
def edit(session_id: int):
    """Change a session's name, people or cases before it is locked."""
    session = loading.session(session_id)
    choices = calibration.planning_choices(session.cycle_id, session.id)
    form = SessionForm()
    form.set_choices(choices)
    if not form.is_submitted():
        form.process(data=_scope_data(session, choices))
    conflict = None
    if form.validate_on_submit():
        try:
            calibration.change_session(
                _actor(), session.id, form.scope(), expected_revision=_int(form.revision.data)
            )
        except ConflictError as error:
            conflict = error
        except ValidationError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash("The session was changed.", "success")
            return redirect(url_for("calibration.show", session_id=session_id))
        db.session.rollback()
        session = loading.session(session_id)
        form.revision.data = session.revision if conflict else form.revision.data
    return _session_form(form, session.cycle, choices, session, conflict=conflict)


def _scope_data(session, choices) -> dict:
    return {
        "name": session.name,
        "facilitator_id": session.facilitator_id,
        "participant_ids": [p.id for p in session.participants],
        "case_ids": [c.id for c in choices.cases if c.in_session],
        "revision": session.revision,
    }


def _session_form(form, cycle, choices, session, *, conflict=None):
    status = 409 if conflict else 400 if form.errors or form.form_errors else 200
    page = render_template(
        "calibration/form.html",
        form=form,
        cycle=cycle,
        choices=choices,
        session=session,
        conflict=conflict,
    )
    return page, status


# --- the meeting --------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>")
@access.requires("session.view")
def show(session_id: int):
    """The meeting: cases by competencies, widest disagreement first."""
    return _grid_page(session_id, ReopenForm())


def _grid_page(session_id: int, reopen_form: ReopenForm, status: int = 200):
    grid = calibration.grid(_actor(), session_id)
    page = render_template(
        "calibration/show.html", grid=grid, reopen_form=reopen_form, action_form=ActionForm()
    )
    return page, status


@bp.route("/sessions/<int:session_id>/reveal", methods=["POST"])
@access.requires("session.facilitate")
def reveal(session_id: int):
    """Show every participant everyone's votes."""
    return _act(session_id, calibration.reveal, "The votes are revealed to everyone.")


@bp.route("/sessions/<int:session_id>/lock", methods=["POST"])
@access.requires("session.facilitate")
def lock(session_id: int):
    """Lock the session: nothing in it changes any more."""
    return _act(session_id, calibration.lock, "The session is locked.")


def _act(session_id: int, action, done: str):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            action(_actor(), session_id)
        except ValidationError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("calibration.show", session_id=session_id))


@bp.route("/sessions/<int:session_id>/reopen", methods=["POST"])
@access.requires("session.reopen")
def reopen(session_id: int):
    """Reopen a locked session, saying why (the head of product)."""
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            calibration.reopen(_actor(), session_id, form.reason.data or "")
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash("The session is open again.", "success")
            return redirect(url_for("calibration.show", session_id=session_id))
    return _grid_page(session_id, form, 400)


# --- a case in the session ----------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/cases/<int:case_id>/vote", methods=["GET", "POST"])
@access.requires("session.view")
def vote(session_id: int, case_id: int):
    """Your blind vote on every competency of a case."""
    ballot = calibration.ballot(_actor(), session_id, case_id)
    form = vote_form(ballot)
    if form.validate_on_submit():
        ratings = {c.key: form[f"c{i}"].data for i, c in enumerate(ballot.competencies)}
        try:
            changed = calibration.vote(_actor(), session_id, case_id, ratings)
        except ValidationError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            ballot = calibration.ballot(_actor(), session_id, case_id)
        else:
            db.session.commit()
            flash(_voted(changed), "success")
            return redirect(url_for("calibration.show", session_id=session_id))
    return _ballot_page(ballot, form, _outcome_form(ballot))


def _voted(changed: int) -> str:
    if not changed:
        return "Your votes are unchanged."
    return f"{changed} vote{'s' if changed > 1 else ''} saved. You now see the others' votes."


@bp.route("/sessions/<int:session_id>/cases/<int:case_id>/outcome", methods=["POST"])
@access.requires("session.facilitate")
def outcome(session_id: int, case_id: int):
    """The session's outcome for a case, with its rationale."""
    ballot = calibration.ballot(_actor(), session_id, case_id)
    form = OutcomeForm()
    conflict = None
    if form.validate_on_submit():
        try:
            calibration.set_outcome(
                _actor(),
                case_id,
                form.outcome.data or "",
                form.outcome_rationale.data or "",
                expected_revision=_int(form.revision.data),
            )
        except ConflictError as error:
            conflict = error
        except ValidationError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash("The outcome was saved.", "success")
            return redirect(url_for("calibration.show", session_id=session_id))
        db.session.rollback()
        ballot = calibration.ballot(_actor(), session_id, case_id)
        if conflict:
            form.revision.data = ballot.case.revision  # saving again replaces theirs, knowingly
    return _ballot_page(ballot, vote_form(ballot), form, conflict=conflict)


def _outcome_form(ballot) -> OutcomeForm:
    case = ballot.case
    return OutcomeForm(
        formdata=None,
        data={
            "outcome": case.outcome.value if case.outcome else None,
            "outcome_rationale": case.outcome_rationale,
            "revision": case.revision,
        },
    )


def _ballot_page(ballot, form, outcome_form, *, conflict=None):
    submitted = form.is_submitted() and (form.errors or form.form_errors)
    status = 409 if conflict else 400 if submitted or outcome_form.errors else 200
    page = render_template(
        "calibration/case.html",
        ballot=ballot,
        form=form,
        fields=[(form[f"c{i}"], c) for i, c in enumerate(ballot.competencies)],
        outcome_form=outcome_form,
        conflict=conflict,
    )
    return page, status


@bp.route(
    "/sessions/<int:session_id>/cases/<int:case_id>/competencies/<key>", methods=["GET", "POST"]
)
@access.requires("session.view")
def cell(session_id: int, case_id: int, key: str):
    """One cell: the expectation, the ratings and evidence, the votes, the agreed rating."""
    shown = calibration.cell(_actor(), session_id, case_id, key)
    form = AgreeForm(data=_agree_data(shown))
    conflict = None
    if form.validate_on_submit():
        try:
            calibration.agree(
                _actor(),
                session_id,
                case_id,
                key,
                form.rating.data or "",
                form.rationale.data or "",
                form.reason.data or "",
                expected_revision=_int(form.revision.data),
            )
        except ConflictError as error:
            conflict = error
        except ValidationError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(f"Agreed rating saved for {shown.competency.name}.", "success")
            return redirect(url_for("calibration.show", session_id=session_id))
        db.session.rollback()
        shown = calibration.cell(_actor(), session_id, case_id, key)
        if conflict:
            form.revision.data = shown.agreed_revision  # saving again replaces theirs, knowingly
    status = 409 if conflict else 400 if form.errors or form.form_errors else 200
    page = render_template("calibration/cell.html", cell=shown, form=form, conflict=conflict)
    return page, status


def _agree_data(shown: calibration.Cell) -> dict:
    start = shown.agreed or shown.manager
    return {
        "rating": start.rating.value if start and start.rating else None,
        "rationale": shown.agreed.rationale if shown.agreed else "",
        "reason": shown.agreed.reason if shown.agreed else "",
        "revision": shown.agreed_revision,
    }
