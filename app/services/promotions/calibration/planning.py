"""Planning a calibration session: its name, facilitator, participants and cases, and the page
that plans or changes one (the head of product, before the session is locked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.infra import timezones
from app.models import (
    CalibrationSession,
    Level,
    NotificationKind,
    PromotionCase,
    Role,
    User,
)
from app.models.base import utcnow
from app.policy import phases
from app.policy.phases import Activity
from app.services import notifications
from app.services.promotions import loading
from app.services.promotions.log import LogAction, record

NAME_MAX = 120


@dataclass(frozen=True)
class Scope:
    """What the head of product chooses for a session."""

    name: str
    facilitator_id: int | None
    participant_ids: list[int]
    case_ids: list[int]
    proposing_level_id: int | None = None
    scheduled_at: datetime | None = None  # when the meeting is (UTC); None: not scheduled


@dataclass(frozen=True)
class CaseChoice:
    id: int
    candidate: str
    level: str  # the proposed level, "L2 · Senior PM"
    level_id: int
    session: str | None  # the other session it is in
    in_session: bool = False  # in the session being edited


@dataclass(frozen=True)
class PlanningPage:
    """The session form: what it offers and, for a session being changed, what it holds now."""

    cycle_id: int
    cycle_name: str
    people: list[tuple[int, str]]  # managers and the head of product
    cases: list[CaseChoice]  # open cases of the cycle, those in another session disabled
    levels: list[tuple[int, str]]  # proposed levels of the cases not in another session
    session_id: int | None = None
    session_name: str | None = None
    current: Scope | None = None  # the session's scope as saved
    revision: int = 0


def new_session_page(actor: User, cycle_id: int) -> PlanningPage:
    """The form that plans a session of a cycle."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    people, cases, levels = _choices(cycle.id, None)
    return PlanningPage(cycle.id, cycle.name, people, cases, levels)


def change_session_page(actor: User, session_id: int) -> PlanningPage:
    """The form that changes a session, filled with what it holds now."""
    policy.authorize(actor, "cycles.manage")
    session = loading.session(session_id)
    people, cases, levels = _choices(session.cycle_id, session.id)
    current = Scope(
        session.name,
        session.facilitator_id,
        [p.id for p in session.participants],
        [c.id for c in cases if c.in_session],
        scheduled_at=session.scheduled_at,
    )
    return PlanningPage(
        session.cycle_id,
        session.cycle.name,
        people,
        cases,
        levels,
        session_id=session.id,
        session_name=session.name,
        current=current,
        revision=session.revision,
    )


def _choices(cycle_id: int, session_id: int | None):
    """What the session form offers: two queries."""
    people = db.session.execute(
        select(User.id, User.name)
        .where(User.role.in_([Role.MANAGER, Role.HEAD]), User.deactivated_at.is_(None))
        .order_by(User.name, User.id)
    ).all()
    rows = db.session.execute(
        select(PromotionCase, User.name, Level, CalibrationSession.name)
        .join(User, PromotionCase.candidate_id == User.id)
        .join(Level, PromotionCase.proposed_level_id == Level.id)
        .outerjoin(CalibrationSession, PromotionCase.session_id == CalibrationSession.id)
        .where(PromotionCase.cycle_id == cycle_id, PromotionCase.withdrawn_at.is_(None))
        .order_by(Level.rank, User.name, PromotionCase.id)
    ).all()
    cases = [
        CaseChoice(
            case.id,
            name,
            f"{level.code} · {level.title}",
            level.id,
            other if case.session_id not in (None, session_id) else None,
            session_id is not None and case.session_id == session_id,
        )
        for case, name, level, other in rows
    ]
    levels = list(dict.fromkeys((c.level_id, c.level) for c in cases if c.session is None))
    return [tuple(p) for p in people], cases, levels


