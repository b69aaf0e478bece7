"""Promotion cycles and cases for the JSON API, read from the pages' own read-models.

A case is what its page (`pages.case_page`) shows the same person in the cycle's current
phase: the candidate their own case (their self-assessment; the outcome, decision and agreed
ratings only once the cycle is published), the committee (the manager chain, the session's
people, the head of product) the manager's statement and ratings. Votes follow the policy's
`votes.view`, as the meeting grid and the decision log do: never before the session reveals
them to the session's people, never to the candidate. Nothing here decides who sees what: it
only turns what the pages' read-models allow into plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import joinedload

from app import policy
from app.models import (
    CyclePhase,
    Level,
    Outcome,
    PromotionCase,
    Rating,
    User,
    Vote,
)
from app.services.promotions import case_lists, deadlines, loading, pages
from app.services.promotions.assessments.panel import RatingView
from app.services.promotions.calibration import panels as calibration_panels
from app.services.promotions.calibration.votes import participant_votes
from app.services.promotions.case_lists import CaseRow, CycleSummary

LIMIT_DEFAULT = 25
LIMIT_MAX = 100


def _bounded(limit: int) -> int:
    return max(1, min(limit, LIMIT_MAX))


# --- cycles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CyclesPage:
    cycles: list[CycleSummary]
    next_after: int | None  # the id the next page starts after; None on the last page


def cycles(viewer: User, after_id: int | None, limit: int) -> CyclesPage:
    """Every cycle, newest first, as the promotions page lists them to everyone signed in."""
    policy.authorize(viewer, "promotions.view")
    limit = _bounded(limit)
    found = case_lists.cycles_after(after_id, limit + 1)
    shown = found[:limit]
    return CyclesPage(shown, shown[-1].id if len(found) > limit else None)


@dataclass(frozen=True)
class PinnedVersion:
    id: int
    framework_id: int
    name: str
    number: int


@dataclass(frozen=True)
class PhaseDue:
    phase: CyclePhase
    due_at: datetime | None


@dataclass(frozen=True)
class SessionSummary:
    id: int
    name: str
    facilitator: str
    cases: int
    is_locked: bool
    votes_revealed: bool
    scheduled_at: datetime | None


@dataclass(frozen=True)
class Cycle:
    """A cycle as its page shows it: phase, due dates, pinned versions, the sessions the
    viewer may open (the cases are listed apart, a page at a time)."""

    id: int
    name: str
    phase: CyclePhase
    created_at: datetime
    published_at: datetime | None
    versions: list[PinnedVersion]
    due_dates: list[PhaseDue]
    sessions: list[SessionSummary]


def cycle(viewer: User, cycle_id: int) -> Cycle:
    policy.authorize(viewer, "promotions.view")
    found = loading.cycle(cycle_id)
    return Cycle(
        id=found.id,
        name=found.name,
        phase=found.phase,
        created_at=found.created_at,
        published_at=found.published_at,
        versions=[PinnedVersion(v.id, v.framework_id, v.name, v.number) for v in found.versions],
        due_dates=[PhaseDue(d.phase, d.due_at) for d in deadlines.phase_dates(found.id)],
        sessions=[
            SessionSummary(
                s.id, s.name, s.facilitator, s.cases, s.is_locked, s.votes_revealed, s.scheduled_at
            )
            for s in calibration_panels.sessions_of(viewer, found.id)
        ],
    )


@dataclass(frozen=True)
class CasesPage:
    cases: list[CaseRow]
    next_after: int | None


def cycle_cases(viewer: User, cycle_id: int, after_id: int | None, limit: int) -> CasesPage:
    """The cycle's cases the viewer may see, as the cycle page lists them, by id."""
    policy.authorize(viewer, "promotions.view")
    loading.cycle(cycle_id)  # NotFoundError for a cycle that does not exist
    limit = _bounded(limit)
    found = case_lists.cycle_cases_after(viewer, cycle_id, after_id, limit + 1)
    shown = found[:limit]
    return CasesPage(shown, shown[-1].id if len(found) > limit else None)


# --- one case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelView:
    id: int
    code: str
    title: str
    track: str


@dataclass(frozen=True)
class LinkedEvidence:
    id: int
    title: str
    occurred_on: date
    can_open: bool  # the caller may read it (GET /evidence/{id})


@dataclass(frozen=True)
class GivenRating:
    rating: Rating | None  # None while a draft leaves it open
    rationale: str
    evidence: list[LinkedEvidence]


@dataclass(frozen=True)
class AgreedRating:
    rating: Rating | None
    rationale: str


@dataclass(frozen=True)
class CastVote:
    voter_id: int
    voter_name: str
    rating: Rating


@dataclass(frozen=True)
class CompetencyLine:
    """One competency of the proposed level and what the caller may see of it."""

    key: str
    name: str
    area: str
    evidence_status: str  # the candidate's shared evidence for it: none, thin or enough
    self: GivenRating | None
    manager: GivenRating | None
    agreed: AgreedRating | None
    votes: list[CastVote] | None  # None while the caller may not see them (blind)
    my_vote: Rating | None  # the caller's own vote, when they voted


