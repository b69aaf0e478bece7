"""Putting messages into the outbox: rendered once, per channel as the recipient prefers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import (
    Channel,
    DeliveryMode,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    User,
)
from app.models.base import utcnow
from app.services.messages import preferences, wake


def email_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def deliver(
    recipient: User,
    category: MessageCategory,
    *,
    subject: str,
    template: str,
    context: dict[str, Any],
    link: str,
    dedupe_key: str | None = None,
    notification_id: int | None = None,
) -> list[int]:
    """Queue (or hold for the digest) one message to one person on each channel they want it
    on; returns the ids of the rows inserted (none for a message already in the outbox under
    the same `dedupe_key`, or not wanted). The caller commits."""
    rows = []
    text, html = render(template, recipient=recipient, link=link, **context)
    for channel in _channels(recipient):
        mode = preferences.mode_for(recipient.id, category, channel)
        if mode is DeliveryMode.OFF:
            continue
        rows.append(
            {
                "recipient_id": recipient.id,
                "channel": channel,
                "category": category,
                "dedupe_key": f"{dedupe_key}:{channel.value}" if dedupe_key else None,
                "address": recipient.email if channel is Channel.EMAIL else recipient.slack_user_id,
                "subject": subject[:300],
                "body_text": text,
                "body_html": html if channel is Channel.EMAIL else "",
                "link": link[:500],
                "notification_id": notification_id,
                "status": (
                    MessageStatus.HELD if mode is DeliveryMode.DIGEST else MessageStatus.QUEUED
                ),
            }
        )
    return insert_new(rows)


def _channels(recipient: User) -> list[Channel]:
    channels = [Channel.EMAIL] if email_enabled() else []
    if recipient.slack_user_id:
        channels.append(Channel.SLACK)
    return channels


def insert_new(rows: list[dict[str, Any]]) -> list[int]:
    """Insert outbox rows, skipping any whose dedupe_key is taken (also by a concurrent
    transaction: the database decides); returns the ids inserted."""
    if not rows:
        return []
    moment = utcnow()
    for row in rows:
        row.setdefault("created_at", moment)
        row.setdefault("next_attempt_at", moment)
        row.setdefault("attempts", 0)
        row.setdefault("last_error", "")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboundMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboundMessage.id)
    )
    inserted = list(db.session.execute(statement).scalars())
    if inserted and any(row["status"] is MessageStatus.QUEUED for row in rows):
        wake.mark()  # sent by a job once this transaction commits, never in the request
    return inserted


def render(template: str, **context: Any) -> tuple[str, str]:
    """The plain-text and HTML bodies of templates/messages/<template>.txt and .html."""
    text = render_template(f"messages/{template}.txt", **context)
    html = render_template(f"messages/{template}.html", **context)
    return text, html


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link into Rungs that works from an email: RUNGS_BASE_URL, also outside a request."""
    base = urlsplit(current_app.config["RUNGS_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def queued_count() -> int:
    return db.session.execute(
        select(db.func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.status == MessageStatus.QUEUED)
    ).scalar_one()
