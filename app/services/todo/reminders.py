"""Reminders of tasks due in 3 days, due tomorrow and overdue (`flask reminders send`), and the
head of product's nudges.

"At most once" is the outbox's unique dedupe key, never a check in Python: two runs at once
both try to insert the same key and the database keeps one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.infra import timezones
from app.models import MessageCategory, OutboundMessage, User
from app.services import messages
from app.services.messages import outbox
from app.services.todo import Task, TaskKind
from app.services.todo.tasks import open_tasks, time_zone


class Threshold(enum.StrEnum):
    """How close a task is to its due date; only the most urgent one that applies is sent, so a
    task set due tomorrow gets "tomorrow", not also "in 3 days"."""

    OPENED = "opened"  # a cycle task that is new (or whose due date changed): what, by when
    IN_3_DAYS = "3_days"
    TOMORROW = "tomorrow"
    OVERDUE = "overdue"


OVERDUE_FOR = timedelta(days=7)  # an older overdue task gets no reminder of its own
COMMIT_EVERY = 200  # reminders queued per transaction
CHUNK = 500  # keys per IN (…) when looking for those already queued
WITHIN = {Threshold.TOMORROW: timedelta(days=1), Threshold.IN_3_DAYS: timedelta(days=3)}


def subject(task: Task, reached: Threshold, when: str) -> str:
    if reached is Threshold.OVERDUE:
        return f"Overdue: {task.title}"
    if reached is Threshold.OPENED:
        return f"To do: {task.title}" + (f", due {when}" if task.due_at else "")
    return f"Due {when}: {task.title}"


def when_due(task: Task, now: datetime, zone: str | None) -> str:
    """ "today", "tomorrow" or "in 3 days", counted in the person's own calendar days."""
    if task.due_at is None:
        return ""
    local = time_zone(zone)
    days = (task.due_at.astimezone(local).date() - now.astimezone(local).date()).days
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


# A cycle's tasks arrive with the phase, unannounced otherwise: each is told once, with its due
# date (again when the date changes). Feedback asks and 1:1 action items have notices of their own.
ANNOUNCED = frozenset(
    {TaskKind.NOMINATIONS, TaskKind.SELF_ASSESSMENT, TaskKind.MANAGER_ASSESSMENT, TaskKind.VOTES}
)


def threshold(task: Task, now: datetime) -> Threshold | None:
    """The message a task calls for at `now`: the most urgent reminder that applies, else the
    announcement of a cycle task, else none."""
    if task.due_at is not None and task.due_at <= now:
        # Overdue is said once, soon after the date passed: the first run after reminders are
        # turned on must not email everyone about every old task (the head can still nudge).
        return Threshold.OVERDUE if now - task.due_at <= OVERDUE_FOR else None
    if task.due_at is not None and task.due_at - now <= WITHIN[Threshold.TOMORROW]:
        return Threshold.TOMORROW
    if task.due_at is not None and task.due_at - now <= WITHIN[Threshold.IN_3_DAYS]:
        return Threshold.IN_3_DAYS
    return Threshold.OPENED if task.kind in ANNOUNCED else None


def reminder_key(task: Task, reached: Threshold) -> str:
    """Once per person, task, threshold and due date: a deadline moved later is reminded of
    again; the same one never twice. (messages.deliver appends the channel.)"""
    due = f"{task.due_at:%Y%m%dT%H%M}" if task.due_at else "undated"
    return f"reminder:{task.key}:{reached.value}:{due}"


