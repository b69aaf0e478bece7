"""Authorization in one place: may this person do this (to that object)? Deny by default.

Every view is marked either `@requires(action)` or `@public`; a request to an endpoint with
neither is refused before the view runs, and a test walks the URL map for unmarked endpoints.
Object-level refusals answer 404, so that a refusal does not reveal that the object exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, exists, false, or_, select

from app.extensions import db, login_manager
from app.models import (
    CalibrationSession,
    Corroboration,
    CyclePhase,
    Evidence,
    PromotionCase,
    PromotionCycle,
    Role,
    User,
    Vote,
    calibration_participants,
)
from app.services import org
from app.services.errors import ForbiddenError, NotFoundError
from app.services.promotions.phases import Activity, allows

Rule = Callable[[User, Any], bool]
RULES: dict[str, Rule] = {}

# Endpoints that anyone may reach, signed in or not.
PUBLIC_ENDPOINTS = frozenset({"static"})


def rule(action: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        RULES[action] = check
        return check

    return register


class _System:
    """The operator at the command line: trusted with every action, audited with no person."""

    id = None
    is_authenticated = True
    is_active = True

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def can(actor: Any, action: str, target: Any = None) -> bool:
    """True only when a rule for `action` exists and allows it; anonymous people may do nothing."""
    if actor is SYSTEM:
        return action in RULES
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    check = RULES.get(action)
    return bool(check is not None and check(actor, target))


def authorize(actor: Any, action: str, target: Any = None) -> None:
    """Raise unless allowed: NotFoundError for an object (existence must not leak), else 403."""
    if can(actor, action, target):
        return
    if target is not None:
        raise NotFoundError("Not found.")
    raise ForbiddenError("You do not have access to this page.")


# --- rules -------------------------------------------------------------------------------------


@rule("home.view")
@rule("account.manage")
@rule("frameworks.view")
@rule("evidence.log")
@rule("notifications.view")
def _any_signed_in(actor: User, target: Any) -> bool:
    return True


@rule("people.manage")
@rule("frameworks.manage")
@rule("settings.manage")
def _head_only(actor: User, target: Any) -> bool:
    return actor.role is Role.HEAD


@rule("team.view")
def _manages_people(actor: User, target: Any) -> bool:
    """The team page: managers and the head of product."""
    return actor.is_manager


@rule("person.view")
def _can_view_person(actor: User, person: User | None) -> bool:
    if person is None:  # route level: every signed-in person may open some profile (their own)
        return True
    visible = visible_people(actor)
    return visible is None or person.id in visible


@rule("framework_version.view")
def _can_view_version(actor: User, version) -> bool:
    """Published and archived versions are for everyone; drafts only for the head of product."""
    if version is None:
        return True
    return not version.is_draft or actor.role is Role.HEAD


@rule("evidence.view")
def _can_view_evidence(actor: User, evidence) -> bool:
    """The one rule for who sees an item, in the form of `evidence_readable_by` (read there)."""
    if evidence is None:
        return True
    if evidence.owner_id == actor.id:
        return True
    if not evidence.is_visible_to_others:
        return False
    return bool(
        db.session.scalar(
            select(exists().where(Evidence.id == evidence.id, evidence_readable_by(actor)))
        )
    )


def evidence_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which Evidence rows the viewer may open, as a condition for any query: the evidence.view
    rule itself, so that the item page, lists, search, notifications and counts agree.

    The owner, always (their Trash included). Anyone else only while the item is shared and out
    of the Trash, and then only the owner's managers up the line, their mentors and the peers
    the owner asked to corroborate it (asking needs a shared item). Nobody else: the head of
    product sees an item only from that line (or, in a promotion case, in its packet).
    """
    line_and_mentees = {*org.reports_below(viewer.id), *org.mentees_of(viewer.id)}
    asked = select(Corroboration.evidence_id).where(Corroboration.peer_id == viewer.id)
    return or_(
        Evidence.owner_id == viewer.id,
        Evidence.is_visible_to_others
        & or_(Evidence.owner_id.in_(line_and_mentees), Evidence.id.in_(asked)),
    )


@rule("growth.view")
def _can_view_growth(actor: User, person: User | None) -> bool:
    """Readiness is read from evidence, so it follows who sees the evidence: the person, and
    (computed from shared items only) their managers up the line and their mentors."""
    if person is None:
        return True
    if person.id == actor.id:
        return True
    return actor.id in org.managers_above(person.id) or actor.id in org.mentors_of(person.id)


