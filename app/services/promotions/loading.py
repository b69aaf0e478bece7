"""Loading a cycle, a case or a session with what every page of it shows (relationships are
lazy="raise" everywhere, so what is not loaded here cannot be read by accident)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    CalibrationSession,
    FrameworkVersion,
    Level,
    PromotionCase,
    PromotionCycle,
    User,
)


def cycle(cycle_id: int) -> PromotionCycle:
    found = db.session.execute(
        select(PromotionCycle)
        .where(PromotionCycle.id == cycle_id)
        .options(selectinload(PromotionCycle.versions).joinedload(FrameworkVersion.framework))
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError("There is no such promotion cycle.")
    return found


def case(case_id: int) -> PromotionCase:
    found = db.session.execute(
        select(PromotionCase)
        .where(PromotionCase.id == case_id)
        .options(
            joinedload(PromotionCase.cycle),
            joinedload(PromotionCase.candidate),
            joinedload(PromotionCase.manager),
            joinedload(PromotionCase.current_level).joinedload(Level.track),
            joinedload(PromotionCase.proposed_level).joinedload(Level.track),
            joinedload(PromotionCase.session),
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError("There is no such promotion case.")
    return found


def session(session_id: int) -> CalibrationSession:
    found = db.session.execute(
        select(CalibrationSession)
        .where(CalibrationSession.id == session_id)
        .options(
            joinedload(CalibrationSession.cycle),
            joinedload(CalibrationSession.facilitator),
            selectinload(CalibrationSession.participants),
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError("There is no such calibration session.")
    return found


def session_cases(session_id: int) -> list[PromotionCase]:
    """The open cases of a session with their candidate, by the candidate's name."""
    return list(
        db.session.scalars(
            select(PromotionCase)
            .join(User, PromotionCase.candidate_id == User.id)
            .where(PromotionCase.session_id == session_id, PromotionCase.withdrawn_at.is_(None))
            .options(joinedload(PromotionCase.candidate))
            .order_by(User.name, PromotionCase.id)
        )
    )
