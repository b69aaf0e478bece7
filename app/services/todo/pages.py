"""Read-models of the to-do list: home's "To do" panel and the page listing all of a person's
tasks, each with its due date in the person's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.models import User
from app.models.base import utcnow
from app.services.todo import Task, TaskKind
from app.services.todo.tasks import for_person, time_zone

HOME_SHOWN = 8  # the rest is one click away, on the to-do page
PER_PAGE = 30
SOON = timedelta(days=3)  # as soon as reminders start

ACTIONS = {
    TaskKind.NOMINATIONS: "Nominate",
    TaskKind.VOTES: "Vote",
    TaskKind.CORROBORATION: "Answer",
    TaskKind.FEEDBACK: "Answer",
    TaskKind.ACTION_ITEM: "Open",
}


@dataclass(frozen=True)
class Item:
    task: Task
    due_local: datetime | None  # the due instant in the viewer's time zone
    due_day: date | None  # for a task due on a day rather than at an instant
    is_overdue: bool
    is_soon: bool
    action: str  # the button: "Start", "Continue", "Answer", "Vote"…

    @property
    def url_values(self) -> dict[str, int]:
        return dict(self.task.values)

    @property
    def has_progress(self) -> bool:
        return self.task.total is not None


@dataclass(frozen=True)
class TodoList:
    items: list[Item]
    total: int
    zone: str  # the viewer's time zone, named beside times
    page: int = 1
    pages: int = 1

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def item(task: Task, now: datetime, zone: str) -> Item:
    extra = dict(task.extra)
    started = bool(task.done)
    action = ACTIONS.get(task.kind) or ("Continue" if started else "Start")
    return Item(
        task=task,
        due_local=task.due_at.astimezone(time_zone(zone)) if task.due_at else None,
        due_day=date.fromisoformat(extra["due_on"]) if "due_on" in extra else None,
        is_overdue=task.is_overdue(now),
        is_soon=task.due_at is not None and now < task.due_at <= now + SOON,
        action=action,
    )


def home_panel(viewer: User, now: datetime | None = None) -> TodoList:
    """The most urgent of the viewer's tasks, and how many there are."""
    now = now or utcnow()
    tasks = for_person(viewer, now)
    zone = viewer.time_zone or "UTC"
    return TodoList([item(t, now, zone) for t in tasks[:HOME_SHOWN]], len(tasks), zone)


def todo_page(viewer: User, page: int, now: datetime | None = None) -> TodoList:
    """All of the viewer's tasks, most urgent first, a page at a time."""
    now = now or utcnow()
    tasks = for_person(viewer, now)
    zone = viewer.time_zone or "UTC"
    pages = max(1, -(-len(tasks) // PER_PAGE))
    page = min(max(page, 1), pages)
    shown = tasks[(page - 1) * PER_PAGE : page * PER_PAGE]
    return TodoList([item(t, now, zone) for t in shown], len(tasks), zone, page, pages)
