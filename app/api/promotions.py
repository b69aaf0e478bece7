"""Promotion cycles and cases under /api/v1/, read only: what the promotion pages show the
token's owner in each phase (app/services/promotions/api.py reads the pages' read-models)."""

from __future__ import annotations

from datetime import date, datetime

import pydantic
from flask_login import current_user

from app.api.core import operation
from app.api.pagination import Page, PageQuery, decode_cursor, encode_cursor
from app.api.schemas import PersonRef
from app.core.errors import ValidationError
from app.models import CyclePhase, Outcome, Rating
from app.services.promotions import api as service

TAG = "Promotions"


def _actor():
    return current_user._get_current_object()


def _after(cursor: str | None) -> int | None:
    values = decode_cursor(cursor, length=1)
    if values is None:
        return None
    if not isinstance(values[0], int):
        raise ValidationError(
            "That cursor was not made by this list: use a page's next_cursor as it is.",
            field="cursor",
        )
    return values[0]


def _cursor(after: int | None) -> str | None:
    return encode_cursor((after,) if after is not None else None)


# --- cycles -----------------------------------------------------------------------------------


class CycleSummary(pydantic.BaseModel):
    id: int
    name: str
    phase: CyclePhase
    created_at: datetime
    published_at: datetime | None
    open_cases: int = pydantic.Field(description="Cases not withdrawn, everyone's.")
    phase_due_at: datetime | None = pydantic.Field(description="When the current phase is due.")


class PinnedVersion(pydantic.BaseModel):
    id: int
    framework_id: int
    name: str
    number: int


class PhaseDue(pydantic.BaseModel):
    phase: CyclePhase
    due_at: datetime | None


class SessionSummary(pydantic.BaseModel):
    id: int
    name: str
    facilitator: str
    cases: int
    is_locked: bool
    votes_revealed: bool
    scheduled_at: datetime | None


class Cycle(pydantic.BaseModel):
    """A promotion cycle as its page shows it to the token's owner."""

    id: int
    name: str
    phase: CyclePhase
    created_at: datetime
    published_at: datetime | None
    versions: list[PinnedVersion] = pydantic.Field(description="The framework versions it uses.")
    due_dates: list[PhaseDue]
    sessions: list[SessionSummary] = pydantic.Field(
        description="The calibration sessions you may open (all, for the head of product)."
    )


class CaseSummary(pydantic.BaseModel):
    """A case as the cycle page lists it; outcome and decision only where you may see them."""

    id: int
    cycle_id: int
    candidate: PersonRef
    manager: PersonRef
    current_level: str
    proposed_level: str
    proposed_track: str
    is_open: bool
    is_self_submitted: bool
    is_manager_submitted: bool
    session_id: int | None
    session_name: str | None
    outcome: Outcome | None
    decision: Outcome | None


class CyclePage(Page[CycleSummary]):
    """A page of cycles; pass next_cursor back as cursor for the next one."""


class CasePage(Page[CaseSummary]):
    """A page of a cycle's cases; pass next_cursor back as cursor for the next one."""


@operation(
    "GET",
    "/cycles",
    tag=TAG,
    summary="Promotion cycles",
    action="promotions.view",
    query=PageQuery,
    response=CyclePage,
)
def list_cycles(query: PageQuery):
    """Every promotion cycle, newest first, as the promotions page lists them."""
    found = service.cycles(_actor(), _after(query.cursor), query.limit)
    return CyclePage(
        items=[
            CycleSummary(
                id=c.id,
                name=c.name,
                phase=c.phase,
                created_at=c.created_at,
                published_at=c.published_at,
                open_cases=c.open_cases,
                phase_due_at=c.due_at,
            )
            for c in found.cycles
        ],
        next_cursor=_cursor(found.next_after),
    )


@operation(
    "GET",
    "/cycles/<int:cycle_id>",
    tag=TAG,
    summary="One promotion cycle",
    action="promotions.view",
    response=Cycle,
    errors=(404,),
)
def get_cycle(cycle_id: int):
    """A cycle: its phase, due dates, framework versions and the sessions you may open."""
    found = service.cycle(_actor(), cycle_id)
    return Cycle.model_validate(found, from_attributes=True)


