"""Deriving the tasks: one SELECT per kind for everyone at once (or for some people), the same
SELECT counted for the navigation, so that the list, the count, reminders and the head of
product's view cannot disagree.

Who must act comes from the same tables the rules read: a phase allows an activity
(`app/policy/phases.py`), a case is open and not yet submitted, a session is unlocked and its
votes unrevealed, an ask or corroboration request is pending, an action item is not done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    BindParameter,
    Select,
    bindparam,
    distinct,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    ActionItem,
    CalibrationSession,
    Corroboration,
    CorroborationStatus,
    CyclePhase,
    Evidence,
    FeedbackAsk,
    FeedbackRequest,
    Level,
    OneOnOne,
    PromotionCase,
    PromotionCycle,
    RatingSource,
    Role,
    User,
    Vote,
    calibration_participants,
)
from app.models.feedback import AskStatus
from app.policy.phases import OPEN_IN, Activity
from app.services.feedback.panels import competency_label, names_for
from app.services.growth.expectations import competencies_at
from app.services.promotions import deadlines
from app.services.promotions.assessments.due import completed
from app.services.todo import Task, TaskKind

# Whose tasks a query selects: everyone's (None), or the ids bound to PEOPLE when it runs.
People = BindParameter | None
PEOPLE = "todo_person_ids"


def _phases(activity: Activity) -> list[CyclePhase]:
    return sorted(OPEN_IN[activity], key=lambda phase: phase.position)


def _only(column, person_ids: People):
    return column.in_(person_ids) if person_ids is not None else literal(True)


# --- the queries: one per kind, each selecting `person_id` first ------------------------------


def _self_assessments(person_ids: People) -> Select:
    candidate = aliased(User)
    return _assessments(
        PromotionCase.candidate_id,
        candidate,
        Activity.SELF_ASSESS,
        PromotionCase.self_submitted_at.is_(None),
        candidate.deactivated_at.is_(None),
        _only(PromotionCase.candidate_id, person_ids),
    )


def _manager_assessments(person_ids: People) -> Select:
    candidate, manager = aliased(User), aliased(User)
    return _assessments(
        PromotionCase.manager_id,
        candidate,
        Activity.MANAGER_ASSESS,
        PromotionCase.manager_submitted_at.is_(None),
        PromotionCase.manager_id != PromotionCase.candidate_id,
        manager.deactivated_at.is_(None),
        _only(PromotionCase.manager_id, person_ids),
    ).join(manager, manager.id == PromotionCase.manager_id)


def _assessments(person, candidate, activity: Activity, *conditions) -> Select:
    """Open cases of cycles in a phase that allows `activity`, for `person` (a case column)."""
    return (
        select(
            person.label("person_id"),
            PromotionCase.id,
            PromotionCase.cycle_id,
            PromotionCase.proposed_level_id,
            PromotionCycle.name.label("cycle_name"),
            Level.title.label("level_title"),
            candidate.name.label("candidate_name"),
        )
        .join(PromotionCycle, PromotionCycle.id == PromotionCase.cycle_id)
        .join(Level, Level.id == PromotionCase.proposed_level_id)
        .join(candidate, candidate.id == PromotionCase.candidate_id)
        .where(
            PromotionCycle.phase.in_(_phases(activity)),
            PromotionCase.withdrawn_at.is_(None),
            *conditions,
        )
    )


def _nominations(person_ids: People) -> Select:
    """A manager with people reporting to them, in a cycle taking nominations, until they have
    nominated someone in it (they may nominate more until the phase moves on)."""
    manager, report = aliased(User), aliased(User)
    reports = (
        select(func.count(report.id))
        .where(report.manager_id == manager.id, report.deactivated_at.is_(None))
        .correlate(manager)
        .scalar_subquery()
    )
    nominated = exists().where(
        PromotionCase.cycle_id == PromotionCycle.id, PromotionCase.nominated_by_id == manager.id
    )
    return (
        select(
            manager.id.label("person_id"),
            PromotionCycle.id.label("cycle_id"),
            PromotionCycle.name.label("cycle_name"),
            reports.label("reports"),
        )
        .select_from(manager)
        .join(PromotionCycle, true())  # every manager with every cycle taking nominations
        .where(
            PromotionCycle.phase.in_(_phases(Activity.NOMINATE)),
            manager.role.in_([Role.MANAGER, Role.HEAD]),
            manager.deactivated_at.is_(None),
            reports > 0,
            ~nominated,
            _only(manager.id, person_ids),
        )
    )


def _votes(person_ids: People) -> Select:
    """A participant of an unlocked, unrevealed session in a cycle open for voting, until they
    have voted on every open case of the session."""
    participant = aliased(User)
    session = CalibrationSession
    cases = (
        select(func.count(PromotionCase.id))
        .where(PromotionCase.session_id == session.id, PromotionCase.withdrawn_at.is_(None))
        .correlate(session)
        .scalar_subquery()
    )
    voted = (
        select(func.count(distinct(Vote.case_id)))
        .join(PromotionCase, PromotionCase.id == Vote.case_id)
        .where(
            Vote.session_id == session.id,
            Vote.voter_id == calibration_participants.c.user_id,
            PromotionCase.session_id == session.id,
            PromotionCase.withdrawn_at.is_(None),
        )
        .correlate(session, calibration_participants)
        .scalar_subquery()
    )
    return (
        select(
            calibration_participants.c.user_id.label("person_id"),
            session.id,
            session.cycle_id,
            session.name,
            session.scheduled_at,
            PromotionCycle.name.label("cycle_name"),
            voted.label("voted"),
            cases.label("cases"),
        )
        .join(session, session.id == calibration_participants.c.session_id)
        .join(PromotionCycle, PromotionCycle.id == session.cycle_id)
        .join(participant, participant.id == calibration_participants.c.user_id)
        .where(
            PromotionCycle.phase.in_(_phases(Activity.VOTE)),
            session.locked_at.is_(None),
            session.votes_revealed_at.is_(None),
            participant.deactivated_at.is_(None),
            voted < cases,
            _only(calibration_participants.c.user_id, person_ids),
        )
    )


def _corroborations(person_ids: People) -> Select:
    owner, peer = aliased(User), aliased(User)
    return (
        select(
            Corroboration.peer_id.label("person_id"),
            Corroboration.id,
            Evidence.title,
            owner.name.label("owner_name"),
        )
        .join(Evidence, Evidence.id == Corroboration.evidence_id)
        .join(owner, owner.id == Evidence.owner_id)
        .join(peer, peer.id == Corroboration.peer_id)
        .where(
            Corroboration.status == CorroborationStatus.PENDING,
            Evidence.is_visible_to_others,  # what the peer may still open (evidence.view)
            peer.deactivated_at.is_(None),
            _only(Corroboration.peer_id, person_ids),
        )
    )


def _feedback(person_ids: People) -> Select:
    """The asks app/services/feedback/panels.waiting_for lists: pending, the requester still
    here to read the answer."""
    requester, giver = aliased(User), aliased(User)
    return (
        select(
            FeedbackAsk.giver_id.label("person_id"),
            FeedbackAsk.id,
            FeedbackRequest.due_on,
            FeedbackRequest.framework_id,
            FeedbackRequest.competency_keys,
            requester.name.label("requester_name"),
            giver.time_zone,
        )
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackAsk.request_id)
        .join(requester, requester.id == FeedbackRequest.requester_id)
        .join(giver, giver.id == FeedbackAsk.giver_id)
        .where(
            FeedbackAsk.status == AskStatus.PENDING,
            requester.deactivated_at.is_(None),
            giver.deactivated_at.is_(None),
            _only(FeedbackAsk.giver_id, person_ids),
        )
    )


def _action_items(person_ids: People) -> Select:
    """Open items one owns in a 1:1 they are one of (oneonone.view: the pair only)."""
    owner = aliased(User)
    return (
        select(
            ActionItem.owner_id.label("person_id"),
            ActionItem.id,
            ActionItem.text,
            ActionItem.due_on,
            ActionItem.raised_in_id,
            ActionItem.one_on_one_id,
            owner.time_zone,
        )
        .join(OneOnOne, OneOnOne.id == ActionItem.one_on_one_id)
        .join(owner, owner.id == ActionItem.owner_id)
        .where(
            ActionItem.done_at.is_(None),
            (OneOnOne.lead_id == ActionItem.owner_id) | (OneOnOne.member_id == ActionItem.owner_id),
            owner.deactivated_at.is_(None),
            _only(ActionItem.owner_id, person_ids),
        )
    )


# --- rows to tasks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What several rows share, read once: phase deadlines, assessment progress."""

    deadlines: dict[tuple[int, CyclePhase], datetime]
    done: dict[tuple[int, RatingSource], int]
    totals: dict[int, int]
    names: dict  # (framework id, competency key) → name, for feedback requests


