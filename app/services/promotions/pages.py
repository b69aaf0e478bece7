"""The promotion pages' data, one call per page: the list of cycles and cases, a cycle, a case,
opening a cycle and nominating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import CyclePhase, FrameworkVersion, PromotionCase, PromotionCycle, VersionStatus
from app.policy import phases
from app.policy.phases import Activity
from app.services.packets import access as packet_access
from app.services.promotions import assessments, case_lists, deadlines, loading
from app.services.promotions.calibration import panels as calibration_panels
from app.services.promotions.case_evidence import CaseEvidence, case_evidence
from app.services.promotions.case_lists import CaseRow, Choice, CycleSummary, ProposedLevels
from app.services.promotions.cycles import next_move_blocker

PHASES = tuple(CyclePhase)  # in order, for the stepper


@dataclass(frozen=True)
class PromotionsPage:
    cycles: list[CycleSummary]
    cycles_pagination: Pagination
    own: list[CaseRow]  # the viewer's own cases
    others: list[CaseRow]  # cases the viewer takes part in (managers only)
    others_pagination: Pagination | None


def promotions_page(actor, page: int, cycles_page: int) -> PromotionsPage:
    """Every cycle, the actor's own cases and, for a manager, the cases they take part in."""
    cycles_pagination, cycles = case_lists.cycles(cycles_page)
    others_pagination, others = (
        case_lists.visible_cases(actor, page) if actor.is_manager else (None, [])
    )
    own = case_lists.own_cases(actor)
    return PromotionsPage(cycles, cycles_pagination, own, others, others_pagination)


@dataclass(frozen=True)
class CyclePage:
    cycle: PromotionCycle
    rows: list[CaseRow]  # the cases the viewer may see, one page of them
    pagination: Pagination
    is_head: bool  # may move the cycle
    blocker: str | None  # what stops the next move (for the head)
    may_nominate: bool
    sessions: calibration_panels.SessionsPanel  # the calibration sessions the viewer may open
    dates: list[deadlines.PhaseDate]  # when each phase is due (None: no date set)
    phases: tuple[CyclePhase, ...] = PHASES

    @property
    def due_at(self) -> datetime | None:
        """When the current phase is due."""
        return next((d.due_at for d in self.dates if d.phase is self.cycle.phase), None)

    def date_of(self, phase: CyclePhase) -> deadlines.PhaseDate | None:
        return next((d for d in self.dates if d.phase is phase), None)


def cycle_page(actor, cycle_id: int, page: int) -> CyclePage:
    """A cycle with its phase, what stops the next move, and the cases the actor may see."""
    cycle = loading.cycle(cycle_id)
    pagination, rows = case_lists.cycle_cases(actor, cycle.id, page)
    is_head = policy.can(actor, "cycles.manage")
    return CyclePage(
        cycle=cycle,
        rows=rows,
        pagination=pagination,
        is_head=is_head,
        blocker=next_move_blocker(cycle) if is_head else None,
        may_nominate=policy.can(actor, "case.nominate")
        and phases.allows(cycle.phase, Activity.NOMINATE),
        sessions=calibration_panels.sessions_panel(actor, cycle),
        dates=deadlines.phase_dates(cycle.id),
    )


@dataclass(frozen=True)
class CasePage:
    case: PromotionCase
    statement: Markup  # the nomination statement, rendered
    decision_rationale: Markup
    is_candidate: bool
    assessments: assessments.Panel  # the self and manager ratings the actor may see
    packet: packet_access.Panel | None  # the packet views the actor may have, and versions
    calibration: calibration_panels.CasePanel | None  # the case's session, votes and agreed ratings
    evidence: CaseEvidence  # the shared evidence per competency of the proposed level
    due_at: datetime | None = None  # when the cycle's current phase is due
    phases: tuple[CyclePhase, ...] = PHASES

    @property
    def cycle(self) -> PromotionCycle:
        return self.case.cycle


def case_page(actor, case_id: int) -> CasePage:
    """A case as the actor may see it: who, from which level to which, where it stands."""
    case = loading.case(case_id)
    policy.authorize(actor, "case.view", case)
    return CasePage(
        case=case,
        statement=case.html("statement"),
        decision_rationale=case.html("decision_rationale"),
        is_candidate=case.candidate_id == actor.id,
        assessments=assessments.panel(actor, case),
        packet=packet_access.case_panel(actor, case),
        calibration=calibration_panels.case_panel(actor, case),
        evidence=case_evidence(case),
        due_at=deadlines.due_at(case.cycle_id, case.cycle.phase),
    )


@dataclass(frozen=True)
class NominatePage:
    cycle: PromotionCycle
    is_open: bool  # the cycle takes nominations
    nominees: list[Choice]  # whom the actor may nominate
    levels: ProposedLevels | None  # for the chosen person; None until one is chosen
    candidate_id: int | None = None  # the chosen person, when the actor may nominate them

    @property
    def levels_choices(self) -> list[Choice]:
        return self.levels.choices if self.levels else []


def nominate_page(
    actor, cycle_id: int, candidate_id: int | None = None, *, every_track: bool = False
) -> NominatePage:
    """Whom the actor may nominate in a cycle and, once a person is chosen, to which levels:
    the ones above theirs on their own track, the next one first (nothing once it is closed).
    A chosen id the actor may not nominate still gets every level, so a sent form keeps its
    statement and the service says why."""
    cycle = loading.cycle(cycle_id)
    if not phases.allows(cycle.phase, Activity.NOMINATE):
        return NominatePage(cycle, False, [], None)
    nominees = case_lists.nominees(actor, cycle_id)
    if candidate_id is None:
        return NominatePage(cycle, True, nominees, None)
    if candidate_id not in {n.value for n in nominees}:
        levels = ProposedLevels(case_lists.proposed_levels(cycle), None)
        return NominatePage(cycle, True, nominees, levels)
    levels = case_lists.levels_for(cycle, candidate_id, every_track)
    return NominatePage(cycle, True, nominees, levels, candidate_id)


def published_versions() -> list[Choice]:
    """The career path versions a new cycle may pin, by name."""
    published = db.session.execute(
        select(FrameworkVersion)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        .order_by(FrameworkVersion.name)
    ).scalars()
    return [Choice(v.id, f"{v.name} (v{v.number})") for v in published]
