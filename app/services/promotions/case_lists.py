"""What the promotion pages list, each in a fixed number of queries whatever the number of cases.

Who sees which case follows the policy's rules `case.view`, `case.view_result` and
`session.view` (app/policy.py), evaluated here for a whole page at once: the policy asks per
case and would cost queries per row. tests/services/test_promotion_cycles.py checks that both
agree for every person of an organisation and every case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    FrameworkVersion,
    Level,
    Outcome,
    PromotionCase,
    PromotionCycle,
    Role,
    Track,
    User,
    calibration_participants,
)
from app.services import org

PER_PAGE = 25


@dataclass(frozen=True)
class Scope:
    """Who the viewer is to cases: read once per page (two queries at most)."""

    viewer_id: int
    is_head: bool
    below: frozenset[int]  # everyone reporting to the viewer, at any depth
    sessions: frozenset[int]  # sessions the viewer facilitates or takes part in

    def sees_case(self, case) -> bool:
        return self.viewer_id == case.candidate_id or self.on_committee(case)

    def on_committee(self, case) -> bool:
        if self.viewer_id == case.candidate_id:
            return False
        return (
            self.is_head
            or self.viewer_id == case.manager_id
            or case.candidate_id in self.below
            or (case.session_id is not None and case.session_id in self.sessions)
        )

    def sees_result(self, case, is_published: bool) -> bool:
        if self.viewer_id == case.candidate_id:
            return is_published
        return self.on_committee(case)

    def case_filter(self):
        """SQL for `sees_case`."""
        if self.is_head:
            return true()
        return or_(
            PromotionCase.candidate_id == self.viewer_id,
            PromotionCase.manager_id == self.viewer_id,
            PromotionCase.candidate_id.in_(self.below) if self.below else false(),
            PromotionCase.session_id.in_(self.sessions) if self.sessions else false(),
        )

    def sees_session(self, session_id: int | None) -> bool:
        """The rule `session.view`: the head of product and the session's people."""
        return session_id is not None and (self.is_head or session_id in self.sessions)


def scope(viewer: User) -> Scope:
    if viewer.role is Role.HEAD:
        return Scope(viewer.id, True, frozenset(), frozenset(_sessions_of(viewer.id)))
    below = frozenset(org.reports_below(viewer.id)) if viewer.is_manager else frozenset()
    return Scope(viewer.id, False, below, frozenset(_sessions_of(viewer.id)))


def _sessions_of(person_id: int) -> list[int]:
    participating = select(calibration_participants.c.session_id).where(
        calibration_participants.c.user_id == person_id
    )
    return list(
        db.session.execute(
            select(CalibrationSession.id).where(
                or_(
                    CalibrationSession.facilitator_id == person_id,
                    CalibrationSession.id.in_(participating),
                )
            )
        ).scalars()
    )


@dataclass(frozen=True)
class CaseRow:
    """One case as a list shows it; outcome and decision only when the viewer may see them."""

    id: int
    cycle_id: int
    cycle_name: str
    phase: CyclePhase
    candidate_id: int
    candidate_name: str
    manager_name: str
    current_level: str
    proposed_level: str
    proposed_track: str
    is_open: bool
    is_self_submitted: bool
    is_manager_submitted: bool
    session_id: int | None
    session_name: str | None
    may_open_session: bool
    outcome: Outcome | None
    decision: Outcome | None
    is_own: bool


def _case_query():
    return (
        select(PromotionCase)
        .join(User, PromotionCase.candidate_id == User.id)
        .options(
            joinedload(PromotionCase.cycle),
            joinedload(PromotionCase.candidate),
            joinedload(PromotionCase.manager),
            joinedload(PromotionCase.current_level),
            joinedload(PromotionCase.proposed_level).joinedload(Level.track),
            joinedload(PromotionCase.session),
        )
    )


def _row(case: PromotionCase, seen: Scope) -> CaseRow:
    shows_result = seen.sees_result(case, case.cycle.is_published)
    return CaseRow(
        id=case.id,
        cycle_id=case.cycle_id,
        cycle_name=case.cycle.name,
        phase=case.cycle.phase,
        candidate_id=case.candidate_id,
        candidate_name=case.candidate.name,
        manager_name=case.manager.name,
        current_level=f"{case.current_level.code} · {case.current_level.title}",
        proposed_level=f"{case.proposed_level.code} · {case.proposed_level.title}",
        proposed_track=case.proposed_level.track.name,
        is_open=case.is_open,
        is_self_submitted=case.self_submitted_at is not None,
        is_manager_submitted=case.manager_submitted_at is not None,
        session_id=case.session_id,
        session_name=case.session.name if case.session else None,
        may_open_session=seen.sees_session(case.session_id),
        outcome=case.outcome if shows_result else None,
        decision=case.decision if shows_result else None,
        is_own=case.candidate_id == seen.viewer_id,
    )


