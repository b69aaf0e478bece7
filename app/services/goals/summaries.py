"""Growth-plan summaries for the pages people work from: the person page's panel, home's goals
that ask something of the signed-in person, the growth page's goals and an evidence item's goals.
Each reads in a fixed number of queries, through the plan's read-model (pages.goal_rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, select

from app import policy
from app.extensions import db
from app.models import Evidence, EvidenceCompetency, Goal, GoalStatus, User
from app.models.goals import goal_evidence
from app.services.goals import OPEN
from app.services.goals.pages import STATUS_ORDER, GoalRow, goal_rows, names_of

DUE_DAYS = 30
HOME_LIMIT = 10


@dataclass(frozen=True)
class PlanSummary:
    """A person's plan in a line: counts by status and the next target date."""

    person_id: int
    counts: dict[GoalStatus, int]
    next_target_on: date | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return sum(self.counts.get(status, 0) for status in OPEN)

    @property
    def tallies(self) -> list[tuple[GoalStatus, int]]:
        return [(status, self.counts.get(status, 0)) for status in STATUS_ORDER]


def plan_summary(viewer: User, person_id: int) -> PlanSummary | None:
    """The Growth plan panel of the person page (None when the viewer may not read the plan)."""
    person = db.session.get(User, person_id)
    if person is None or not policy.can(viewer, "growth.view", person):
        return None
    rows = db.session.execute(
        select(Goal.status, func.count(), func.min(Goal.target_on))
        .where(Goal.person_id == person_id, policy.where("goal.view", viewer))
        .group_by(Goal.status)
    ).all()
    counts = {status: number for status, number, _first in rows}
    dates = [first for status, _number, first in rows if status in OPEN and first]
    return PlanSummary(person_id, counts, min(dates) if dates else None)


@dataclass(frozen=True)
class HomeGoals:
    awaiting: list[GoalRow]  # proposed by the other of the two, waiting for the actor
    due: list[GoalRow]  # open, target date within DUE_DAYS (or past)
    names: dict[int, str]  # person id → name, for goals of a report
    today: date


def home_goals(actor: User, today: date | None = None) -> HomeGoals:
    """The goals that ask something of the actor: their agreement, or a date coming up."""
    today = today or date.today()
    mine = policy.where("goal.edit", actor)
    awaiting = goal_rows(
        actor,
        and_(
            mine,
            Goal.agreed_by_id.is_(None),
            Goal.created_by_id.is_distinct_from(actor.id),
            Goal.status.in_(OPEN),
        ),
        limit=HOME_LIMIT,
    )
    due = goal_rows(
        actor,
        and_(mine, Goal.status.in_(OPEN), Goal.target_on <= today + timedelta(days=DUE_DAYS)),
        limit=HOME_LIMIT,
    )
    people = {row.person_id for row in [*awaiting, *due]} - {actor.id}
    return HomeGoals(awaiting, due, names_of(set(people)), today)


def growth_goals(viewer: User, person_id: int) -> list[GoalRow]:
    """The goals the growth page shows beside readiness: open and done, not dropped."""
    return goal_rows(viewer, and_(Goal.person_id == person_id, Goal.status != GoalStatus.DROPPED))


@dataclass(frozen=True)
class EvidenceGoals:
    """The goals an evidence item is linked to (those the viewer may read), and for its owner the
    open goals on its competencies it can be linked to."""

    linked: list[GoalRow]
    linkable: list[GoalRow]


def evidence_goals(viewer: User, item: Evidence) -> EvidenceGoals:
    linked_ids = select(goal_evidence.c.goal_id).where(goal_evidence.c.evidence_id == item.id)
    linked = goal_rows(viewer, Goal.id.in_(linked_ids))
    linkable: list[GoalRow] = []
    if viewer.id == item.owner_id and not item.in_trash:
        linkable = goal_rows(
            viewer,
            and_(
                Goal.person_id == viewer.id,
                Goal.status.in_(OPEN),
                Goal.id.not_in(linked_ids),
                _tagged_like(item.id),
            ),
        )
    return EvidenceGoals(linked, linkable)


def _tagged_like(evidence_id: int) -> ColumnElement[bool]:
    """Goals on one of the item's competencies (same framework, same key)."""
    return (
        select(EvidenceCompetency.evidence_id)
        .where(
            EvidenceCompetency.evidence_id == evidence_id,
            EvidenceCompetency.framework_id == Goal.framework_id,
            EvidenceCompetency.competency_key == Goal.competency_key,
        )
        .exists()
    )
