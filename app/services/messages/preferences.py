"""How each person wants each category of message on each channel."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, DeliveryMode, DeliveryPreference, MessageCategory

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