@dataclass(frozen=True)
class Assessment:
    is_visible: bool  # False: the caller may not read it (yet)
    is_started: bool
    submitted_at: datetime | None


@dataclass(frozen=True)
class Calibration:
    session_id: int
    session_name: str
    scheduled_at: datetime | None
    is_locked: bool
    may_open_session: bool
    votes_visible: bool


@dataclass(frozen=True)
class Case:
    id: int
    cycle_id: int
    cycle_name: str
    phase: CyclePhase
    phase_due_at: datetime | None
    candidate_id: int
    candidate_name: str
    manager_id: int
    manager_name: str
    current_level: LevelView
    proposed_level: LevelView
    is_open: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str | None  # the committee's
    statement: str | None  # the manager's statement: the committee's, never the candidate's
    self_assessment: Assessment
    manager_assessment: Assessment
    results_visible: bool  # outcome, decision and agreed ratings
    outcome: Outcome | None
    outcome_rationale: str | None
    decision: Outcome | None
    decision_rationale: str | None
    calibration: Calibration | None
    competencies: list[CompetencyLine]


def _level(level: Level) -> LevelView:
    return LevelView(level.id, level.code, level.title, level.track.name)


def _given(view: RatingView | None) -> GivenRating | None:
    if view is None:
        return None
    return GivenRating(
        view.rating,
        view.rationale,
        [LinkedEvidence(e.id, e.title, e.occurred_on, e.can_open) for e in view.evidence],
    )


def _votes(viewer: User, case: PromotionCase) -> tuple[bool, list[Vote]]:
    """Whether the viewer sees the case's votes (votes.view), and the session's counted votes
    on it: all of them when they may, else only their own."""
    if case.session is None:
        return False, []
    visible = policy.can(viewer, "votes.view", case)
    criteria = [Vote.case_id == case.id]
    if not visible:
        criteria.append(Vote.voter_id == viewer.id)
    session = loading.session(case.session_id)  # with its participants: only theirs count
    return visible, participant_votes(session, *criteria, options=[joinedload(Vote.voter)])


def case(viewer: User, case_id: int) -> Case:
    """The case as its page shows it to the viewer (NotFoundError where the page is 404)."""
    page = pages.case_page(viewer, case_id)
    found, panel, cal = page.case, page.assessments, page.calibration
    committee = policy.can(viewer, "case.view_assessment", found)
    results = policy.can(viewer, "case.view_result", found)
    votes_visible, votes = _votes(viewer, found)
    agreed = {line.key: line for line in cal.agreed} if cal else {}
    lines = []
    for row in panel.rows:
        line = agreed.get(row.key)
        on_key = [v for v in votes if v.competency_key == row.key]
        lines.append(
            CompetencyLine(
                key=row.key,
                name=row.name,
                area=row.area,
                evidence_status=page.evidence.status_of(row.key).value,
                self=_given(row.self),
                manager=_given(row.manager),
                agreed=AgreedRating(line.rating, line.rationale) if line else None,
                votes=[
                    CastVote(v.voter_id, v.voter.name, v.rating)
                    for v in sorted(on_key, key=lambda v: (v.voter.name, v.voter_id))
                ]
                if votes_visible
                else None,
                my_vote=next((v.rating for v in on_key if v.voter_id == viewer.id), None),
            )
        )
    return Case(
        id=found.id,
        cycle_id=found.cycle_id,
        cycle_name=found.cycle.name,
        phase=found.cycle.phase,
        phase_due_at=page.due_at,
        candidate_id=found.candidate_id,
        candidate_name=found.candidate.name,
        manager_id=found.manager_id,
        manager_name=found.manager.name,
        current_level=_level(found.current_level),
        proposed_level=_level(found.proposed_level),
        is_open=found.is_open,
        withdrawn_at=found.withdrawn_at,
        withdrawn_reason=found.withdrawn_reason if committee and not found.is_open else None,
        statement=found.statement if committee else None,
        self_assessment=Assessment(
            panel.shows_self, panel.shows_self and panel.self_started, panel.self_submitted_at
        ),
        manager_assessment=Assessment(
            panel.shows_manager,
            panel.shows_manager and panel.manager_started,
            panel.manager_submitted_at if panel.shows_manager else None,
        ),
        results_visible=results,
        outcome=found.outcome if results else None,
        outcome_rationale=found.outcome_rationale if results else None,
        decision=found.decision if results else None,
        decision_rationale=found.decision_rationale if results else None,
        calibration=Calibration(
            cal.session_id,
            cal.session_name,
            cal.scheduled_at,
            cal.is_locked,
            cal.may_open_session,
            votes_visible,
        )
        if cal
        else None,
        competencies=lines,
    )
