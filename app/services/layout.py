"""What the base layout shows a signed-in person on every page, read in one query: the unread
notification count, and whether they have started any jobs (the navigation's "Jobs" link is
for them only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import Job, Notification, User


@dataclass(frozen=True)
class Layout:
    """The signed-in person's navigation: the unread count, and whether to offer "Jobs"."""

    unread_notifications: int
    has_jobs: bool


SIGNED_OUT = Layout(unread_notifications=0, has_jobs=False)


def layout(viewer: User) -> Layout:
    """One round trip, however many notifications or jobs there are: a count on the
    (recipient, read_at) index and an EXISTS on the jobs the viewer may see."""
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == viewer.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    has_jobs = select(Job.id).where(policy.where("job.view", viewer)).exists()
    count, jobs = db.session.execute(select(unread, has_jobs)).one()
    return Layout(unread_notifications=count, has_jobs=bool(jobs))