def _assessment(kind: TaskKind, source: RatingSource, phase: CyclePhase):
    def build(row, ctx: _Context) -> Task:
        is_self = source is RatingSource.SELF
        total = ctx.totals.get(row.proposed_level_id, 0)
        return Task(
            key=f"{kind.value}:case:{row.id}",
            person_id=row.person_id,
            kind=kind,
            title="Your self-assessment"
            if is_self
            else f"Manager assessment of {row.candidate_name}",
            detail=f"{row.cycle_name}, for {row.level_title}",
            endpoint="assessments.self_assessment" if is_self else "assessments.manager_assessment",
            values=(("case_id", row.id),),
            due_at=ctx.deadlines.get((row.cycle_id, phase)),
            cycle_id=row.cycle_id,
            phase=phase.value,
            done=min(ctx.done.get((row.id, source), 0), total),
            total=total,
        )

    return build


def _nomination_task(row, ctx: _Context) -> Task:
    reports = f"{row.reports} {'person reports' if row.reports == 1 else 'people report'} to you"
    return Task(
        key=f"nominations:cycle:{row.cycle_id}:person:{row.person_id}",
        person_id=row.person_id,
        kind=TaskKind.NOMINATIONS,
        title=f"Nominations for {row.cycle_name}",
        detail=f"Nominate the people ready for a higher level ({reports})",
        endpoint="cycles.nominate",
        values=(("cycle_id", row.cycle_id),),
        due_at=ctx.deadlines.get((row.cycle_id, CyclePhase.NOMINATIONS)),
        cycle_id=row.cycle_id,
        phase=CyclePhase.NOMINATIONS.value,
    )


