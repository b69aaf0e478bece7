"""What the two write in a meeting: the shared agenda (with links), shared notes, private
notes and action items. A stale save of a note or an agenda item is a conflict showing both
texts; nothing is overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    CoachingLink,
    DelegationBoard,
    Evidence,
    Goal,
    Meeting,
    Notification,
    NotificationKind,
    OneOnOne,
    PrivateNote,
    User,
)
from app.models.base import utcnow
from app.services import audit, notifications
from app.services.oneonones.spaces import FAR, get_meeting, get_pair

ITEM_MAX = 500
NOTES_MAX = 20_000
CHANGED = "{who} saved {what} while you were editing it."


def _other(pair: OneOnOne, actor: User) -> int | None:
    return pair.member_id if actor.id == pair.lead_id else pair.lead_id


def _text(value: str | None, field: str, limit: int, empty: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(empty, field=field)
    if len(text) > limit:
        raise ValidationError(f"Use at most {limit:,} characters.", field=field)
    if "\n" in text or "\r" in text:
        raise ValidationError("Keep it to one line.", field=field)
    return text


# --- agenda -----------------------------------------------------------------------------------


def add_agenda_item(actor: User, meeting_id: int, text: str, link: str | None = None) -> AgendaItem:
    """Add a topic to a meeting's shared agenda, optionally about a competency, evidence item,
    goal or the member's delegation board ("c:key", "e:id", "g:id", "b:id"). The other person
    hears of it once per meeting until they read it."""
    meeting, pair = get_meeting(actor, meeting_id)
    policy.authorize(actor, "oneonone.write", pair)
    body = _text(text, "text", ITEM_MAX, "Write the topic before adding it.")
    target = _link_target(actor, pair, link)
    position = db.session.execute(
        select(func.coalesce(func.max(AgendaItem.position), 0)).where(
            AgendaItem.meeting_id == meeting.id
        )
    ).scalar_one()
    item = AgendaItem(meeting_id=meeting.id, author_id=actor.id, text=body, position=position + 1)
    db.session.add(item)
    db.session.flush()
    if target:
        db.session.add(CoachingLink(agenda_item_id=item.id, **target))
    audit.record(
        actor,
        "agenda_item.added",
        item,
        after={"meeting_id": meeting.id, **{k: v for k, v in (target or {}).items()}},
    )
    _announce_topic(actor, pair, meeting)
    return item


def _announce_topic(actor: User, pair: OneOnOne, meeting: Meeting) -> None:
    other = _other(pair, actor)
    if other is None:
        return
    unread = db.session.execute(
        select(
            exists().where(
                Notification.recipient_id == other,
                Notification.kind == NotificationKind.AGENDA_ITEM_ADDED,
                Notification.meeting_id == meeting.id,
                Notification.actor_id == actor.id,
                Notification.read_at.is_(None),
            )
        )
    ).scalar_one()
    if not unread:
        notifications.notify(
            [other], NotificationKind.AGENDA_ITEM_ADDED, actor_id=actor.id, meeting_id=meeting.id
        )


def _link_target(actor: User, pair: OneOnOne, link: str | None) -> dict | None:
    """The CoachingLink columns for a chosen link, checked against what the actor may open."""
    if not link:
        return None
    kind, _, value = link.partition(":")
    member = db.session.get(User, pair.member_id) if pair.member_id else None
    if member is None:
        raise ValidationError("That link cannot be added any more.", field="link")
    found = _LINKS.get(kind)
    target = found(actor, member, value) if found else None
    if target is None:
        raise ValidationError("Choose something from the list to link.", field="link")
    return target


def _competency(actor: User, member: User, key: str) -> dict | None:
    from app.services.evidence import competency_choices, published_version_of

    if key not in {c.key for c in competency_choices(member.id)}:
        return None
    return {"framework_id": published_version_of(member.id).framework_id, "competency_key": key}


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


def _evidence(actor: User, member: User, value: str) -> dict | None:
    item = db.session.get(Evidence, _number(value) or 0)
    if item is None or item.owner_id != member.id or not policy.can(actor, "evidence.view", item):
        return None
    return {"evidence_id": item.id}


def _goal(actor: User, member: User, value: str) -> dict | None:
    goal = db.session.get(Goal, _number(value) or 0)
    if goal is None or goal.person_id != member.id or not policy.can(actor, "goal.view", goal):
        return None
    return {"goal_id": goal.id}


def _board(actor: User, member: User, value: str) -> dict | None:
    board = db.session.get(DelegationBoard, _number(value) or 0)
    if board is None or board.person_id != member.id:
        return None
    return {"board_id": board.id} if policy.can(actor, "delegation.view", board) else None


_LINKS = {"c": _competency, "e": _evidence, "g": _goal, "b": _board}


def own_agenda_item(actor: User, item_id: int) -> tuple[AgendaItem, Meeting]:
    """An agenda item the actor wrote (only its author edits or removes it); else 404."""
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFoundError("Not found.")
    meeting, _pair = get_meeting(actor, item.meeting_id)
    if item.author_id != actor.id:
        raise NotFoundError("Not found.")
    return item, meeting


def edit_agenda_item(actor: User, item_id: int, text: str, *, expected_revision: int) -> AgendaItem:
    item, _meeting = own_agenda_item(actor, item_id)
    body = _text(text, "text", ITEM_MAX, "Write the topic, or remove it instead.")
    if item.revision != expected_revision:
        raise ConflictError(
            "You changed this topic in another window or tab.",
            current={"text": item.text, "revision": item.revision},
        )
    item.text = body
    db.session.flush()
    audit.record(actor, "agenda_item.edited", item, after={"revision": item.revision})
    return item


def remove_agenda_item(actor: User, item_id: int) -> Meeting:
    item, meeting = own_agenda_item(actor, item_id)
    audit.record(actor, "agenda_item.removed", item, before={"meeting_id": meeting.id})
    db.session.delete(item)
    db.session.flush()
    return meeting


def mark_discussed(actor: User, item_id: int, discussed: bool) -> AgendaItem:
    """Either of the two ticks a topic as discussed (or not)."""
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        raise NotFoundError("Not found.")
    _meeting, pair = get_meeting(actor, item.meeting_id)
    policy.authorize(actor, "oneonone.write", pair)
    if item.is_discussed != discussed:
        item.is_discussed = discussed
        db.session.flush()
        audit.record(actor, "agenda_item.discussed", item, after={"is_discussed": discussed})
    return item


# --- notes ------------------------------------------------------------------------------------


def save_shared_notes(
    actor: User, meeting_id: int, body: str, *, expected_revision: int
) -> Meeting:
    """Both edit a meeting's shared notes; a save over a newer one shows both texts."""
    meeting, pair = get_meeting(actor, meeting_id)
    policy.authorize(actor, "oneonone.write", pair)
    text = (body or "").strip()
    if len(text) > NOTES_MAX:
        raise ValidationError(f"Use at most {NOTES_MAX:,} characters.", field="body")
    if meeting.revision != expected_revision:
        raise ConflictError(
            "The shared notes were changed since you opened them.",
            current={"body": meeting.shared_notes, "revision": meeting.revision},
        )
    meeting.shared_notes = text
    meeting.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "meeting.notes_edited", meeting, after={"revision": meeting.revision})
    return meeting


