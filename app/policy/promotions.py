"""Rules about promotion cases: who nominates, sees a case, its assessments and its result, and
who acts on it in which phase.

Cases are seen by the candidate (their phase; results only once the cycle is published), the
candidate's manager chain, the people of the case's calibration session and the head of product.
What may be done also depends on the cycle's phase (app/policy/phases.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    PromotionCase,
    PromotionCycle,
    Role,
    User,
    calibration_participants,
)
from app.policy import lines
from app.policy.phases import Activity, allows
from app.policy.rules import matches, rule


@rule("promotions.view")
def _promotions_page(actor: User, target: Any) -> bool:
    return True


@rule("cycles.manage", "fairness.view")
def _runs_cycles(actor: User, target: Any) -> bool:
    return actor.role is Role.HEAD


def nominable_by(viewer: User) -> ColumnElement[bool]:
    """Which User rows the viewer may nominate (case.nominate): managers the people who report
    to them at any depth, the head of product anyone; nobody themselves."""
    if not viewer.is_manager:
        return false()
    if viewer.role is Role.HEAD:
        return User.id != viewer.id
    return (User.id != viewer.id) & User.id.in_(lines.reports_below_query(viewer.id))


@rule("case.nominate", on=User, where=nominable_by)
def _can_nominate(actor: User, candidate: User | None) -> bool:
    if not actor.is_manager:
        return False
    return candidate is None or matches(candidate, nominable_by(actor))


def sessions_with(person_id: int) -> Select:
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
    """The PromotionCase rows whose ratings the viewer may see before they are published
    (case.view_assessment, case.view_log): the head of product, the candidate's manager and
    managers up the line, and the people of the case's calibration session; never the
    candidate."""
    not_candidate = PromotionCase.candidate_id != viewer.id
    if viewer.role is Role.HEAD:
        return not_candidate
    return not_candidate & or_(
        PromotionCase.manager_id == viewer.id,
        PromotionCase.candidate_id.in_(lines.reports_below_query(viewer.id)),
        PromotionCase.session_id.in_(sessions_with(viewer.id)),
    )


def on_committee(actor: User, case: PromotionCase) -> bool:
    return actor.id != case.candidate_id and matches(case, committee_cases_of(actor))


@rule("case.view_assessment", "case.view_log", on=PromotionCase, where=committee_cases_of)
def _committee_only(actor: User, case: PromotionCase | None) -> bool:
    """The manager's ratings and statement, and the decision log: never the candidate."""
    return case is None or on_committee(actor, case)


def cases_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which PromotionCase rows the viewer may open (case.view): the candidate and the
    committee (`committee_cases_of`)."""
    return or_(PromotionCase.candidate_id == viewer.id, committee_cases_of(viewer))


@rule("case.view", on=PromotionCase, where=cases_readable_by)
def _can_view_case(actor: User, case: PromotionCase | None) -> bool:
    return case is None or actor.id == case.candidate_id or on_committee(actor, case)


def self_assessments_readable_by(viewer: User) -> ColumnElement[bool]:
    """Whose self-assessment the viewer may read (case.view_self_assessment): the candidate's
    own; the committee's only once the manager's assessment is in, so that the manager rates
    without being anchored by it."""
    return or_(
        PromotionCase.candidate_id == viewer.id,
        PromotionCase.manager_submitted_at.is_not(None) & committee_cases_of(viewer),
    )


@rule("case.view_self_assessment", on=PromotionCase, where=self_assessments_readable_by)
def _can_view_self_assessment(actor: User, case: PromotionCase | None) -> bool:
    if case is None or actor.id == case.candidate_id:
        return True
    return case.manager_submitted_at is not None and on_committee(actor, case)


def published_cycles() -> Select:
    return select(PromotionCycle.id).where(PromotionCycle.phase == CyclePhase.PUBLISHED)


def results_readable_by(viewer: User) -> ColumnElement[bool]:
    """Which PromotionCase rows' agreed ratings, outcome and decision the viewer may see
    (case.view_result): the committee; the candidate once the cycle is published."""
    return or_(
        (PromotionCase.candidate_id == viewer.id) & PromotionCase.cycle_id.in_(published_cycles()),
        committee_cases_of(viewer),
    )


@rule("case.view_result", on=PromotionCase, where=results_readable_by)
def _can_view_result(actor: User, case: PromotionCase | None) -> bool:
    return case is None or matches(case, results_readable_by(actor))


# --- acting on one case: asked of one case at a time, so these have no filter -----------------


def _phase(case: PromotionCase) -> CyclePhase:
    return db.session.get(PromotionCycle, case.cycle_id).phase


@rule("case.self_assess", on=PromotionCase)
def _can_self_assess(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return True
    return (
        actor.id == case.candidate_id
        and case.is_open
        and case.self_submitted_at is None
        and allows(_phase(case), Activity.SELF_ASSESS)
    )


@rule("case.manager_assess", on=PromotionCase)
def _can_manager_assess(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return actor.is_manager
    return (
        (actor.id == case.manager_id or actor.role is Role.HEAD)
        and actor.id != case.candidate_id
        and case.is_open
        and case.manager_submitted_at is None
        and allows(_phase(case), Activity.MANAGER_ASSESS)
    )


@rule("case.withdraw", on=PromotionCase)
def _can_withdraw(actor: User, case: PromotionCase | None) -> bool:
    if case is None:
        return actor.is_manager
    return (
        (actor.role is Role.HEAD or actor.id in (case.manager_id, case.nominated_by_id))
        and actor.id != case.candidate_id
        and case.is_open
        and allows(_phase(case), Activity.WITHDRAW)
    )


@rule("case.decide", on=PromotionCase)
def _can_decide(actor: User, case: PromotionCase | None) -> bool:
    if actor.role is not Role.HEAD:
        return False
    return case is None or (case.is_open and allows(_phase(case), Activity.DECIDE))