def create_session(
    actor: User,
    cycle_id: int,
    name: str,
    facilitator_id: int | None,
    participant_ids: list[int],
    case_ids: list[int],
    proposing_level_id: int | None = None,
    *,
    scheduled_at: datetime | None = None,
) -> CalibrationSession:
    """The head of product plans a session (and, when known, when it meets); its people are
    told."""
    policy.authorize(actor, "cycles.manage")
    cycle = loading.cycle(cycle_id)
    phases.require(cycle, Activity.PLAN_SESSIONS)
    scope = Scope(name, facilitator_id, participant_ids, case_ids, proposing_level_id)
    name, facilitator, participants, cases = _checked_scope(cycle.id, scope, None)
    session = CalibrationSession(
        cycle_id=cycle.id,
        name=name,
        facilitator_id=facilitator.id,
        created_by_id=actor.id,
        scheduled_at=_checked_time(scheduled_at, None),
    )
    session.participants = participants
    db.session.add(session)
    db.session.flush()
    for case in cases:
        case.session_id = session.id
    record(
        actor,
        LogAction.SESSION_CREATED,
        cycle_id=cycle.id,
        session_id=session.id,
        to_value=name,
        reason=_scope_summary(facilitator, participants, cases, session.scheduled_at),
    )
    people = {facilitator.id, *(p.id for p in participants)}
    notifications.notify(
        people, NotificationKind.SESSION_ADDED, actor_id=actor.id, session_id=session.id
    )
    db.session.flush()
    return session


def change_session(
    actor: User, session_id: int, scope: Scope, *, expected_revision: int
) -> CalibrationSession:
    """Rename a session or change its people or cases, before it is locked."""
    policy.authorize(actor, "cycles.manage")
    session = loading.session(session_id)
    phases.require_unlocked(session)
    phases.require(session.cycle, Activity.PLAN_SESSIONS)
    if session.revision != expected_revision:
        raise ConflictError(
            "Someone changed this session since you opened the form.", current=_snapshot(session)
        )
    name, facilitator, participants, cases = _checked_scope(session.cycle_id, scope, session.id)
    before = db.session.scalars(
        select(PromotionCase)
        .where(PromotionCase.session_id == session.id)
        .options(joinedload(PromotionCase.candidate))
    ).all()
    scheduled_at = _checked_time(scope.scheduled_at, session.scheduled_at)
    changes = _describe_changes(session, name, facilitator, participants, before, cases)
    if scheduled_at != session.scheduled_at:
        changes.append(f"Meeting: {_when(session.scheduled_at)} → {_when(scheduled_at)}")
    if not changes:
        return session
    old_name = session.name
    new_people = {facilitator.id, *(p.id for p in participants)} - {
        session.facilitator_id,
        *(p.id for p in session.participants),
    }
    for case in before:
        case.session_id = None
    for case in cases:
        case.session_id = session.id
    session.name, session.facilitator_id, session.participants = name, facilitator.id, participants
    session.scheduled_at = scheduled_at
    record(
        actor,
        LogAction.SESSION_CHANGED,
        cycle_id=session.cycle_id,
        session_id=session.id,
        from_value=old_name,
        to_value=name,
        reason="; ".join(changes),
    )
    notifications.notify(
        new_people, NotificationKind.SESSION_ADDED, actor_id=actor.id, session_id=session.id
    )
    db.session.flush()
    return session


def _checked_scope(cycle_id: int, scope: Scope, session_id: int | None):
    name = " ".join((scope.name or "").split())
    if not name:
        raise ValidationError("Give the session a name.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Use at most {NAME_MAX} characters.", field="name")
    taken = db.session.execute(
        select(CalibrationSession.id).where(
            CalibrationSession.cycle_id == cycle_id,
            func.lower(CalibrationSession.name) == name.lower(),
            CalibrationSession.id != (session_id or 0),
        )
    ).first()
    if taken is not None:
        raise ValidationError(f"This cycle already has a session called “{name}”.", field="name")
    wanted = {scope.facilitator_id, *scope.participant_ids} - {None}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    facilitator = people.get(scope.facilitator_id)
    if facilitator is None or not _can_calibrate(facilitator):
        raise ValidationError(
            "Choose a facilitator: a manager or the head of product.", field="facilitator_id"
        )
    participants = [people.get(i) for i in dict.fromkeys(scope.participant_ids)]
    if not participants:
        raise ValidationError("Choose at least one participant.", field="participant_ids")
    if not all(p is not None and _can_calibrate(p) for p in participants):
        raise ValidationError(
            "Participants are managers or the head of product.", field="participant_ids"
        )
    participants.sort(key=lambda p: (p.name, p.id))
    cases = _checked_cases(cycle_id, scope, session_id)
    _refuse_own_case({facilitator.id, *(p.id for p in participants)}, cases)
    return name, facilitator, participants, cases