def queue_reminders(now: datetime) -> int:
    """Queue, through messages.deliver, each reminder that is due at `now` and not yet queued
    (at most once per person, task and threshold: the outbox's dedupe key); returns how many
    messages were queued. Commits every COMMIT_EVERY tasks, so that SQLite's write lock is
    never held for the whole run (thousands of reminders take seconds to render); the caller
    commits the rest."""
    due = [(task, reached) for task in open_tasks(now) if (reached := threshold(task, now))]
    people = _people(task.person_id for task, _ in due)
    done = _already_queued(
        {reminder_key(task, reached): people[task.person_id] for task, reached in due}
    )
    for person in people.values():  # plain values from here on: commits expire nothing
        db.session.expunge(person)
    queued = 0
    for index, (task, reached) in enumerate(due, 1):
        if index % COMMIT_EVERY == 0:
            db.session.commit()
        if reminder_key(task, reached) in done:
            continue
        person = people[task.person_id]
        queued += len(
            messages.deliver(
                person,
                MessageCategory.REMINDERS,
                subject=subject(task, reached, when_due(task, now, person.time_zone)),
                template="reminder",
                context=_context(task, person, now, reached),
                link=_link(task),
                dedupe_key=reminder_key(task, reached),
            )
        )
    return queued


def nudge(people_ids: Iterable[int], now: datetime, *, cycle_id: int, phase: str) -> list[int]:
    """The head of product's nudge: one message per person about their open tasks in the
    cycle's phase, at most once a day per person (the key holds their local date); returns the
    ids of the messages queued. The caller commits."""
    ids = sorted(set(people_ids))
    tasks = [t for t in open_tasks(now, ids) if t.cycle_id == cycle_id and t.phase == phase]
    people = _people(t.person_id for t in tasks)
    queued: list[int] = []
    for person_id, person in people.items():
        theirs = [t for t in tasks if t.person_id == person_id]
        first = theirs[0]
        today = now.astimezone(time_zone(person.time_zone)).date()
        queued.extend(
            messages.deliver(
                person,
                MessageCategory.REMINDERS,
                subject=f"A reminder from your head of product: {first.title}",
                template="nudge",
                context={"tasks": [(t, due_text(t, person.time_zone)) for t in theirs]},
                link=_link(first),
                dedupe_key=nudge_key(person_id, today.isoformat()),
            )
        )
    return queued


def _already_queued(keys: dict[str, User]) -> set[str]:
    """The keys already in the outbox on every channel their person gets messages on, so that
    a run every few minutes neither renders nor inserts them again. Only a shortcut: the
    unique key is what makes a reminder happen once (a concurrent run may insert one after
    this looked)."""
    wanted = {
        f"{key}:{channel.value}": key
        for key, person in keys.items()
        for channel in outbox._channels(person)  # the channels deliver() would use
    }
    found: set[str] = set()
    names = sorted(wanted)
    for start in range(0, len(names), CHUNK):
        found.update(
            db.session.scalars(
                select(OutboundMessage.dedupe_key).where(
                    OutboundMessage.dedupe_key.in_(names[start : start + CHUNK])
                )
            )
        )
    missing = {wanted[name] for name in names if name not in found}
    return {key for key in keys if key not in missing}


def nudge_key(person_id: int, local_date: str) -> str:
    """At most one nudge a day per person, whichever cycle it is about (the issue's promise: a
    person behind in two cycles hears from the head of product once that day)."""
    return f"nudge:person:{person_id}:{local_date}"


def _people(ids: Iterable[int]) -> dict[int, User]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = db.session.scalars(select(User).where(User.id.in_(wanted))).all()
    return {person.id: person for person in found}


def _link(task: Task) -> str:
    return messages.absolute_url(task.endpoint, **dict(task.values))


def _context(task: Task, person: User, now: datetime, reached: Threshold) -> dict:
    return {
        "task": task,
        "threshold": reached.value,
        "when": when_due(task, now, person.time_zone),
        "due": due_text(task, person.time_zone) if task.due_at else "",
    }


def due_text(task: Task, zone: str | None) -> str:
    """A task due on a day: "Friday 4 December 2026"; one due at an instant as the pages show
    it in the person's zone: "Fri 12 Mar 2027, 17:00 CET" (app/infra/timezones.py)."""
    extra = dict(task.extra)
    if "due_on" in extra:
        day = date.fromisoformat(extra["due_on"])
        return f"{day:%A} {day.day} {day:%B %Y}"
    return timezones.format_instant(task.due_at, zone)
