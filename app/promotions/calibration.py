"""Calibration sessions: planning, blind pre-votes, the meeting grid, agreeing, outcomes, lock."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app import access
from app.core.errors import ConflictError
from app.forms import act, saved, submit
from app.promotions.calibration_forms import (
    ActionForm,
    AgreeForm,
    OutcomeForm,
    ReopenForm,
    SessionForm,
    agree_form,
    outcome_form,
    session_form,
    vote_form,
)
from app.services.promotions import confirmations
from app.services.promotions.calibration import decisions, grid, planning, votes

bp = Blueprint("calibration", __name__)


def _actor():
    return current_user._get_current_object()


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _to_session(message: str, session_id: int):
    return saved(message, "calibration.show", session_id=session_id)


# --- planning -----------------------------------------------------------------------------------


@bp.route("/promotions/<int:cycle_id>/sessions/new", methods=["GET", "POST"])
@access.requires("cycles.manage")
def create(cycle_id: int):
    """Plan a calibration session: its facilitator, participants and cases."""
    shown = planning.new_session_page(_actor(), cycle_id)
    form = session_form(shown, _actor().time_zone)
    return submit(
        form,
        lambda: _create(cycle_id, form.scope(_actor().time_zone)),
        page=lambda status, error=None: _session_form(form, shown, status),
        done=lambda session: _to_session(
            f"{session.name} is planned; its people were told.", session.id
        ),
    )


def _create(cycle_id: int, scope: planning.Scope):
    return planning.create_session(
        _actor(),
        cycle_id,
        scope.name,
        scope.facilitator_id,
        scope.participant_ids,
        scope.case_ids,
        scope.proposing_level_id,
        scheduled_at=scope.scheduled_at,
    )


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@access.requires("cycles.manage")
def edit(session_id: int):
    """Change a session's name, people or cases before it is locked."""
    shown = planning.change_session_page(_actor(), session_id)
    form = session_form(shown, _actor().time_zone)
    return submit(
        form,
        lambda: planning.change_session(
            _actor(),
            session_id,
            form.scope(_actor().time_zone),
            expected_revision=_int(form.revision.data),
        ),
        page=lambda status, error=None: _session_form(form, shown, status, error),
        done=lambda _: _to_session("The session was changed.", session_id),
    )


def _session_form(form: SessionForm, shown: planning.PlanningPage, status: int, error=None):
    conflict = error if isinstance(error, ConflictError) else None
    if conflict:
        form.revision.data = shown.revision  # saving again replaces theirs, knowingly
    page = render_template("calibration/form.html", form=form, page=shown, conflict=conflict)
    return page, status


# --- the meeting --------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>")
@access.requires("session.view")
def show(session_id: int):
    """The meeting: cases by competencies, widest disagreement first."""
    return _grid_page(session_id, ReopenForm())


def _grid_page(session_id: int, reopen_form: ReopenForm, status: int = 200):
    shown = grid.session_page(_actor(), session_id)
    page = render_template("calibration/show.html", grid=shown, reopen_form=reopen_form)
    return page, status


@bp.route("/sessions/<int:session_id>/reveal", methods=["GET", "POST"])
@access.requires("session.facilitate")
def reveal(session_id: int):
    """Confirm, then show every participant everyone's votes."""
    return _confirmed(
        session_id,
        confirmations.reveal_page(_actor(), session_id),
        lambda: votes.reveal(_actor(), session_id),
        lambda session: f"The votes of {session.name} are revealed to everyone in it.",
        "calibration.reveal",
    )


@bp.route("/sessions/<int:session_id>/lock", methods=["GET", "POST"])
@access.requires("session.facilitate")
def lock(session_id: int):
    """Confirm, then lock the session: nothing in it changes any more."""
    return _confirmed(
        session_id,
        confirmations.lock_page(_actor(), session_id),
        lambda: decisions.lock(_actor(), session_id),
        lambda session: f"The session {session.name} is locked.",
        "calibration.lock",
    )


def _confirmed(session_id: int, shown, save, said, endpoint: str):
    form = ActionForm()
    back = url_for("calibration.show", session_id=session_id)
    return submit(
        form,
        lambda: said(save()),
        page=lambda status, error=None: (
            render_template(
                "calibration/confirm.html",
                confirm=shown,
                form=form,
                action=url_for(endpoint, session_id=session_id),
                back=back,
                session_id=session_id,
            ),
            status,
        ),
        done=lambda message: _to_session(message, session_id),
    )


@bp.route("/sessions/<int:session_id>/cases/<int:case_id>/agree-rest", methods=["POST"])
@access.requires("session.facilitate")
def agree_rest(session_id: int, case_id: int):
    """Agree the manager's rating on every competency of a case not agreed yet."""
    return act(
        lambda: decisions.agree_rest(_actor(), session_id, case_id),
        back=url_for("calibration.vote", session_id=session_id, case_id=case_id),
        done=lambda done: saved(
            _agreed_rest(done), "calibration.vote", session_id=session_id, case_id=case_id
        ),
    )