def cycle_cases(viewer: User, cycle_id: int, page: int) -> tuple[Pagination, list[CaseRow]]:
    """A page of the cycle's cases the viewer may see: open ones first, then by name."""
    seen = scope(viewer)
    pagination = db.paginate(
        _case_query()
        .where(PromotionCase.cycle_id == cycle_id, seen.case_filter())
        .order_by(PromotionCase.withdrawn_at.is_not(None), User.name, PromotionCase.id),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, [_row(case, seen) for case in pagination.items]


def visible_cases(viewer: User, page: int) -> tuple[Pagination, list[CaseRow]]:
    """Cases across cycles the viewer may see, apart from their own: newest cycle first."""
    seen = scope(viewer)
    pagination = db.paginate(
        _case_query()
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(seen.case_filter(), PromotionCase.candidate_id != viewer.id)
        .order_by(
            PromotionCycle.created_at.desc(),
            PromotionCycle.id.desc(),
            PromotionCase.withdrawn_at.is_not(None),
            User.name,
            PromotionCase.id,
        ),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    return pagination, [_row(case, seen) for case in pagination.items]


def own_cases(viewer: User) -> list[CaseRow]:
    """The viewer's own cases (a handful at most: one per cycle), newest first."""
    seen = scope(viewer)
    cases = db.session.execute(
        _case_query()
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(PromotionCase.candidate_id == viewer.id)
        .order_by(PromotionCycle.created_at.desc(), PromotionCase.id.desc())
    ).scalars()
    return [_row(case, seen) for case in cases]


@dataclass(frozen=True)
class CycleSummary:
    id: int
    name: str
    phase: CyclePhase
    created_at: datetime
    published_at: datetime | None
    open_cases: int


def cycles(page: int) -> tuple[Pagination, list[CycleSummary]]:
    """Every cycle, newest first, with its number of open cases (two queries)."""
    pagination = db.paginate(
        select(PromotionCycle).order_by(PromotionCycle.created_at.desc(), PromotionCycle.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    shown = list(pagination.items)
    counts = dict(
        db.session.execute(
            select(PromotionCase.cycle_id, func.count(PromotionCase.id))
            .where(
                PromotionCase.cycle_id.in_([c.id for c in shown]),
                PromotionCase.withdrawn_at.is_(None),
            )
            .group_by(PromotionCase.cycle_id)
        ).all()
    )
    return pagination, [
        CycleSummary(c.id, c.name, c.phase, c.created_at, c.published_at, counts.get(c.id, 0))
        for c in shown
    ]


# --- choices for the forms ---------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    group: str = ""


def nominees(viewer: User, cycle_id: int) -> list[Choice]:
    """Active people the viewer may nominate, placed on a level, without an open case here."""
    with_case = select(PromotionCase.candidate_id).where(
        PromotionCase.cycle_id == cycle_id, PromotionCase.withdrawn_at.is_(None)
    )
    query = (
        select(User.id, User.name, Level.code, Level.title)
        .join(Level, User.level_id == Level.id)
        .where(
            User.deactivated_at.is_(None),
            User.id != viewer.id,
            User.id.not_in(with_case),
        )
        .order_by(User.name, User.id)
    )
    if viewer.role is not Role.HEAD:
        if not viewer.is_manager:
            return []
        below = org.reports_below(viewer.id)
        if not below:
            return []
        query = query.where(User.id.in_(below))
    return [
        Choice(person_id, f"{name} — now {code} · {title}")
        for person_id, name, code, title in db.session.execute(query)
    ]


def proposed_levels(cycle: PromotionCycle) -> list[Choice]:
    """Every level of the cycle's versions, grouped by framework and track, lowest rank first."""
    rows = db.session.execute(
        select(Level.id, Level.code, Level.title, Track.name, FrameworkVersion.name)
        .join(Track, Level.track_id == Track.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.version_id.in_([v.id for v in cycle.versions]))
        .order_by(FrameworkVersion.name, Track.position, Level.rank, Level.position)
    ).all()
    return [
        Choice(level_id, f"{code} · {title}", f"{framework} — {track}")
        for level_id, code, title, track, framework in rows
    ]


# --- notifications -----------------------------------------------------------------------------


def case_titles(viewer: User, case_ids: set[int]) -> dict[int, str]:
    """ "Alice's case (H1 2027)" for the cases the viewer may still open (one query)."""
    if not case_ids:
        return {}
    seen = scope(viewer)
    rows = db.session.execute(
        select(PromotionCase.id, User.name, PromotionCycle.name, PromotionCase.candidate_id)
        .join(User, PromotionCase.candidate_id == User.id)
        .join(PromotionCycle, PromotionCase.cycle_id == PromotionCycle.id)
        .where(PromotionCase.id.in_(case_ids), seen.case_filter())
    ).all()
    return {
        case_id: (
            f"your case in {cycle}" if candidate_id == viewer.id else f"{name}'s case in {cycle}"
        )
        for case_id, name, cycle, candidate_id in rows
    }


def session_names(viewer: User, session_ids: set[int]) -> dict[int, str]:
    """Names of the calibration sessions the viewer may open (one query)."""
    if not session_ids:
        return {}
    seen = scope(viewer)
    visible = session_ids if seen.is_head else session_ids & seen.sessions
    if not visible:
        return {}
    return dict(
        db.session.execute(
            select(CalibrationSession.id, CalibrationSession.name).where(
                CalibrationSession.id.in_(visible)
            )
        ).all()
    )