@operation(
    "GET",
    "/cycles/<int:cycle_id>/cases",
    tag=TAG,
    summary="A cycle's cases you may see",
    action="promotions.view",
    query=PageQuery,
    response=CasePage,
    errors=(404,),
)
def list_cycle_cases(cycle_id: int, query: PageQuery):
    """The cycle's cases you may open, as its page lists them: your own, your reports' (at any
    depth), those of your calibration sessions; all of them for the head of product."""
    found = service.cycle_cases(_actor(), cycle_id, _after(query.cursor), query.limit)
    return CasePage(
        items=[
            CaseSummary(
                id=row.id,
                cycle_id=row.cycle_id,
                candidate=PersonRef(id=row.candidate_id, name=row.candidate_name),
                manager=PersonRef(id=row.manager_id, name=row.manager_name),
                current_level=row.current_level,
                proposed_level=row.proposed_level,
                proposed_track=row.proposed_track,
                is_open=row.is_open,
                is_self_submitted=row.is_self_submitted,
                is_manager_submitted=row.is_manager_submitted,
                session_id=row.session_id,
                session_name=row.session_name,
                outcome=row.outcome,
                decision=row.decision,
            )
            for row in found.cases
        ],
        next_cursor=_cursor(found.next_after),
    )


# --- one case ---------------------------------------------------------------------------------


class LevelView(pydantic.BaseModel):
    id: int
    code: str
    title: str
    track: str


class LinkedEvidence(pydantic.BaseModel):
    id: int
    title: str
    occurred_on: date
    can_open: bool = pydantic.Field(description="Whether you may read it (GET /evidence/{id}).")


class GivenRating(pydantic.BaseModel):
    rating: Rating | None
    rationale: str
    evidence: list[LinkedEvidence]


class AgreedRating(pydantic.BaseModel):
    rating: Rating | None
    rationale: str


class CastVote(pydantic.BaseModel):
    voter_id: int
    voter_name: str
    rating: Rating


class CompetencyLine(pydantic.BaseModel):
    key: str
    name: str
    area: str
    evidence_status: str = pydantic.Field(
        description="The candidate's shared evidence for it, as growth counts it: none, thin "
        "or enough."
    )
    self: GivenRating | None = pydantic.Field(description="Null when absent or not yours to see.")
    manager: GivenRating | None = pydantic.Field(description="Never shown to the candidate.")
    agreed: AgreedRating | None = pydantic.Field(
        description="Calibration's rating: the committee's; the candidate's once published."
    )
    votes: list[CastVote] | None = pydantic.Field(
        description="Null while blind: the session's people see them once they voted or the "
        "votes are revealed; the candidate never."
    )
    my_vote: Rating | None = pydantic.Field(description="Your own vote, if you voted.")


class Assessment(pydantic.BaseModel):
    is_visible: bool
    is_started: bool
    submitted_at: datetime | None


class Calibration(pydantic.BaseModel):
    session_id: int
    session_name: str
    scheduled_at: datetime | None
    is_locked: bool
    may_open_session: bool
    votes_visible: bool


class Case(pydantic.BaseModel):
    """A promotion case as its page shows it to the token's owner in the current phase."""

    id: int
    cycle_id: int
    cycle_name: str
    phase: CyclePhase
    phase_due_at: datetime | None
    candidate: PersonRef
    manager: PersonRef
    current_level: LevelView
    proposed_level: LevelView
    is_open: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    statement: str | None = pydantic.Field(
        description="The manager's statement (markdown): the committee's, never the candidate's."
    )
    self_assessment: Assessment
    manager_assessment: Assessment
    results_visible: bool = pydantic.Field(
        description="Whether you see the outcome, decision and agreed ratings: the committee "
        "does; the candidate once the cycle is published."
    )
    outcome: Outcome | None
    outcome_rationale: str | None
    decision: Outcome | None
    decision_rationale: str | None
    calibration: Calibration | None
    competencies: list[CompetencyLine]


@operation(
    "GET",
    "/cases/<int:case_id>",
    tag=TAG,
    summary="One promotion case",
    action="case.view",
    response=Case,
    errors=(404,),
)
def get_case(case_id: int):
    """A case you may open (404 otherwise, as its page), showing what its page shows you now."""
    found = service.case(_actor(), case_id)
    data = found.__dict__ | {
        "candidate": PersonRef(id=found.candidate_id, name=found.candidate_name),
        "manager": PersonRef(id=found.manager_id, name=found.manager_name),
    }
    return Case.model_validate(data, from_attributes=True)
