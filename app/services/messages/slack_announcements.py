"""Announcements in the Slack webhook's channel: what everyone may see (a cycle's phase opened,
and when it is due), never anything about one person.

The announcement goes through the outbox like any message (retried with backoff, shown when it
fails, at most once by its dedupe key): a Slack row whose address is WEBHOOK_ADDRESS, which
`slack.send` posts to the webhook instead of a person's DMs. Its recipient is whoever opened
the phase, only because every outbox row has one.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core import events
from app.extensions import db
from app.models import (
    Channel,
    CyclePhase,
    MessageCategory,
    MessageStatus,
    PhaseDeadline,
    PromotionCycle,
    User,
)
from app.services.messages import slack
from app.services.messages.outbox import absolute_url, insert_new


def subscribe() -> None:
    """Connect the receiver (create_app calls it)."""
    events.phase_opened.connect(on_phase_opened)


def on_phase_opened(cycle: PromotionCycle, *, actor: User, phase: CyclePhase, **_: object):
    announce_phase(cycle, phase, actor)


def announce_phase(cycle: PromotionCycle, phase: CyclePhase, actor: User) -> list[int]:
    """Queue "<cycle>: <phase> is open, due <date>" for the webhook's channel, when a webhook
    is set (once per opening of that phase). The caller commits."""
    if not slack.stored().has_webhook:
        return []
    db.session.flush()  # phase_changed_at and the due date, as stored by the caller
    due = db.session.scalar(
        select(PhaseDeadline.due_at).where(
            PhaseDeadline.cycle_id == cycle.id, PhaseDeadline.phase == phase
        )
    )
    when = f"Due {due:%A %-d %B %Y, %H:%M} UTC." if due else "No due date is set."
    opened = f"{cycle.phase_changed_at:%Y%m%dT%H%M%S}"
    return insert_new(
        [
            {
                "recipient_id": actor.id,
                "channel": Channel.SLACK,
                "category": MessageCategory.CYCLES,
                "dedupe_key": f"announce:cycle:{cycle.id}:{phase.value}:{opened}",
                "address": slack.WEBHOOK_ADDRESS,
                "subject": f"{cycle.name}: {phase.label.lower()} is open"[:300],
                "body_text": when,
                "body_html": "",
                "link": absolute_url("cycles.show", cycle_id=cycle.id)[:500],
                "status": MessageStatus.QUEUED,
            }
        ]
    )
