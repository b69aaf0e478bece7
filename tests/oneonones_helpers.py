"""Building 1:1s for tests through the services, committed in a short app context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import User
from app.models.base import utcnow
from app.services.oneonones import content, spaces

SHARED = "Shared-notes-marker"
LEAD_PRIVATE = "Lead-private-marker"
MEMBER_PRIVATE = "Member-private-marker"
TOPIC = "Agenda-topic-marker"
ACTION = "Action-item-marker"


@dataclass(frozen=True)
class Built:
    pair_id: int
    meeting_id: int
    topic_id: int
    action_id: int


def user(person) -> User:
    return db.session.get(User, person.id)


def at(days: int, hour: int = 9) -> datetime:
    base = utcnow().replace(hour=hour, minute=0, second=0, microsecond=0)
    return (base + timedelta(days=days)).astimezone(UTC)


def build(app, lead, member, *, days: int = 1) -> Built:
    """A pair with one meeting holding a topic, shared notes, both private notes, an action."""
    with app.app_context():
        pair = spaces.open_space(user(lead), member.id)
        meeting = spaces.add_meeting(user(lead), pair, at(days), 30)
        topic = content.add_agenda_item(user(member), meeting.id, TOPIC)
        content.save_shared_notes(user(lead), meeting.id, SHARED, expected_revision=1)
        content.save_private_note(user(lead), meeting.id, LEAD_PRIVATE, expected_revision=0)
        content.save_private_note(user(member), meeting.id, MEMBER_PRIVATE, expected_revision=0)
        action = content.add_action_item(
            user(lead), meeting.id, content.ActionInput(ACTION, member.id, None)
        )
        db.session.commit()
        return Built(pair.id, meeting.id, topic.id, action.id)