def _vote_task(row, ctx: _Context) -> Task:
    return Task(
        key=f"votes:session:{row.id}:person:{row.person_id}",
        person_id=row.person_id,
        kind=TaskKind.VOTES,
        # Titles read "<title> is due" in reminders; the to-do list adds ": 2 of 3 voted".
        title=f"Voting in {row.name}",
        detail=f"Vote on each case in {row.cycle_name} before the meeting",
        endpoint="calibration.show",
        values=(("session_id", row.id),),
        due_at=row.scheduled_at or ctx.deadlines.get((row.cycle_id, CyclePhase.CALIBRATION)),
        cycle_id=row.cycle_id,
        phase=CyclePhase.CALIBRATION.value,
        done=row.voted,
        total=row.cases,
    )


def _corroboration_task(row, ctx: _Context) -> Task:
    return Task(
        key=f"corroboration:{row.id}",
        person_id=row.person_id,
        kind=TaskKind.CORROBORATION,
        title=f"Corroborate {row.owner_name}'s evidence",
        detail=f"“{row.title}”: confirm it with a note, or decline",
        endpoint="conversation.answer",
        values=(("corroboration_id", row.id),),
    )


def _feedback_task(row, ctx: _Context) -> Task:
    return Task(
        key=f"feedback:ask:{row.id}",
        person_id=row.person_id,
        kind=TaskKind.FEEDBACK,
        title=f"Feedback for {row.requester_name}",
        detail=f"On {', '.join(competency_label(ctx.names, row)) or 'their work'}",
        endpoint="feedback.answer",
        values=(("ask_id", row.id),),
        due_at=end_of_day(row.due_on, row.time_zone),
        extra=_due_on(row.due_on),
    )


def _action_item_task(row, ctx: _Context) -> Task:
    return Task(
        key=f"action_item:{row.id}",
        person_id=row.person_id,
        kind=TaskKind.ACTION_ITEM,
        title=row.text,
        detail="An action item from your 1:1s",
        endpoint="oneonones.meeting" if row.raised_in_id else "oneonones.space",
        values=(
            (("meeting_id", row.raised_in_id),)
            if row.raised_in_id
            else (("pair_id", row.one_on_one_id),)
        ),
        due_at=end_of_day(row.due_on, row.time_zone),
        extra=_due_on(row.due_on),
    )


def _due_on(day: date | None) -> tuple[tuple[str, str], ...]:
    """A task due on a day (not at an instant) says so: pages show the day, not midnight."""
    return (("due_on", day.isoformat()),) if day else ()


@dataclass(frozen=True)
class Kind:
    kind: TaskKind
    query: Callable[[People], Select]
    build: Callable[..., Task]


