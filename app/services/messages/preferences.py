"""How each person wants each category of message on each channel."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import (
    Channel,
    DeliveryMode,
    DeliveryPreference,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
)
from app.models.base import utcnow
from app.services.messages import wake

DIGEST_PREFIX = "digest:"  # the dedupe keys of digests (app/services/messages/digest.py)

# Without a choice of their own: what is due and what happened in a cycle arrive at once; the
# rest comes in the daily digest. On Slack (once linked), everything arrives at once.
DEFAULTS: dict[tuple[MessageCategory, Channel], DeliveryMode] = (
    {(category, Channel.EMAIL): DeliveryMode.DIGEST for category in MessageCategory}
    | {
        (MessageCategory.TRANSACTIONAL, Channel.EMAIL): DeliveryMode.IMMEDIATE,
        (MessageCategory.REMINDERS, Channel.EMAIL): DeliveryMode.IMMEDIATE,
        (MessageCategory.CYCLES, Channel.EMAIL): DeliveryMode.IMMEDIATE,
        (MessageCategory.FEEDBACK, Channel.EMAIL): DeliveryMode.IMMEDIATE,
    }
    | {(category, Channel.SLACK): DeliveryMode.IMMEDIATE for category in MessageCategory}
)


def default_mode(category: MessageCategory, channel: Channel) -> DeliveryMode:
    return DEFAULTS[(category, channel)]


def modes_for(
    person_ids: Iterable[int], category: MessageCategory, channel: Channel
) -> dict[int, DeliveryMode]:
    """Each person's mode for one category on one channel, in one query. Transactional email
    is always immediate, and transactional messages never go to Slack."""
    ids = sorted(set(person_ids))
    if category is MessageCategory.TRANSACTIONAL:
        mode = DeliveryMode.IMMEDIATE if channel is Channel.EMAIL else DeliveryMode.OFF
        return dict.fromkeys(ids, mode)
    chosen = dict(
        db.session.execute(
            select(DeliveryPreference.user_id, DeliveryPreference.mode).where(
                DeliveryPreference.user_id.in_(ids),
                DeliveryPreference.category == category,
                DeliveryPreference.channel == channel,
            )
        ).all()
    )
    fallback = default_mode(category, channel)
    return {person_id: chosen.get(person_id, fallback) for person_id in ids}


def mode_for(person_id: int, category: MessageCategory, channel: Channel) -> DeliveryMode:
    return modes_for([person_id], category, channel)[person_id]


def choose(person_id: int, category: MessageCategory, channel: Channel, mode: DeliveryMode) -> None:
    """Record one choice (the caller commits). Turning a category off cancels what is still
    waiting in the outbox for it on that channel; transactional email cannot be changed."""
    if not category.is_optional:
        raise ValueError("sign-in links and password resets are always sent by email")
    # An upsert, so that two tabs saving at once both succeed (the last one wins).
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    moment = utcnow()
    statement = insert(DeliveryPreference).values(
        user_id=person_id, category=category, channel=channel, mode=mode, updated_at=moment
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "category", "channel"],
            set_={"mode": statement.excluded.mode, "updated_at": statement.excluded.updated_at},
        )
    )
    if mode is DeliveryMode.OFF:
        waiting = [MessageStatus.QUEUED, MessageStatus.HELD]
    elif mode is DeliveryMode.IMMEDIATE:
        waiting = [MessageStatus.HELD]  # held for a digest no longer wanted: send them now
    else:
        return
    requeued = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.recipient_id == person_id,
            OutboundMessage.category == category,
            OutboundMessage.channel == channel,
            OutboundMessage.status.in_(waiting),
            # A digest took the category of its first item but carries every category's: it
            # is not this category's to cancel (its items are already marked as digested).
            or_(
                OutboundMessage.dedupe_key.is_(None),
                OutboundMessage.dedupe_key.not_like(f"{DIGEST_PREFIX}%"),
            ),
        )
        .values(
            status=MessageStatus.CANCELLED if mode is DeliveryMode.OFF else MessageStatus.QUEUED,
            next_attempt_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if requeued and mode is DeliveryMode.IMMEDIATE:
        wake.mark()


def choices_for(person_id: int) -> dict[tuple[MessageCategory, Channel], DeliveryMode]:
    """Every (category, channel) for one person: their choice or the default, in one query."""
    chosen = {
        (category, channel): mode
        for category, channel, mode in db.session.execute(
            select(
                DeliveryPreference.category, DeliveryPreference.channel, DeliveryPreference.mode
            ).where(DeliveryPreference.user_id == person_id)
        )
    }
    return {
        key: (DEFAULTS[key] if not key[0].is_optional else chosen.get(key, DEFAULTS[key]))
        for key in DEFAULTS
    }
