"""The daily digest: once a day, at DIGEST_HOUR in the recipient's own time zone, one message
per channel with everything HELD for them (the categories they chose to get as a digest).

Once per person, channel and local date, also with two passes at once: the digest row is
inserted first under the dedupe key "digest:<person>:<local date>:<channel>" (the database
refuses a second), and the held rows it gathers are claimed by one UPDATE … WHERE status = 'held'
RETURNING, in the same transaction. A row held after the digest hour waits for the next day's
digest; a pass that missed the hour (cron down) still sends the day's digest later that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Channel, MessageStatus, OutboundMessage, User
from app.models.base import utcnow
from app.services.messages import preferences
from app.services.messages.outbox import absolute_url, insert_new, render

MOST_ITEMS = 50  # listed in one digest; the rest are counted, and wait in Rungs
PREFIX = preferences.DIGEST_PREFIX


@dataclass(frozen=True)
class Item:
    subject: str
    link: str


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def digest_moment(now: datetime, time_zone: str | None) -> datetime:
    """Today's digest moment for someone in `time_zone` (in UTC): DIGEST_HOUR local time."""
    local = now.astimezone(zone(time_zone))
    hour = int(current_app.config["DIGEST_HOUR"])
    moment = datetime.combine(local.date(), time(hour), tzinfo=local.tzinfo)
    return moment.astimezone(now.tzinfo)


def send_due_digests(now: datetime | None = None) -> int:
    """Make the digests that are due now; how many were made. Commits."""
    now = now or utcnow()
    waiting = db.session.execute(
        select(
            OutboundMessage.recipient_id,
            OutboundMessage.channel,
            func.min(OutboundMessage.created_at),
        )
        .where(OutboundMessage.status == MessageStatus.HELD)
        .group_by(OutboundMessage.recipient_id, OutboundMessage.channel)
    ).all()
    if not waiting:
        return 0
    people = {
        person.id: person
        for person in db.session.scalars(
            select(User).where(User.id.in_({row[0] for row in waiting}))
        )
    }
    made = 0
    for person_id, channel, oldest in waiting:
        person = people[person_id]
        moment = digest_moment(now, person.time_zone)
        if now < moment or oldest >= moment or not person.is_active:
            continue  # not yet the hour, or everything held came after today's digest
        if make(person, channel, now, moment):
            made += 1
        db.session.commit()
    return made


def make(person: User, channel: Channel, now: datetime, moment: datetime) -> int | None:
    """Today's digest for one person on one channel (the caller commits); None when another
    pass made it already."""
    local_date = moment.astimezone(zone(person.time_zone)).date()
    first = db.session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.recipient_id == person.id,
            OutboundMessage.channel == channel,
            OutboundMessage.status == MessageStatus.HELD,
        )
        .order_by(OutboundMessage.id)
        .limit(1)
    ).first()
    if first is None:
        return None
    inserted = insert_new(
        [
            {
                "recipient_id": person.id,
                "channel": channel,
                "category": first.category,
                "dedupe_key": f"{PREFIX}{person.id}:{local_date.isoformat()}:{channel.value}",
                "address": first.address,
                "subject": "Your Rungs digest",
                "body_text": "",
                "body_html": "",
                "link": absolute_url("notifications.inbox"),
                "status": MessageStatus.QUEUED,
                "next_attempt_at": now,
            }
        ]
    )
    if not inserted:
        return None
    digest_id = inserted[0]
    gathered = db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.recipient_id == person.id,
            OutboundMessage.channel == channel,
            OutboundMessage.status == MessageStatus.HELD,
            OutboundMessage.created_at < moment,
        )
        .values(status=MessageStatus.DIGESTED, digest_id=digest_id)
        .returning(OutboundMessage.id, OutboundMessage.subject, OutboundMessage.link)
        .execution_options(synchronize_session=False)
    ).all()
    items = [Item(subject, link) for _, subject, link in sorted(gathered)]
    count = len(items)
    subject = f"Your Rungs digest: {count} update{'' if count == 1 else 's'}"
    more = count - MOST_ITEMS
    updates = f"{count} update{'' if count == 1 else 's'}"
    if more > 0:
        updates += f"; the {more} oldest are listed in Rungs"
    intro = f"What happened in Rungs since your last digest ({updates}):"
    text, html = render(
        "digest",
        recipient=person,
        subject=subject,
        intro=intro,
        items=items[-MOST_ITEMS:],
        link=absolute_url("notifications.inbox"),
        preferences_link=absolute_url("messages.preferences_page"),
    )
    db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == digest_id)
        .values(
            subject=subject,
            body_text=text,
            body_html=html if channel is Channel.EMAIL else "",
        )
        .execution_options(synchronize_session=False)
    )
    return digest_id


def is_digest(message: OutboundMessage) -> bool:
    return bool(message.dedupe_key and message.dedupe_key.startswith(PREFIX))
