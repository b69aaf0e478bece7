"""Public thanks: anyone thanks anyone else for an outcome, in a short message, optionally for
one of the recipient's evidence items (its link shows only to those who may open it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import Evidence, NotificationKind, Thanks, User
from app.services import audit, notifications
from app.services.evidence.titles import readable_titles

MESSAGE_MAX = 500


def give_thanks(
    actor: User, recipient_id: int | None, message: str, *, evidence_id: int | None = None
) -> Thanks:
    """Thank an active colleague, optionally for one of their items the actor may read;
    thanks for an item go to its owner unless someone else is named (refused)."""
    policy.authorize(actor, "thanks.give")
    if evidence_id is not None and recipient_id is None:
        recipient_id = thankable_item(actor, evidence_id).owner_id
    recipient = db.session.get(User, recipient_id) if recipient_id is not None else None
    if recipient is None or not recipient.is_active:
        raise ValidationError("Choose whom to thank.", field="recipient_id")
    if recipient.id == actor.id:
        raise ValidationError("Thank someone other than yourself.", field="recipient_id")
    text = " ".join((message or "").split())
    if not text:
        raise ValidationError("Say what you thank them for.", field="message")
    if len(text) > MESSAGE_MAX:
        raise ValidationError(f"Keep it to {MESSAGE_MAX} characters.", field="message")
    if evidence_id is not None:
        item = thankable_item(actor, evidence_id)
        if item.owner_id != recipient.id:
            raise ValidationError(
                f"That item is not {recipient.name}\u2019s; thank its owner for it.",
                field="recipient_id",
            )
    thanks = Thanks(
        giver_id=actor.id, recipient_id=recipient.id, message=text, evidence_id=evidence_id
    )
    db.session.add(thanks)
    db.session.flush()
    audit.record(
        actor,
        "thanks.given",
        thanks,
        after={"recipient_id": recipient.id, "message": text, "evidence_id": evidence_id},
    )
    notifications.notify(
        [recipient.id], NotificationKind.THANKS, actor_id=actor.id, thanks_id=thanks.id
    )
    return thanks


def thankable_item(actor: User, evidence_id: int) -> Evidence:
    """A shared item of someone else that the actor may read (the "Thank" action on its page);
    404 for anything else, so that a draft's existence stays hidden."""
    item = db.session.execute(
        select(Evidence).where(Evidence.id == evidence_id).options(joinedload(Evidence.owner))
    ).scalar_one_or_none()
    if item is None or not item.is_visible_to_others or item.owner_id == actor.id:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "evidence.view", item)
    return item


def recipient_choices(actor: User) -> list[tuple[int, str]]:
    """Active people the actor may thank: (id, name), by name."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.id != actor.id, User.deactivated_at.is_(None))
        .order_by(User.name, User.id)
    ).all()
    return [(person_id, name) for person_id, name in rows]


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThanksRow:
    """One thanks as a viewer sees it: the evidence link only when they may open the item."""

    id: int
    giver: User
    recipient: User
    message: str
    created_at: datetime
    evidence_id: int | None
    evidence_title: str | None


def newest_first() -> Select:
    return (
        select(Thanks)
        .options(joinedload(Thanks.giver), joinedload(Thanks.recipient))
        .order_by(Thanks.created_at.desc(), Thanks.id.desc())
    )


def rows_for(viewer: User, found: list[Thanks]) -> list[ThanksRow]:
    """The thanks as the viewer sees them; one query for the items they may open."""
    titles = readable_titles(viewer, {t.evidence_id for t in found if t.evidence_id})
    return [
        ThanksRow(
            id=t.id,
            giver=t.giver,
            recipient=t.recipient,
            message=t.message,
            created_at=t.created_at,
            evidence_id=t.evidence_id if t.evidence_id in titles else None,
            evidence_title=titles.get(t.evidence_id),
        )
        for t in found
    ]
