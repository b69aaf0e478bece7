"""The calibration panels of the cycle page (its sessions) and of the case page (its session,
agreed ratings and outcome): never votes or who voted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import (
    CalibrationSession,
    CaseRating,
    Outcome,
    PromotionCase,
    PromotionCycle,
    Rating,
    RatingSource,
    User,
)
from app.services.promotions.calibration.checks import expected_at, may_plan

# --- the cycle page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionSummary:
    id: int
    name: str
    facilitator: str
    cases: int
    is_locked: bool
    votes_revealed: bool
    scheduled_at: datetime | None = None  # when it meets (UTC)


@dataclass(frozen=True)
class SessionsPanel:
    cycle_id: int
    sessions: list[SessionSummary]
    may_plan: bool  # "New session"


def sessions_panel(viewer: User, cycle: PromotionCycle) -> SessionsPanel:
    """The cycle's sessions the viewer may open, and whether they may plan one now."""
    return SessionsPanel(cycle.id, sessions_of(viewer, cycle.id), may_plan(viewer, cycle))


def sessions_of(viewer: User, cycle_id: int) -> list[SessionSummary]:
    """The cycle's sessions the viewer may open (all for the head of product): two queries."""
    query = (
        select(CalibrationSession, User.name)
        .join(User, CalibrationSession.facilitator_id == User.id)
        .where(CalibrationSession.cycle_id == cycle_id)
        .order_by(CalibrationSession.name, CalibrationSession.id)
    )
    rows = db.session.execute(query.where(policy.sessions_readable_by(viewer))).all()
    if not rows:
        return []
    counts = dict(
        db.session.execute(
            select(PromotionCase.session_id, func.count())
            .where(
                PromotionCase.session_id.in_([s.id for s, _ in rows]),
                PromotionCase.withdrawn_at.is_(None),
            )
            .group_by(PromotionCase.session_id)
        ).all()
    )
    return [
        SessionSummary(
            s.id,
            s.name,
            name,
            counts.get(s.id, 0),
            s.is_locked,
            s.votes_revealed,
            s.scheduled_at,
        )
        for s, name in rows
    ]


# --- the case page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreedLine:
    name: str
    rating: Rating | None
    rationale: str
    rationale_html: Markup
    key: str = ""


@dataclass(frozen=True)
class CasePanel:
    session_id: int
    session_name: str
    scheduled_at: datetime | None
    is_locked: bool
    may_open_session: bool
    shows_result: bool
    agreed: list[AgreedLine]
    outcome: Outcome | None
    outcome_rationale: str
    outcome_rationale_html: Markup


def case_panel(viewer: User, case: PromotionCase) -> CasePanel | None:
    """The calibration part of a case page: never votes or who voted."""
    if case.session_id is None or case.session is None:
        return None
    session = case.session
    shows_result = policy.can(viewer, "case.view_result", case)
    agreed: list[AgreedLine] = []
    if shows_result:
        stored = {
            r.competency_key: r
            for r in db.session.scalars(
                select(CaseRating).where(
                    CaseRating.case_id == case.id, CaseRating.source == RatingSource.AGREED
                )
            )
        }
        agreed = [
            AgreedLine(
                e.name,
                stored[e.key].rating,
                stored[e.key].rationale,
                stored[e.key].html("rationale"),
                e.key,
            )
            for e in expected_at(case.proposed_level_id)
            if e.key in stored
        ]
    outcome_rationale = case.outcome_rationale if shows_result else ""
    return CasePanel(
        session_id=session.id,
        scheduled_at=session.scheduled_at,
        session_name=session.name,
        is_locked=session.is_locked,
        may_open_session=policy.can(viewer, "session.view", session),
        shows_result=shows_result,
        agreed=agreed,
        outcome=case.outcome if shows_result else None,
        outcome_rationale=outcome_rationale,
        outcome_rationale_html=case.html("outcome_rationale") if shows_result else Markup(""),
    )
