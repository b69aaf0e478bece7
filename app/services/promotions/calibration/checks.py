"""What every calibration verb and page starts with: the session the viewer may open, the case
in it, whether it may still change, the competencies of a level, the choices and texts a form
sends."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from sqlalchemy import select

from app import policy
from app.core.errors import ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import CalibrationSession, PromotionCase, PromotionCycle, User
from app.policy import phases
from app.policy.phases import Activity
from app.services.growth import readiness
from app.services.promotions import loading

TEXT_MAX = 5000

E = TypeVar("E", bound=Enum)


def visible_session(actor: User, session_id: int) -> CalibrationSession:
    """The session with its cycle, facilitator and participants, if the actor may open it."""
    session = loading.session(session_id)
    policy.authorize(actor, "session.view", session)
    return session


def require_editable(
    actor: User, session: CalibrationSession, activity: Activity, action: str
) -> None:
    """A clear message for a locked session or the wrong phase, then who may do it."""
    phases.require_unlocked(session)
    phases.require(session.cycle, activity)
    if not policy.can(actor, action, session):
        who = "participants vote" if action == "session.vote" else "facilitator does this"
        raise ForbiddenError(f"In {session.name} only the {who}.")


def case_in(session: CalibrationSession, case_id: int) -> PromotionCase:
    """An open case of the session, or not found."""
    case = loading.case(case_id)
    if case.session_id != session.id or not case.is_open:
        raise NotFoundError("This case is not in this session.")
    return case


def may_vote(viewer: User, session: CalibrationSession, case: PromotionCase) -> bool:
    """Whether the viewer votes on this case now: a participant, never on their own case."""
    return policy.can(viewer, "session.vote", session) and viewer.id != case.candidate_id


def may_plan(viewer: User, cycle: PromotionCycle) -> bool:
    """Whether the viewer may plan sessions of the cycle now: the head, in the phases that
    allow it."""
    return policy.can(viewer, "cycles.manage") and phases.allows(
        cycle.phase, Activity.PLAN_SESSIONS
    )


def expected_at(level_id: int) -> list[readiness.Expected]:
    """The competencies a level expects, in framework order."""
    return readiness.competencies_at([level_id])[level_id]


def choice(kind: type[E], value, field: str, message: str) -> E:
    """A member of `kind` from a member or its value, or the form's message at `field`."""
    try:
        return kind(getattr(value, "value", value))
    except ValueError:
        raise ValidationError(message, field=field) from None


def required_text(value: str | None, field: str, message: str) -> str:
    """A rationale the candidate reads: stripped, present, at most TEXT_MAX characters."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(message, field=field)
    if len(text) > TEXT_MAX:
        raise ValidationError(f"Use at most {TEXT_MAX:,} characters.", field=field)
    return text


def names_of(ids: set[int]) -> dict[int, str]:
    """People's names by id, in one query (none when there are no ids)."""
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
