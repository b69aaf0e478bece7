"""A person's notification settings and the messages Rungs sent them, for "Your data"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import DeliveryPreference, OutboundMessage, User
from app.services.messages import preferences


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def sections(person: User) -> dict[str, Any]:
    chosen = set(
        db.session.execute(
            select(DeliveryPreference.category, DeliveryPreference.channel).where(
                DeliveryPreference.user_id == person.id
            )
        ).all()
    )
    settings = [
        {
            "category": category.value,
            "channel": channel.value,
            "mode": mode.value,
            "chosen": (category, channel) in chosen,  # False: the default applies
        }
        for (category, channel), mode in preferences.choices_for(person.id).items()
        if category.is_optional
    ]
    sent = db.session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.recipient_id == person.id)
        .order_by(OutboundMessage.created_at, OutboundMessage.id)
    )
    messages = [
        {
            "created_at": _when(row.created_at),
            "channel": row.channel.value,
            "category": row.category.value,
            "address": row.address,
            "subject": row.subject,
            "text": row.body_text,
            "link": row.link,
            "status": row.status.value,
            "attempts": row.attempts,
            "sent_at": _when(row.sent_at),
        }
        for row in sent
    ]
    return {"notification_settings": settings, "messages": messages}
