"""Notifications become messages: each notification not yet dispatched is told to its recipient
by email and Slack, as they prefer (at once, in the daily digest, or not).

What a message says is what the inbox shows that person for that notification, in the same
words (the inbox's own macro, templates/notifications/_entry.html, filled by
`notifications.entries_for`, which asks the policy what the recipient may still see): an item
they can no longer see is "an item you can no longer see" in the email too. Never more.

Two passes at once dispatch each notification once: a pass claims its notifications with one
UPDATE … WHERE dispatched_at IS NULL RETURNING id, in the transaction that queues the messages,
and every message's dedupe key is "notification:<id>".
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, get_template_attribute
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import MessageCategory, Notification, NotificationKind, User
from app.models.base import utcnow
from app.services import notifications
from app.services.messages.outbox import absolute_url, deliver

BATCH = 500
SUBJECT_LENGTH = 120

K = NotificationKind
CATEGORIES: dict[NotificationKind, MessageCategory] = {
    **dict.fromkeys(
        (
            K.EVIDENCE_SHARED,
            K.COMMENT,
            K.KUDOS,
            K.CORROBORATION_REQUESTED,
            K.CORROBORATION_ANSWERED,
        ),
        MessageCategory.EVIDENCE,
    ),
    **dict.fromkeys(
        (
            K.CASE_OPENED,
            K.CASE_PHASE,
            K.SESSION_ADDED,
            K.SESSION_LOCKED,
            K.CASE_DECIDED,
            K.CASE_PUBLISHED,
            K.SELF_ASSESSMENT_SUBMITTED,
        ),
        MessageCategory.CYCLES,
    ),
    **dict.fromkeys(
        (
            K.AGENDA_ITEM_ADDED,
            K.ACTION_ITEM_ASSIGNED,
            K.GOAL_PROPOSED,
            K.GOAL_AGREED,
            K.DELEGATION_ROUND_OPENED,
            K.DELEGATION_REVEALED,
            K.DELEGATION_ROUND_CLOSED,
        ),
        MessageCategory.COACHING,
    ),
    **dict.fromkeys(
        (K.FEEDBACK_REQUESTED, K.FEEDBACK_ANSWERED, K.FEEDBACK_SHARED, K.THANKS, K.LESSON_SHARED),
        MessageCategory.FEEDBACK,
    ),
}


def category_of(kind: NotificationKind) -> MessageCategory:
    return CATEGORIES.get(kind, MessageCategory.EVIDENCE)


def dispatch_notifications(now: datetime | None = None) -> int:
    """Turn every notification not yet dispatched into messages; how many were dispatched.
    Commits after each batch."""
    total = 0
    while True:
        done = _dispatch_batch(now or utcnow())
        if done is None:
            return total
        total += done


def _dispatch_batch(now: datetime) -> int | None:
    waiting = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.dispatched_at.is_(None))
            .order_by(Notification.id)
            .limit(BATCH)
        )
    )
    if not waiting:
        db.session.commit()
        return None
    claimed = list(
        db.session.scalars(
            update(Notification)
            .where(Notification.id.in_(waiting), Notification.dispatched_at.is_(None))
            .values(dispatched_at=now)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.id.in_(claimed))
        .options(joinedload(Notification.actor))
        .order_by(Notification.id)
    ).all()
    by_recipient: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        if row.read_at is None:  # already read in Rungs: no need to tell them again
            by_recipient[row.recipient_id].append(row)
    recipients = db.session.scalars(select(User).where(User.id.in_(by_recipient))).all()
    for recipient in recipients:
        if recipient.is_active:
            tell(recipient, by_recipient[recipient.id])
    db.session.commit()
    return len(claimed)


def tell(recipient: User, shown: list[Notification]) -> None:
    """Queue (or hold) a message per notification, in the inbox's words for this recipient."""
    entries = notifications.entries_for(recipient, shown)
    kinds = {row.id: row.kind for row in shown}
    for entry in entries:
        html, text, link = inbox_words(entry)
        deliver(
            recipient,
            category_of(kinds[entry.id]),
            subject=_subject(text),
            template="notice",
            context={
                "subject": _subject(text),
                "text": text,
                "html": html,
                "preferences_link": preferences_link(),
            },
            link=link,
            dedupe_key=f"notification:{entry.id}",
            notification_id=entry.id,
        )


_HREF = re.compile(r'href="(/[^"]*)"')


def inbox_words(entry: notifications.Entry) -> tuple[Markup, str, str]:
    """What the inbox says of `entry`: as HTML with absolute links, as plain text, and the link
    it leads to (the inbox itself when it leads nowhere the reader may go)."""
    base = current_app.config["RUNGS_BASE_URL"]
    parts = urlsplit(base)
    origin = f"{parts.scheme or 'https'}://{parts.netloc}"
    with current_app.test_request_context("/", base_url=base):
        macro = get_template_attribute("notifications/_entry.html", "entry_text")
        html = str(macro(entry))
    html = _HREF.sub(lambda found: f'href="{origin}{found.group(1)}"', " ".join(html.split()))
    # The macro's own output (autoescaped), with only its links made absolute.
    markup = Markup(html)  # noqa: S704 - rendered by the autoescaping template just above
    found = re.search(r'href="([^"]+)"', html)
    link = found.group(1).replace("&amp;", "&") if found else absolute_url("notifications.inbox")
    return markup, markup.striptags(), link


def _subject(text: str) -> str:
    if len(text) <= SUBJECT_LENGTH:
        return text
    return text[: SUBJECT_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def preferences_link() -> str:
    return absolute_url("messages.preferences_page")
