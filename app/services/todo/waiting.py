"""The head of product's view of a cycle, phase by phase: who has not done their task yet, and
the nudges (at most once a day per person: app/services/todo/reminders.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app import policy
from app.core.errors import ValidationError
from app.extensions import db
from app.models import Channel, CyclePhase, OutboundMessage, PromotionCycle, User
from app.models.base import utcnow
from app.services.messages.outbox import email_enabled
from app.services.promotions import deadlines, loading
from app.services.todo import Task, TaskKind, reminders
from app.services.todo.tasks import open_tasks, time_zone

# The phases in which people have a task of their own (deciding is the head's own).
PHASES = (
    CyclePhase.NOMINATIONS,
    CyclePhase.SELF_ASSESSMENT,
    CyclePhase.MANAGER_ASSESSMENT,
    CyclePhase.CALIBRATION,
)
PER_PAGE = 50


@dataclass(frozen=True)
class Waiting:
    person_id: int
    name: str
    tasks: list[Task]
    nudged_today: bool

    @property
    def left(self) -> list[str]:
        """What is left, in the head of product's words (the tasks' titles speak to the person)."""
        return [left_to_do(task) for task in self.tasks]

    @property
    def first_due(self) -> datetime | None:
        return min((t.due_at for t in self.tasks if t.due_at), default=None)


@dataclass(frozen=True)
class WaitingPage:
    cycle: PromotionCycle
    phase: CyclePhase
    phases: tuple[CyclePhase, ...]
    due_at: datetime | None
    people: list[Waiting]  # this page of them
    total: int
    not_nudged: int  # how many "Nudge all" would reach today
    page: int
    pages: int
    is_current: bool  # the phase the cycle is in (tasks exist only then)
    can_send: bool  # email is on (or someone has Slack linked): a nudge reaches someone


def left_to_do(task: Task) -> str:
    if task.kind is TaskKind.SELF_ASSESSMENT:
        # No progress: until the manager's assessment is in, the committee reads nothing of the
        # self-assessment (case.view_self_assessment), not even how far it has got.
        return "Self-assessment not submitted yet"
    progress = f", {task.done} of {task.total}" if task.total else ""
    if task.kind is TaskKind.MANAGER_ASSESSMENT:
        return f"{task.title}{progress} competencies rated"
    if task.kind is TaskKind.VOTES:
        return f"Votes{progress} cases voted on"
    if task.kind is TaskKind.NOMINATIONS:
        return "Nominations: nobody nominated yet"
    return task.title


def waiting_page(
    actor: User, cycle_id: int, phase: CyclePhase | None, page: int, now: datetime | None = None
) -> WaitingPage:
    policy.authorize(actor, "cycles.manage")
    now = now or utcnow()
    cycle = loading.cycle(cycle_id)
    phase = phase or (cycle.phase if cycle.phase in PHASES else PHASES[0])
    everyone = waiting_in(cycle.id, phase, now)
    pages = max(1, -(-len(everyone) // PER_PAGE))
    page = min(max(page, 1), pages)
    return WaitingPage(
        cycle=cycle,
        phase=phase,
        phases=PHASES,
        due_at=deadlines.due_at(cycle.id, phase),
        people=everyone[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(everyone),
        not_nudged=sum(not w.nudged_today for w in everyone),
        page=page,
        pages=pages,
        is_current=cycle.phase is phase,
        can_send=email_enabled() or _anyone_on_slack([w.person_id for w in everyone]),
    )


def waiting_in(cycle_id: int, phase: CyclePhase, now: datetime) -> list[Waiting]:
    """Everyone with an open task in the cycle's phase, by name; a fixed number of queries."""
    tasks = [t for t in open_tasks(now) if t.cycle_id == cycle_id and t.phase == phase.value]
    ids = sorted({t.person_id for t in tasks})
    if not ids:
        return []
    people = db.session.execute(
        select(User.id, User.name, User.time_zone).where(User.id.in_(ids))
    ).all()
    keys = {
        person_id: reminders.nudge_key(person_id, _local_date(now, zone))
        for person_id, _, zone in people
    }
    sent = _nudged(keys.values())
    found = [
        Waiting(
            person_id=person_id,
            name=name,
            tasks=[t for t in tasks if t.person_id == person_id],
            nudged_today=keys[person_id] in sent,
        )
        for person_id, name, _ in people
    ]
    return sorted(found, key=lambda w: (w.name.casefold(), w.person_id))


def nudge(
    actor: User,
    cycle_id: int,
    phase: CyclePhase,
    person_ids: list[int] | None,
    now: datetime | None = None,
) -> int:
    """Nudge these people (None: everyone waiting) about their task in the cycle's phase;
    returns how many people were sent a nudge (the others had one today already, or want no
    reminders). The caller commits."""
    policy.authorize(actor, "cycles.manage")
    now = now or utcnow()
    cycle = loading.cycle(cycle_id)
    if cycle.phase is not phase:
        raise ValidationError(
            f"{cycle.name} is in {cycle.phase.label.lower()}: only the tasks of the phase it is "
            "in can be nudged."
        )
    if person_ids == []:
        raise ValidationError("Choose whom to nudge: one person, or everyone waiting.")
    waiting = waiting_in(cycle_id, phase, now)
    wanted = {w.person_id for w in waiting} if person_ids is None else set(person_ids)
    if person_ids is not None and not wanted & {w.person_id for w in waiting}:
        raise ValidationError("They have nothing left to do in this phase.")
    queued = reminders.nudge(wanted, now, cycle_id=cycle_id, phase=phase.value)
    return len(_recipients(queued))


def _recipients(message_ids: list[int]) -> set[int]:
    if not message_ids:
        return set()
    return set(
        db.session.scalars(
            select(OutboundMessage.recipient_id).where(OutboundMessage.id.in_(message_ids))
        )
    )


def _local_date(now: datetime, zone: str | None) -> str:
    return now.astimezone(time_zone(zone)).date().isoformat()


def _nudged(keys) -> set[str]:
    """Which of these nudge keys were used today (on any channel)."""
    by_channel = {f"{key}:{channel.value}": key for key in keys for channel in Channel}
    if not by_channel:
        return set()
    found = db.session.scalars(
        select(OutboundMessage.dedupe_key).where(OutboundMessage.dedupe_key.in_(by_channel))
    )
    return {by_channel[key] for key in found}


def _anyone_on_slack(ids: list[int]) -> bool:
    if not ids:
        return False
    return (
        db.session.execute(
            select(User.id).where(User.id.in_(ids), User.slack_user_id.is_not(None)).limit(1)
        ).first()
        is not None
    )
