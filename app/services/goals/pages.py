"""Read-models of growth plans: a person's plan, one goal, and the goal summaries the person
page, the home page, the growth page and the evidence page show. Each reads in a fixed number of
queries whatever the number of goals; linked evidence is counted and listed only as far as the
viewer may read it (evidence.view)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import DelegationBoard, Evidence, EvidenceCompetency, Goal, GoalStatus, User
from app.models.goals import goal_evidence
from app.services.evidence import CompetencyChoice, competency_choices, competency_names
from app.services.goals import OPEN, LevelOption, get_goal, target_levels
from app.services.oneonones import pages as oneonone_pages

# The order the plan shows its groups in: what is being worked on first.
STATUS_ORDER = (
    GoalStatus.IN_PROGRESS,
    GoalStatus.NOT_STARTED,
    GoalStatus.DONE,
    GoalStatus.DROPPED,
)
CANDIDATES_LIMIT = 100
CLOSED_PER_PAGE = 20


@dataclass(frozen=True)
class GoalRow:
    """One goal as a page shows it."""

    id: int
    person_id: int
    competency_key: str
    competency: str
    target_level_id: int | None
    level_code: str
    level_title: str
    change: str
    measure: str
    target_on: date | None
    status: GoalStatus
    outcome: str
    dropped_reason: str
    proposed_by_id: int | None
    proposed_by: str
    agreed_by: str
    agreed_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    revision: int
    evidence_count: int  # linked items the viewer may read

    @property
    def is_agreed(self) -> bool:
        return self.agreed_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def goal_rows(
    viewer: User,
    condition: ColumnElement[bool],
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_closed_first: bool = False,
):
    """The goals matching `condition` that the viewer may read, as rows, in four queries: by
    target date (undated last), or the most recently closed first."""
    order = (
        (Goal.closed_at.desc(), Goal.id.desc())
        if newest_closed_first
        else (Goal.target_on.is_(None), Goal.target_on, Goal.id)
    )
    query = (
        select(Goal)
        .where(condition, policy.where("goal.view", viewer))
        .options(joinedload(Goal.target_level))
        .order_by(*order)
    )
    if limit:
        query = query.limit(limit).offset(offset)
    goals = list(db.session.execute(query).scalars())
    if not goals:
        return []
    ids = [goal.id for goal in goals]
    counts = _evidence_counts(viewer, ids)
    names = names_of({goal.created_by_id for goal in goals} | {goal.agreed_by_id for goal in goals})
    competencies = competency_names({goal.framework_id for goal in goals})
    return [_row(goal, counts, names, competencies) for goal in goals]


def _row(goal: Goal, counts, names, competencies) -> GoalRow:
    level = goal.target_level
    return GoalRow(
        id=goal.id,
        person_id=goal.person_id,
        competency_key=goal.competency_key,
        competency=competencies.get((goal.framework_id, goal.competency_key), goal.competency_key),
        target_level_id=goal.target_level_id,
        level_code=level.code if level else "",
        level_title=level.title if level else "the next level",
        change=goal.change,
        measure=goal.measure,
        target_on=goal.target_on,
        status=goal.status,
        outcome=goal.outcome,
        dropped_reason=goal.dropped_reason,
        proposed_by_id=goal.created_by_id,
        proposed_by=names.get(goal.created_by_id, "a former colleague"),
        agreed_by=names.get(goal.agreed_by_id, "") if goal.agreed_by_id else "",
        agreed_at=goal.agreed_at,
        created_at=goal.created_at,
        closed_at=goal.closed_at,
        revision=goal.revision,
        evidence_count=counts.get(goal.id, 0),
    )


def _visible_links(viewer: User):
    """goal_evidence joined to the evidence the viewer may read, out of the Trash."""
    return (
        select(goal_evidence.c.goal_id, goal_evidence.c.evidence_id)
        .join(Evidence, Evidence.id == goal_evidence.c.evidence_id)
        .where(Evidence.deleted_at.is_(None), policy.where("evidence.view", viewer))
    )


def _evidence_counts(viewer: User, goal_ids: list[int]) -> dict[int, int]:
    links = _visible_links(viewer).where(goal_evidence.c.goal_id.in_(goal_ids)).subquery()
    rows = db.session.execute(select(links.c.goal_id, func.count()).group_by(links.c.goal_id)).all()
    return dict(rows)


def names_of(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def _person(viewer: User, person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    policy.authorize(viewer, "growth.view", person)  # whose growth the viewer follows
    return person


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPage:
    person: User
    is_own: bool
    may_create: bool
    groups: list[tuple[GoalStatus, list[GoalRow]]]
    competencies: list[CompetencyChoice] = field(default_factory=list)
    levels: list[LevelOption] = field(default_factory=list)
    closed_page: int = 1  # done and dropped goals come a page at a time, newest first
    closed_pages: int = 1
    closed_total: int = 0

    @property
    def is_placed(self) -> bool:
        return bool(self.levels or self.competencies)

    @property
    def total(self) -> int:
        return sum(len(rows) for _status, rows in self.groups)


def plan_page(viewer: User, person_id: int, closed_page: int = 1) -> PlanPage:
    """A person's growth plan: open goals by status, then done and dropped ones a page at a
    time, and what the New goal form offers."""
    person = _person(viewer, person_id)
    mine = Goal.person_id == person.id
    rows = goal_rows(viewer, and_(mine, Goal.status.in_(OPEN)))
    closed_total = db.session.scalar(
        select(func.count(Goal.id)).where(
            mine, Goal.status.not_in(OPEN), policy.where("goal.view", viewer)
        )
    )
    pages = max(1, -(-closed_total // CLOSED_PER_PAGE))
    closed_page = min(max(1, closed_page), pages)
    rows += goal_rows(
        viewer,
        and_(mine, Goal.status.not_in(OPEN)),
        limit=CLOSED_PER_PAGE,
        offset=(closed_page - 1) * CLOSED_PER_PAGE,
        newest_closed_first=True,
    )
    groups = [(status, [row for row in rows if row.status is status]) for status in STATUS_ORDER]
    may_create = policy.can(viewer, "goal.create", person)
    return PlanPage(
        person=person,
        is_own=person.id == viewer.id,
        may_create=may_create,
        groups=[(status, found) for status, found in groups if found],
        competencies=competency_choices(person.id) if may_create else [],
        levels=target_levels(person) if may_create else [],
        closed_page=closed_page,
        closed_pages=pages,
        closed_total=closed_total,
    )


def new_goal_page(actor: User, person_id: int) -> PlanPage:
    """The plan as the New goal form needs it, for the two who may propose (404 else)."""
    page = plan_page(actor, person_id)
    if not page.may_create:
        raise NotFoundError("Not found.")
    return page


# --- one goal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedItem:
    id: int
    title: str
    occurred_on: date
    kind: str
    on_competency: bool  # tagged with the goal's competency


@dataclass(frozen=True)
class GoalPage:
    goal: GoalRow
    person: User
    is_own: bool
    may_edit: bool
    may_agree: bool
    linked: list[LinkedItem]
    candidates: list[LinkedItem]  # the person's items the viewer may read and link
    has_board: bool = False  # the person has a delegation board the viewer may read
    discussed_in: list = field(default_factory=list)  # the viewer's 1:1 meetings that linked it

    @property
    def statuses(self) -> list[GoalStatus]:
        """The statuses the goal can move to."""
        return [status for status in STATUS_ORDER if status is not self.goal.status]


def goal_page(viewer: User, goal_id: int) -> GoalPage:
    goal = get_goal(viewer, goal_id)
    row = goal_rows(viewer, Goal.id == goal.id)[0]
    person = db.session.get(User, goal.person_id)
    may_edit = policy.can(viewer, "goal.edit", goal)
    linked = _items(viewer, goal, linked=True)
    candidates = _items(viewer, goal, linked=False) if may_edit and row.is_open else []
    return GoalPage(
        goal=row,
        person=person,
        is_own=person.id == viewer.id,
        may_edit=may_edit,
        may_agree=may_edit and not row.is_agreed and goal.created_by_id != viewer.id,
        linked=linked,
        candidates=candidates,
        has_board=_has_board(viewer, goal.person_id),
        discussed_in=oneonone_pages.goal_discussed_in(viewer, goal.id),
    )


def _has_board(viewer: User, person_id: int) -> bool:
    board = db.session.execute(
        select(DelegationBoard.id).where(
            DelegationBoard.person_id == person_id, policy.where("delegation.view", viewer)
        )
    ).scalar_one_or_none()
    return board is not None


@dataclass(frozen=True)
class EditPage:
    """A goal's edit form: the goal, and the competencies and levels it can be moved to."""

    record: Goal
    goal: GoalRow
    person: User
    competencies: list[CompetencyChoice]
    levels: list[LevelOption]