@rule("evidence.edit")
def _owns_evidence(actor: User, evidence) -> bool:
    return evidence is None or evidence.owner_id == actor.id


@rule("evidence.comment")
def _can_comment(actor: User, evidence) -> bool:
    """Shared items: the owner, their managers up the line and their mentors."""
    if evidence is None:
        return True
    if not evidence.is_visible_to_others:
        return False
    return (
        evidence.owner_id == actor.id
        or actor.id in org.managers_above(evidence.owner_id)
        or actor.id in org.mentors_of(evidence.owner_id)
    )


@rule("evidence.kudos")
def _can_give_kudos(actor: User, evidence) -> bool:
    """Shared items: everyone who may see them except the owner."""
    if evidence is None:
        return True
    return (
        evidence.is_shared and evidence.owner_id != actor.id and _can_view_evidence(actor, evidence)
    )


# --- promotion cycles --------------------------------------------------------------------------
# Cases are seen by the candidate (their phase; results only once the cycle is published), the
# candidate's manager chain, the people of the case's calibration session and the head of product.
# What may be done also depends on the cycle's phase (app/services/promotions/phases.py).


@rule("promotions.view")
def _promotions_page(actor: User, target: Any) -> bool:
    return True


@rule("cycles.manage")
@rule("fairness.view")
def _runs_cycles(actor: User, target: Any) -> bool:
    return actor.role is Role.HEAD


@rule("case.nominate")
def _can_nominate(actor: User, candidate: User | None) -> bool:
    """In the form of `nominable_by` (read there)."""
    if not actor.is_manager:
        return False
    if candidate is None:
        return True
    return bool(
        db.session.scalar(select(exists().where(User.id == candidate.id, nominable_by(actor))))
    )


def nominable_by(viewer: User) -> ColumnElement[bool]:
    """Which User rows the viewer may nominate (the case.nominate rule): managers the people
    who report to them at any depth, the head of product anyone; nobody themselves."""
    if not viewer.is_manager:
        return false()
    if viewer.role is Role.HEAD:
        return User.id != viewer.id
    return (User.id != viewer.id) & User.id.in_(org.reports_below_query(viewer.id))


def _cycle(case: PromotionCase) -> PromotionCycle:
    return db.session.get(PromotionCycle, case.cycle_id)


def _case_matches(case: PromotionCase, condition: ColumnElement[bool]) -> bool:
    """One case against a rule's filter: the check and the list cannot disagree."""
    return bool(db.session.scalar(select(exists().where(PromotionCase.id == case.id, condition))))


def _sessions_with(person_id: int) -> Select:
    """Ids of the sessions the person facilitates or takes part in, as a subquery."""
    participating = select(calibration_participants.c.session_id).where(
        calibration_participants.c.user_id == person_id
    )
    return select(CalibrationSession.id).where(
        or_(
            CalibrationSession.facilitator_id == person_id,
            CalibrationSession.id.in_(participating),
        )
    )


def committee_cases_of(viewer: User) -> ColumnElement[bool]:
    """The PromotionCase rows whose ratings the viewer may see before they are published:
    the head of product, the candidate's manager and managers up the line, and the people of
    the case's calibration session; never the candidate."""
    not_candidate = PromotionCase.candidate_id != viewer.id
    if viewer.role is Role.HEAD:
        return not_candidate
    return not_candidate & or_(
        PromotionCase.manager_id == viewer.id,
        PromotionCase.candidate_id.in_(org.reports_below_query(viewer.id)),
        PromotionCase.session_id.in_(_sessions_with(viewer.id)),
    )


def _on_committee(actor: User, case: PromotionCase) -> bool:
    """Everyone who may see a case's ratings before it is published (never the candidate)."""
    return actor.id != case.candidate_id and _case_matches(case, committee_cases_of(actor))


def cases_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which PromotionCase rows the viewer may open (the case.view rule), for any query: the
    candidate and the committee (`committee_cases_of`)."""
    return or_(PromotionCase.candidate_id == viewer.id, committee_cases_of(viewer))


def results_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which PromotionCase rows' agreed ratings, outcome and decision the viewer may see (the
    case.view_result rule): the committee; the candidate once the cycle is published."""
    published = select(PromotionCycle.id).where(PromotionCycle.phase == CyclePhase.PUBLISHED)
    return or_(
        (PromotionCase.candidate_id == viewer.id) & PromotionCase.cycle_id.in_(published),
        committee_cases_of(viewer),
    )