def _agreed_rest(done: decisions.AgreedRest) -> str:
    n = len(done.filled)
    said = (
        f"The manager's rating is now the agreed rating for {n} "
        f"{'competency' if n == 1 else 'competencies'} of {done.candidate}'s case."
    )
    if done.no_manager:
        said += (
            f" The manager gave no rating for {', '.join(done.no_manager)}: agree "
            f"{'it' if len(done.no_manager) == 1 else 'each'} on its own cell."
        )
    return said


@bp.route("/sessions/<int:session_id>/reopen", methods=["POST"])
@access.requires("session.reopen")
def reopen(session_id: int):
    """Reopen a locked session, saying why (the head of product)."""
    form = ReopenForm()
    return submit(
        form,
        lambda: decisions.reopen(_actor(), session_id, form.reason.data or "").name,
        page=lambda status, error=None: _grid_page(session_id, form, status),
        done=lambda name: _to_session(f"The session {name} is open again.", session_id),
    )


# --- a case in the session ----------------------------------------------------------------------
# After the service refuses a save the session is rolled back, so the page is read again.


@bp.route("/sessions/<int:session_id>/cases/<int:case_id>/vote", methods=["GET", "POST"])
@access.requires("session.view")
def vote(session_id: int, case_id: int):
    """Your blind vote on every competency of a case."""
    read = partial(votes.ballot_page, _actor(), session_id, case_id)
    ballot = read()
    form = vote_form(ballot)
    return submit(
        form,
        lambda: votes.vote(_actor(), session_id, case_id, _ratings(form, ballot)),
        page=lambda status, error=None: _vote_page(form, read() if error else ballot, status),
        done=lambda changed: _to_session(_voted(changed), session_id),
    )


def _ratings(form: FlaskForm, ballot: votes.Ballot) -> dict[str, str]:
    return {c.key: form[f"c{i}"].data for i, c in enumerate(ballot.competencies)}


def _voted(changed: int) -> str:
    if not changed:
        return "Your votes are unchanged."
    return f"{changed} vote{'s' if changed > 1 else ''} saved. You now see the others' votes."


def _vote_page(form: FlaskForm, ballot: votes.Ballot, status: int):
    return _ballot_page(ballot, form, outcome_form(ballot), status)


@bp.route("/sessions/<int:session_id>/cases/<int:case_id>/outcome", methods=["POST"])
@access.requires("session.facilitate")
def outcome(session_id: int, case_id: int):
    """The session's outcome for a case, with its rationale."""
    read = partial(votes.ballot_page, _actor(), session_id, case_id)
    ballot = read()
    form = OutcomeForm()
    return submit(
        form,
        lambda: _set_outcome(form, case_id),
        page=lambda status, error=None: _outcome_page(
            form, read() if error else ballot, status, error
        ),
        done=lambda message: _to_session(message, session_id),
    )


def _set_outcome(form: OutcomeForm, case_id: int) -> str:
    case = decisions.set_outcome(
        _actor(),
        case_id,
        form.outcome.data or "",
        form.outcome_rationale.data or "",
        expected_revision=_int(form.revision.data),
    )
    return f"The outcome for {case.candidate.name} is saved: {case.outcome.label}."


def _outcome_page(form: OutcomeForm, ballot: votes.Ballot, status: int, error=None):
    if isinstance(error, ConflictError):
        form.revision.data = ballot.case.revision  # saving again replaces theirs, knowingly
    return _ballot_page(ballot, vote_form(ballot), form, status, error)


def _ballot_page(ballot: votes.Ballot, form, outcome_form, status: int, error=None):
    page = render_template(
        "calibration/case.html",
        ballot=ballot,
        form=form,
        fields=[(form[f"c{i}"], c) for i, c in enumerate(ballot.competencies)],
        outcome_form=outcome_form,
        action_form=ActionForm(formdata=None),
        conflict=error if isinstance(error, ConflictError) else None,
    )
    return page, status


@bp.route(
    "/sessions/<int:session_id>/cases/<int:case_id>/competencies/<key>", methods=["GET", "POST"]
)
@access.requires("session.view")
def cell(session_id: int, case_id: int, key: str):
    """One cell: the expectation, the ratings and evidence, the votes, the agreed rating."""
    read = partial(grid.cell_page, _actor(), session_id, case_id, key)
    shown = read()
    form = agree_form(shown)
    return submit(
        form,
        lambda: _agree(form, session_id, case_id, key),
        page=lambda status, error=None: _cell_page(form, read() if error else shown, status, error),
        done=lambda _: _to_session(f"Agreed rating saved for {shown.competency.name}.", session_id),
    )


def _agree(form: AgreeForm, session_id: int, case_id: int, key: str):
    return decisions.agree(
        _actor(),
        session_id,
        case_id,
        key,
        form.rating.data or "",
        form.rationale.data or "",
        form.reason.data or "",
        expected_revision=_int(form.revision.data),
    )


def _cell_page(form: AgreeForm, shown: grid.Cell, status: int, error=None):
    conflict = error if isinstance(error, ConflictError) else None
    if conflict:
        form.revision.data = shown.agreed_revision  # saving again replaces theirs, knowingly
    page = render_template("calibration/cell.html", cell=shown, form=form, conflict=conflict)
    return page, status