def edit_page(actor: User, goal_id: int) -> EditPage:
    goal = get_goal(actor, goal_id)
    policy.authorize(actor, "goal.edit", goal)
    person = db.session.get(User, goal.person_id)
    return EditPage(
        record=goal,
        goal=goal_rows(actor, Goal.id == goal.id)[0],
        person=person,
        competencies=competency_choices(person.id),
        levels=target_levels(person),
    )


def _items(viewer: User, goal: Goal, *, linked: bool) -> list[LinkedItem]:
    tagged = (
        select(EvidenceCompetency.evidence_id)
        .where(
            EvidenceCompetency.framework_id == goal.framework_id,
            EvidenceCompetency.competency_key == goal.competency_key,
        )
        .scalar_subquery()
    )
    links = select(goal_evidence.c.evidence_id).where(goal_evidence.c.goal_id == goal.id)
    on_competency = Evidence.id.in_(tagged)
    query = (
        select(Evidence.id, Evidence.title, Evidence.occurred_on, Evidence.kind, on_competency)
        .where(
            Evidence.owner_id == goal.person_id,
            Evidence.deleted_at.is_(None),
            policy.where("evidence.view", viewer),
            Evidence.id.in_(links) if linked else Evidence.id.not_in(links),
        )
        .order_by(on_competency.desc(), Evidence.occurred_on.desc(), Evidence.id.desc())
    )
    if not linked:
        query = query.limit(CANDIDATES_LIMIT)
    return [
        LinkedItem(i, title, day, kind.label, bool(tag))
        for i, title, day, kind, tag in db.session.execute(query).all()
    ]
