"""Rules about calibration sessions: who opens one, votes, facilitates, reopens, sees the votes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, or_, select

from app.extensions import db
from app.models import (
    CalibrationSession,
    PromotionCase,
    PromotionCycle,
    Role,
    User,
    Vote,
    calibration_participants,
)
from app.policy.packets import committee_packets_of
from app.policy.phases import Activity, allows
from app.policy.promotions import sessions_with
from app.policy.rules import matches, rule


def session_ids_readable_by(viewer: User, session_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The session.view rule on any column holding a session's id (a case's `session_id`
    too): the head of product sees every session, the others the ones they are people of."""
    if viewer.role is Role.HEAD:
        return session_id.is_not(None)
    return session_id.in_(sessions_with(viewer.id))


def sessions_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which CalibrationSession rows the viewer may open (session.view)."""
    return session_ids_readable_by(viewer, CalibrationSession.id)


@rule("session.view", on=CalibrationSession, where=sessions_readable_by)
def _can_view_session(actor: User, session: CalibrationSession | None) -> bool:
    if session is None:
        return actor.is_manager
    return matches(session, sessions_readable_by(actor))


def votes_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which PromotionCase rows' votes by others the viewer may see (votes.view); never the
    candidate's own. Before the session is locked the votes are blind: only the session's
    people (the head of product, the facilitator, the participants) see them, once they have
    voted on the case or the facilitator revealed the session's votes. Once it is locked (the
    decision record is made) the session's people see them, and so does everyone who may have
    the case's committee packet, which then names them (`packet_shows_votes`)."""
    is_locked = CalibrationSession.locked_at.is_not(None)
    locked = select(CalibrationSession.id).where(is_locked)
    opened = select(CalibrationSession.id).where(
        or_(is_locked, CalibrationSession.votes_revealed_at.is_not(None))
    )
    voted = exists().where(
        Vote.case_id == PromotionCase.id,
        Vote.session_id == PromotionCase.session_id,
        Vote.voter_id == viewer.id,
    )
    of_the_session = session_ids_readable_by(viewer, PromotionCase.session_id) & or_(
        PromotionCase.session_id.in_(opened), voted
    )
    return (PromotionCase.candidate_id != viewer.id) & or_(
        of_the_session,
        PromotionCase.session_id.in_(locked) & committee_packets_of(viewer),
    )


@rule("votes.view", on=PromotionCase, where=votes_readable_by)
def _can_see_votes(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return True
    return case.session_id is not None and matches(case, votes_readable_by(actor))


def votes_visible(actor: User, case_ids: Iterable[int]) -> set[int]:
    """The cases among `case_ids` whose votes the actor may see (the votes.view filter), for any
    number of cases in one query: the meeting grid and the decision logs ask for many."""
    case_ids = set(case_ids)
    if not case_ids:
        return set()
    return set(
        db.session.scalars(
            select(PromotionCase.id).where(PromotionCase.id.in_(case_ids), votes_readable_by(actor))
        )
    )


# --- acting on a session: asked of one session at a time, so these have no filter ------------


def _phase(session: CalibrationSession):
    return db.session.get(PromotionCycle, session.cycle_id).phase


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


@rule("session.vote", on=CalibrationSession)
def _can_vote(actor: User, session: CalibrationSession | None) -> bool:
    if session is None:
        return actor.is_manager
    return (
        not session.is_locked
        and _is_participant(actor.id, session.id)
        and allows(_phase(session), Activity.VOTE)
    )


@rule("session.facilitate", on=CalibrationSession)
def _can_facilitate(actor: User, session: CalibrationSession | None) -> bool:
    if session is None:
        return actor.is_manager
    return (
        not session.is_locked
        and actor.id == session.facilitator_id
        and allows(_phase(session), Activity.CALIBRATE)
    )


@rule("session.reopen", on=CalibrationSession)
def _can_reopen(actor: User, session: CalibrationSession | None) -> bool:
    if actor.role is not Role.HEAD:
        return False
    return session is None or (session.is_locked and allows(_phase(session), Activity.CALIBRATE))