KINDS: tuple[Kind, ...] = (
    Kind(TaskKind.NOMINATIONS, _nominations, _nomination_task),
    Kind(
        TaskKind.SELF_ASSESSMENT,
        _self_assessments,
        _assessment(TaskKind.SELF_ASSESSMENT, RatingSource.SELF, CyclePhase.SELF_ASSESSMENT),
    ),
    Kind(
        TaskKind.MANAGER_ASSESSMENT,
        _manager_assessments,
        _assessment(
            TaskKind.MANAGER_ASSESSMENT, RatingSource.MANAGER, CyclePhase.MANAGER_ASSESSMENT
        ),
    ),
    Kind(TaskKind.VOTES, _votes, _vote_task),
    Kind(TaskKind.CORROBORATION, _corroborations, _corroboration_task),
    Kind(TaskKind.FEEDBACK, _feedback, _feedback_task),
    Kind(TaskKind.ACTION_ITEM, _action_items, _action_item_task),
)
ORDER = {kind.kind: n for n, kind in enumerate(KINDS)}


@cache
def _statements(is_everyone: bool) -> tuple[Select, ...]:
    """The kinds' SELECTs, built once per process: building them (aliasing User ten times) took
    longer than running them, about 15 ms a page for the navigation's count alone. A statement
    is immutable and holds no data; the people are a parameter bound at each execution."""
    people = None if is_everyone else bindparam(PEOPLE, expanding=True)
    return tuple(kind.query(people) for kind in KINDS)


@cache
def _count_expression():
    counts = [
        select(func.count()).select_from(query.subquery()).scalar_subquery()
        for query in _statements(False)
    ]
    total = counts[0]
    for count in counts[1:]:
        total = total + count
    return total


# --- the interface --------------------------------------------------------------------------


def open_tasks(now: datetime, person_ids: Iterable[int] | None = None) -> list[Task]:
    """Everyone's open tasks (or those of `person_ids`), most urgent first: overdue, then the
    soonest due, then those without a date. A fixed number of queries however many people:
    one per kind, the phase deadlines, and two for assessment progress."""
    ids = None if person_ids is None else sorted(set(person_ids))
    if ids == []:
        return []
    params = {} if ids is None else {PEOPLE: ids}
    statements = _statements(ids is None)
    rows = [
        (kind, db.session.execute(query, params).all())
        for kind, query in zip(KINDS, statements, strict=True)
    ]
    ctx = _context(rows)
    tasks = [kind.build(row, ctx) for kind, found in rows for row in found]
    return sorted(tasks, key=urgency)


def for_person(person: User, now: datetime) -> list[Task]:
    return open_tasks(now, [person.id])


def count_expression(person_id: int) -> tuple[Any, dict[str, list[int]]]:
    """The number of the person's open tasks as one scalar SQL expression, so that the
    navigation's count joins the layout's single query (app/services/layout.py), with the
    parameters to execute it with."""
    return _count_expression(), {PEOPLE: [person_id]}


def count_for(person: User, now: datetime) -> int:
    """How many open tasks the person has (one query)."""
    expression, params = count_expression(person.id)
    return db.session.execute(select(expression), params).scalar_one()


def urgency(task: Task) -> tuple:
    return (
        task.due_at is None,
        task.due_at or datetime.max.replace(tzinfo=UTC),
        ORDER[task.kind],
        task.key,
    )


def end_of_day(day: date | None, zone: str | None) -> datetime | None:
    """A date something is due on, as the instant that day ends where the person lives."""
    if day is None:
        return None
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=time_zone(zone))
    return local.astimezone(UTC)


def time_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _context(rows) -> _Context:
    cycle_ids = {row.cycle_id for _, found in rows for row in found if hasattr(row, "cycle_id")}
    assessed = {
        row.id: row.proposed_level_id
        for kind, found in rows
        if kind.kind in (TaskKind.SELF_ASSESSMENT, TaskKind.MANAGER_ASSESSMENT)
        for row in found
    }
    done = completed(set(assessed)) if assessed else {}
    expected = competencies_at(set(assessed.values())) if assessed else {}
    asks = [row for kind, found in rows if kind.kind is TaskKind.FEEDBACK for row in found]
    return _Context(
        names=names_for(asks) if asks else {},
        deadlines=deadlines.deadlines_for(cycle_ids),
        done=dict(done),
        totals={level_id: len(items) for level_id, items in expected.items()},
    )