def _checked_time(wanted: datetime | None, saved: datetime | None) -> datetime | None:
    """The meeting's time to the minute; a new time must still be to come (an unchanged one
    may have passed: the session is being tidied after it met)."""
    if wanted is None:
        return None
    wanted = wanted.astimezone(UTC).replace(second=0, microsecond=0)
    if wanted != saved and wanted <= utcnow():
        raise ValidationError("Choose a date and time still to come.", field="scheduled_at")
    return wanted


def _when(instant: datetime | None) -> str:
    """A meeting time as the decision log keeps it: in UTC, which every reader can convert."""
    return timezones.format_instant(instant, "UTC") if instant else "not scheduled"


def _can_calibrate(person: User) -> bool:
    return person.is_manager and person.deactivated_at is None


def _checked_cases(cycle_id: int, scope: Scope, session_id: int | None) -> list[PromotionCase]:
    query = select(PromotionCase).options(joinedload(PromotionCase.candidate))
    wanted = set(scope.case_ids)
    found: dict[int, PromotionCase] = {}
    if wanted:
        found.update(
            (c.id, c) for c in db.session.scalars(query.where(PromotionCase.id.in_(wanted)))
        )
    if scope.proposing_level_id is not None:
        level_cases = db.session.scalars(
            query.where(
                PromotionCase.cycle_id == cycle_id,
                PromotionCase.proposed_level_id == scope.proposing_level_id,
                PromotionCase.withdrawn_at.is_(None),
                PromotionCase.session_id.is_(None)
                | (PromotionCase.session_id == (session_id or 0)),
            )
        ).all()
        if not level_cases:
            raise ValidationError(
                "No open case of this cycle outside other sessions proposes that level.",
                field="proposing_level_id",
            )
        found.update((c.id, c) for c in level_cases)
        wanted |= {c.id for c in level_cases}
    if not wanted:
        raise ValidationError("Choose the cases in scope.", field="case_ids")
    for case_id in sorted(wanted):
        case = found.get(case_id)
        if case is None or case.cycle_id != cycle_id or not case.is_open:
            raise ValidationError(
                "Choose open cases of this cycle; a case was withdrawn or is not in it.",
                field="case_ids",
            )
        if case.session_id not in (None, session_id):
            raise ValidationError(
                f"{case.candidate.name}'s case is already in another session.", field="case_ids"
            )
    return sorted(found.values(), key=lambda c: (c.candidate.name, c.id))


def _refuse_own_case(people: set[int], cases: list[PromotionCase]) -> None:
    for case in cases:
        if case.candidate_id in people:
            raise ValidationError(
                f"{case.candidate.name} is a candidate in this session, so cannot take part "
                "in it: leave their case for another session or choose other people.",
                field="participant_ids",
            )


def _scope_summary(
    facilitator: User, participants: list[User], cases, scheduled_at: datetime | None = None
) -> str:
    summary = (
        f"Facilitator: {facilitator.name}. Participants: "
        f"{', '.join(p.name for p in participants)}. "
        f"Cases: {', '.join(c.candidate.name for c in cases)}."
    )
    return f"{summary} Meeting: {_when(scheduled_at)}." if scheduled_at else summary


def _names(items) -> str:
    return ", ".join(sorted(items))


def _describe_changes(session, name, facilitator, participants, before, cases) -> list[str]:
    changes = []
    if name != session.name:
        changes.append(f"Renamed from “{session.name}” to “{name}”")
    if facilitator.id != session.facilitator_id:
        changes.append(f"Facilitator: {session.facilitator.name} → {facilitator.name}")
    old = {p.id: p.name for p in session.participants}
    new = {p.id: p.name for p in participants}
    if added := [new[i] for i in new.keys() - old.keys()]:
        changes.append(f"Participants added: {_names(added)}")
    if removed := [old[i] for i in old.keys() - new.keys()]:
        changes.append(f"Participants removed: {_names(removed)}")
    old_cases = {c.id: c.candidate.name for c in before}
    new_cases = {c.id: c.candidate.name for c in cases}
    if added := [new_cases[i] for i in new_cases.keys() - old_cases.keys()]:
        changes.append(f"Cases added: {_names(added)}")
    if removed := [old_cases[i] for i in old_cases.keys() - new_cases.keys()]:
        changes.append(f"Cases removed: {_names(removed)}")
    return changes


def _snapshot(session: CalibrationSession) -> dict:
    return {
        "name": session.name,
        "facilitator": session.facilitator.name,
        "participants": [p.name for p in session.participants],
    }