def save_private_note(
    actor: User, meeting_id: int, body: str, *, expected_revision: int
) -> PrivateNote:
    """The actor's own notes on a meeting (revision 0: they had none when the form was shown)."""
    meeting, pair = get_meeting(actor, meeting_id)
    policy.authorize(actor, "oneonone.write", pair)
    text = (body or "").strip()
    if len(text) > NOTES_MAX:
        raise ValidationError(f"Use at most {NOTES_MAX:,} characters.", field="body")
    note = _own_note(actor, meeting.id)
    if (note.revision if note else 0) != expected_revision:
        raise _stale_private_note(note)
    if note is None:
        note = PrivateNote(meeting_id=meeting.id, author_id=actor.id, body=text)
        try:
            with db.session.begin_nested():  # flushes what is pending first, outside it
                db.session.add(note)
                db.session.flush()
        except IntegrityError:  # a first save from another tab at the same moment
            raise _stale_private_note(_own_note(actor, meeting.id)) from None
    else:
        note.body = text
        note.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "private_note.saved", note, after={"revision": note.revision})
    return note


def _own_note(actor: User, meeting_id: int) -> PrivateNote | None:
    return db.session.execute(
        select(PrivateNote).where(
            PrivateNote.meeting_id == meeting_id, policy.where("private_note.view", actor)
        )
    ).scalar_one_or_none()


def _stale_private_note(note: PrivateNote | None) -> ConflictError:
    return ConflictError(
        "Your private notes were changed in another window or tab.",
        current={"body": note.body if note else "", "revision": note.revision if note else 0},
    )


# --- action items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInput:
    text: str
    owner_id: int | None
    due_on: date | None


def add_action_item(actor: User, meeting_id: int, data: ActionInput) -> ActionItem:
    """An action item for one of the two, raised in this meeting; the owner hears of it when
    the other person assigns it."""
    meeting, pair = get_meeting(actor, meeting_id)
    policy.authorize(actor, "oneonone.write", pair)
    text = _text(data.text, "text", ITEM_MAX, "Write what will be done.")
    if data.due_on is not None and abs(data.due_on - utcnow().date()) > FAR:
        raise ValidationError("Choose a due date within two years of today.", field="due_on")
    if data.owner_id is None or data.owner_id not in (pair.lead_id, pair.member_id):
        raise ValidationError("Choose which of you two will do it.", field="owner_id")
    action = ActionItem(
        one_on_one_id=pair.id,
        raised_in_id=meeting.id,
        owner_id=data.owner_id,
        text=text,
        due_on=data.due_on,
        created_by_id=actor.id,
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        actor,
        "action_item.added",
        action,
        after={"owner_id": data.owner_id, "due_on": data.due_on and data.due_on.isoformat()},
    )
    if data.owner_id != actor.id:
        notifications.notify(
            [data.owner_id],
            NotificationKind.ACTION_ITEM_ASSIGNED,
            actor_id=actor.id,
            meeting_id=meeting.id,
        )
    return action


def complete_action_item(
    actor: User, action_id: int, *, done: bool = True, in_meeting_id: int | None = None
) -> ActionItem:
    """Either of the two marks an action item done (or open again)."""
    action = db.session.get(ActionItem, action_id)
    if action is None:
        raise NotFoundError("Not found.")
    pair = get_pair(actor, action.one_on_one_id)
    policy.authorize(actor, "oneonone.write", pair)
    if done == (action.done_at is not None):
        return action
    if done:
        action.done_at = utcnow()
        action.done_in_id = _meeting_of_pair(pair, in_meeting_id)
    else:
        action.done_at = action.done_in_id = None
    db.session.flush()
    audit.record(actor, "action_item.done" if done else "action_item.reopened", action)
    return action


def _meeting_of_pair(pair: OneOnOne, meeting_id: int | None) -> int | None:
    if meeting_id is None:
        return None
    meeting = db.session.get(Meeting, meeting_id)
    return meeting.id if meeting is not None and meeting.one_on_one_id == pair.id else None