def session_ids_readable_by(viewer: User, session_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The session.view rule on any column holding a session's id (a case's `session_id`
    too): the head of product sees every session, the others the ones they are people of."""
    if viewer.role is Role.HEAD:
        return session_id.is_not(None)
    return session_id.in_(_sessions_with(viewer.id))


def sessions_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which CalibrationSession rows the viewer may open (the session.view rule)."""
    return session_ids_readable_by(viewer, CalibrationSession.id)


@rule("case.view")
def _can_view_case(actor: User, case: PromotionCase | None) -> bool:
    """In the form of `cases_readable_by` (read there)."""
    if case is None:
        return True
    return actor.id == case.candidate_id or _on_committee(actor, case)


@rule("case.view_assessment")
@rule("case.view_log")
def _committee_only(actor: User, case: PromotionCase | None) -> bool:
    """The manager's ratings and statement, and the decision log: never the candidate."""
    return case is None or _on_committee(actor, case)


@rule("case.view_self_assessment")
def _can_view_self_assessment(actor: User, case: PromotionCase | None) -> bool:
    """The candidate's own; for the committee only once the manager's assessment is in, so
    that the manager rates without being anchored by it."""
    if case is None:
        return True
    if actor.id == case.candidate_id:
        return True
    return case.manager_submitted_at is not None and _on_committee(actor, case)


@rule("case.view_result")
def _can_view_result(actor: User, case: PromotionCase | None) -> bool:
    """In the form of `results_readable_by` (read there)."""
    return case is None or _case_matches(case, results_readable_by(actor))


