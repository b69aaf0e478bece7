"""In-app notifications: written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Notification, NotificationKind
from app.models.base import utcnow


def notify(
    recipients: Iterable[int],
    kind: NotificationKind,
    *,
    actor_id: int | None,
    evidence_id: int | None = None,
) -> None:
    """One notification per recipient; nobody is notified of their own action."""
    for recipient in sorted(set(recipients) - {actor_id}):
        db.session.add(
            Notification(
                recipient_id=recipient, kind=kind, actor_id=actor_id, evidence_id=evidence_id
            )
        )


def unread_count(person_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == person_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(person_id: int, notification_ids: Iterable[int] | None = None) -> None:
    query = update(Notification).where(
        Notification.recipient_id == person_id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    db.session.execute(query.values(read_at=utcnow()))
