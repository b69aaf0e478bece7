"""In-app notifications: written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app import policy
from app.core import events
from app.extensions import db
from app.models import (
    Corroboration,
    CorroborationStatus,
    Evidence,
    Notification,
    NotificationKind,
    User,
)
from app.models.base import utcnow
from app.services.people import org


def notify(
    recipients: Iterable[int],
    kind: NotificationKind,
    *,
    actor_id: int | None,
    evidence_id: int | None = None,
    case_id: int | None = None,
    session_id: int | None = None,
) -> None:
    """One notification per recipient; nobody is notified of their own action."""
    for recipient in sorted(set(recipients) - {actor_id}):
        db.session.add(
            Notification(
                recipient_id=recipient,
                kind=kind,
                actor_id=actor_id,
                evidence_id=evidence_id,
                case_id=case_id,
                session_id=session_id,
            )
        )


def on_evidence_shared(evidence: Evidence, *, actor: User) -> None:
    """New shared evidence: the owner's manager and mentors hear of it (events.evidence_shared)."""
    mentors = org.mentors_of(evidence.owner_id)
    manager = db.session.execute(
        select(User.manager_id).where(User.id == evidence.owner_id)
    ).scalar_one_or_none()
    notify(
        [*mentors, *([manager] if manager else [])],
        NotificationKind.EVIDENCE_SHARED,
        actor_id=actor.id,
        evidence_id=evidence.id,
    )


def subscribe() -> None:
    """Connect the receivers to the events they turn into notifications (create_app calls it)."""
    events.evidence_shared.connect(on_evidence_shared)


def unread_count(person_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == person_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(
    person_id: int,
    notification_ids: Iterable[int] | None = None,
    *,
    through_id: int | None = None,
) -> int:
    """Mark the person's notifications read: these ids, or every one up to `through_id` (the
    newest the page showed, so that one arriving meanwhile stays new), or all. Returns how
    many were unread."""
    query = update(Notification).where(
        Notification.recipient_id == person_id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    if through_id is not None:
        query = query.where(Notification.id <= through_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


# --- the inbox --------------------------------------------------------------------------------

PER_PAGE = 20


@dataclass(frozen=True)
class Entry:
    """One notification as its recipient sees it; plain values, so it outlives the commit."""

    id: int
    kind: NotificationKind
    actor_name: str | None
    created_at: datetime
    is_unread: bool
    evidence_id: int | None  # only while the recipient may still see the item
    title: str | None
    answer: CorroborationStatus | None = None  # for an answered corroboration request
    case_id: int | None = None  # only while the recipient may still open the case
    case_title: str | None = None
    session_id: int | None = None  # only while the recipient may still open the session
    session_name: str | None = None


def inbox(viewer: User, page: int) -> tuple[Pagination, list[Entry]]:
    """A page of the viewer's notifications, newest first. Reading only: the page's "Mark all as
    read" button (a POST) marks them, since a GET must not write."""
    pagination = db.paginate(
        select(Notification)
        .where(Notification.recipient_id == viewer.id)
        .options(joinedload(Notification.actor))
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    shown: list[Notification] = list(pagination.items)
    titles = _visible_titles(viewer, {n.evidence_id for n in shown if n.evidence_id})
    answers = _answers([n for n in shown if n.kind is NotificationKind.CORROBORATION_ANSWERED])
    cases, sessions = _promotion_titles(viewer, shown)
    entries = [
        Entry(
            id=n.id,
            kind=n.kind,
            actor_name=n.actor.name if n.actor else None,
            created_at=n.created_at,
            is_unread=n.read_at is None,
            evidence_id=n.evidence_id if n.evidence_id in titles else None,
            title=titles.get(n.evidence_id),
            answer=answers.get((n.evidence_id, n.actor_id)),
            case_id=n.case_id if n.case_id in cases else None,
            case_title=cases.get(n.case_id),
            session_id=n.session_id if n.session_id in sessions else None,
            session_name=sessions.get(n.session_id),
        )
        for n in shown
    ]
    return pagination, entries


@dataclass(frozen=True)
class InboxPage:
    """The notifications page."""

    page: Pagination
    entries: list[Entry]


def inbox_page(viewer: User, page: int) -> InboxPage:
    return InboxPage(*inbox(viewer, page))


def _visible_titles(viewer: User, evidence_ids: set[int]) -> dict[int, str]:
    """Titles of the items the viewer may still open (the policy's evidence.view rule)."""
    if not evidence_ids:
        return {}
    rows = db.session.execute(
        select(Evidence.id, Evidence.title).where(
            Evidence.id.in_(evidence_ids), policy.where("evidence.view", viewer)
        )
    ).all()
    return {evidence_id: title for evidence_id, title in rows}


def _answers(answered: list[Notification]) -> dict[tuple[int, int], CorroborationStatus]:
    if not answered:
        return {}
    rows = db.session.execute(
        select(Corroboration.evidence_id, Corroboration.peer_id, Corroboration.status).where(
            Corroboration.evidence_id.in_({n.evidence_id for n in answered}),
            Corroboration.peer_id.in_({n.actor_id for n in answered}),
        )
    ).all()
    return {(evidence_id, peer_id): status for evidence_id, peer_id, status in rows}


def _promotion_titles(
    viewer: User, shown: list[Notification]
) -> tuple[dict[int, str], dict[int, str]]:
    """Titles of the promotion cases and calibration sessions the viewer may still open."""
    case_ids = {n.case_id for n in shown if n.case_id}
    session_ids = {n.session_id for n in shown if n.session_id}
    if not case_ids and not session_ids:
        return {}, {}
    from app.services.promotions import case_lists  # the promotion services notify through here

    return case_lists.case_titles(viewer, case_ids), case_lists.session_names(viewer, session_ids)