@rule("case.self_assess")
def _can_self_assess(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return True
    return (
        actor.id == case.candidate_id
        and case.is_open
        and case.self_submitted_at is None
        and allows(_cycle(case).phase, Activity.SELF_ASSESS)
    )


@rule("case.manager_assess")
def _can_manager_assess(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return actor.is_manager
    return (
        (actor.id == case.manager_id or actor.role is Role.HEAD)
        and actor.id != case.candidate_id
        and case.is_open
        and case.manager_submitted_at is None
        and allows(_cycle(case).phase, Activity.MANAGER_ASSESS)
    )


@rule("case.withdraw")
def _can_withdraw(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return actor.is_manager
    return (
        (actor.role is Role.HEAD or actor.id in (case.manager_id, case.nominated_by_id))
        and actor.id != case.candidate_id
        and case.is_open
        and allows(_cycle(case).phase, Activity.WITHDRAW)
    )


@rule("case.decide")
def _can_decide(actor: User, case: PromotionCase | None) -> bool:
    if actor.role is not Role.HEAD:
        return False
    return case is None or (case.is_open and allows(_cycle(case).phase, Activity.DECIDE))


@rule("session.view")
def _can_view_session(actor: User, session: CalibrationSession | None) -> bool:
    """In the form of `sessions_readable_by` (read there)."""
    if session is None:
        return actor.is_manager
    return bool(
        db.session.scalar(
            select(exists().where(CalibrationSession.id == session.id, sessions_readable_by(actor)))
        )
    )


def _is_participant(actor_id: int, session_id: int) -> bool:
    return (
        db.session.execute(
            select(calibration_participants.c.user_id).where(
                calibration_participants.c.session_id == session_id,
                calibration_participants.c.user_id == actor_id,
            )
        ).first()
        is not None
    )


@rule("session.vote")
def _can_vote(actor: User, session: CalibrationSession | None) -> bool:
    if session is None:
        return actor.is_manager
    return (
        not session.is_locked
        and _is_participant(actor.id, session.id)
        and allows(db.session.get(PromotionCycle, session.cycle_id).phase, Activity.VOTE)
    )


@rule("session.facilitate")
def _can_facilitate(actor: User, session: CalibrationSession | None) -> bool:
    if session is None:
        return actor.is_manager
    return (
        not session.is_locked
        and actor.id == session.facilitator_id
        and allows(db.session.get(PromotionCycle, session.cycle_id).phase, Activity.CALIBRATE)
    )


@rule("session.reopen")
def _can_reopen(actor: User, session: CalibrationSession | None) -> bool:
    if actor.role is not Role.HEAD:
        return False
    return session is None or (
        session.is_locked
        and allows(db.session.get(PromotionCycle, session.cycle_id).phase, Activity.CALIBRATE)
    )


@rule("votes.view")
def _can_see_votes(actor: User, case: PromotionCase | None) -> bool:
    """Others' pre-votes on a case: blind until the viewer has voted on it in its session or
    the facilitator revealed the session's votes; only for the session's people and the head,
    never for the candidate."""
    return case is None or case.id in votes_visible(actor, [case.id])


def votes_visible(actor: User, case_ids: Iterable[int]) -> set[int]:
    """The cases among `case_ids` whose votes the actor may see (the votes.view rule), for any
    number of cases in one query: the meeting grid and the decision logs ask for many."""
    case_ids = set(case_ids)
    if not case_ids:
        return set()
    is_participant = (
        exists()
        .where(
            calibration_participants.c.session_id == CalibrationSession.id,
            calibration_participants.c.user_id == actor.id,
        )
        .correlate(CalibrationSession)
    )
    has_voted = (
        exists()
        .where(
            Vote.case_id == PromotionCase.id,
            Vote.session_id == PromotionCase.session_id,
            Vote.voter_id == actor.id,
        )
        .correlate(PromotionCase)
    )
    rows = db.session.execute(
        select(
            PromotionCase.id,
            PromotionCase.candidate_id,
            CalibrationSession.facilitator_id,
            CalibrationSession.votes_revealed_at,
            is_participant,
            has_voted,
        )
        .join(CalibrationSession, PromotionCase.session_id == CalibrationSession.id)
        .where(PromotionCase.id.in_(case_ids))
    ).all()
    return {
        case_id
        for case_id, candidate_id, facilitator_id, revealed_at, participant, voted in rows
        if candidate_id != actor.id
        and (actor.role is Role.HEAD or actor.id == facilitator_id or participant)
        and (revealed_at is not None or voted)
    }


@rule("packet.committee")
def _gets_committee_packet(actor: User, case: PromotionCase | None) -> bool:
    """The committee's packet (votes, rationales, the decision log): the head of product and
    the candidate's manager chain; never the candidate."""
    if case is None:
        return actor.is_manager
    if actor.id == case.candidate_id:
        return False
    return (
        actor.role is Role.HEAD
        or actor.id == case.manager_id
        or actor.id in org.managers_above(case.candidate_id)
    )


def packet_shows_votes(session: CalibrationSession | None) -> bool:
    """Whether the committee packet of a case in `session` names the votes: once the session
    is locked or its votes revealed. The packet is one document for everyone who may have it
    (packet.committee), so this cannot follow votes.view, which is per viewer."""
    return session is not None and (session.is_locked or session.votes_revealed)


@rule("packet.candidate")
def _gets_candidate_packet(actor: User, case: PromotionCase | None) -> bool:
    """The candidate's packet: the candidate once the cycle is published, and whoever may have
    the committee's (it shows less)."""
    if case is None:
        return True
    if actor.id == case.candidate_id:
        return _cycle(case).is_published
    return _gets_committee_packet(actor, case)


@rule("job.view")
def _own_job(actor: User, job) -> bool:
    """A background job and its file: only for whoever started it."""
    return job is None or job.created_by_id == actor.id


def visible_people(actor: User) -> set[int] | None:
    """Whose profile the actor may see: None means everyone (the head of product).

    Otherwise the people they are linked to: themselves, their managers up the line, everyone
    who reports to them at any depth, their mentors and their mentees.
    """
    if actor.role is Role.HEAD:
        return None
    return org.related_people(actor.id)


# --- view marking and enforcement -------------------------------------------------------------


def requires(action: str):
    """Mark a view as needing a signed-in person whom the policy allows `action` (route level)."""
    if action not in RULES:
        raise LookupError(f"no policy rule for {action!r}")

    def mark(view):
        view.policy_action = action
        return view

    return mark


def public(view):
    """Mark a view as reachable without signing in."""
    view.is_public = True
    return view


def enforce() -> Any:
    """before_request hook: sign-in and the route-level rule, before any view runs."""
    if request.endpoint is None:
        return None  # no such route: the 404 follows
    view = current_app.view_functions[request.endpoint]
    if request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    action = getattr(view, "policy_action", None)
    if action is None or not can(current_user, action):
        abort(403)
    return None
