"""What the base layout shows a signed-in person on every page, read in one query: the unread
notification count, how many tasks they have to do, whether they have started any jobs (the
navigation's "Jobs" link is for them only), and which pages' help they have already seen (folded
for them: app/services/help.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import Job, Notification, User
from app.services import help as help_service
from app.services.todo import tasks as todo


@dataclass(frozen=True)
class Layout:
    """The signed-in person's navigation and seen help, read once per request.

    `help_shown` is the one part that changes while the page renders: the help keys the page
    showed open (for the first time), which the request records as seen once the page is
    rendered (app/layout.py). For the signed-out layout nothing is noted or recorded.
    """

    unread_notifications: int
    has_jobs: bool
    open_tasks: int = 0  # the home page's "To do" (app/services/todo/)
    help_seen: frozenset[str] = frozenset()
    records_help: bool = False
    help_shown: set[str] = field(default_factory=set, compare=False, repr=False)

    def opens_help(self, key: str) -> bool:
        """Whether the page's help `key` is shown open: only until the person has seen it.
        Opening it notes the key, so it is folded from the next page view on."""
        help_service.check_key(key)
        if key in self.help_seen:
            return False
        if self.records_help:
            self.help_shown.add(key)
        return True


SIGNED_OUT = Layout(unread_notifications=0, has_jobs=False)


def layout(viewer: User) -> Layout:
    """One round trip, however many notifications, jobs or help there are: a count on the
    (recipient, read_at) index, an EXISTS on the jobs the viewer may see, and the viewer's seen
    help keys as one string (their primary key's prefix), and a count per kind of task (each
    on the person's own rows: app/services/todo/tasks.py)."""
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == viewer.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    has_jobs = select(Job.id).where(policy.where("job.view", viewer)).exists()
    seen = help_service.seen_keys_subquery(viewer.id)
    tasks, params = todo.count_expression(viewer.id)
    statement = select(unread, has_jobs, seen, tasks)
    count, jobs, keys, open_tasks = db.session.execute(statement, params).one()
    return Layout(
        unread_notifications=count,
        has_jobs=bool(jobs),
        open_tasks=open_tasks,
        help_seen=help_service.parse_keys(keys),
        records_help=True,
    )
