"""Reaching people: phase deadlines, delivery preferences and the outbox of messages (email and
Slack) that background jobs send.

Nothing here is a copy of what is due: the to-do list is derived from the state of cycles, cases,
feedback asks and 1:1 action items (app/services/todo/). The outbox only remembers what was sent,
and its `dedupe_key` is how "at most once" is enforced: by a unique key in the database, never by
a check in Python, so two workers or two cron runs at once still send a reminder once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.promotion import CyclePhase
from app.models.user import User


class PhaseDeadline(Base):
    """When a phase of a cycle is due. Changed with a reason, which the decision log keeps."""

    __tablename__ = "phase_deadlines"
    __table_args__ = (UniqueConstraint("cycle_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("promotion_cycles.id", ondelete="CASCADE"))
    phase: Mapped[CyclePhase] = mapped_column(str_enum(CyclePhase, 30))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class Channel(enum.StrEnum):
    EMAIL = "email"
    SLACK = "slack"

    @property
    def label(self) -> str:
        return {"email": "Email", "slack": "Slack"}[self.value]


class DeliveryMode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"

    @property
    def label(self) -> str:
        return {"immediate": "Immediately", "digest": "Daily digest", "off": "Off"}[self.value]


class MessageCategory(enum.StrEnum):
    """The kinds of message a person chooses how to receive. TRANSACTIONAL (sign-in links,
    password resets) cannot be turned off or delayed."""

    TRANSACTIONAL = "transactional"
    REMINDERS = "reminders"  # a task due in 3 days, tomorrow, overdue; nudges
    CYCLES = "cycles"  # cases opened, phases moved, sessions, decisions
    EVIDENCE = "evidence"  # shared items, comments, kudos, corroboration
    COACHING = "coaching"  # 1:1s, goals, delegation boards
    FEEDBACK = "feedback"  # feedback requests and answers, thanks, lessons

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]

    @property
    def is_optional(self) -> bool:
        return self is not MessageCategory.TRANSACTIONAL


CATEGORY_LABELS = {
    MessageCategory.TRANSACTIONAL: "Sign-in links and password resets",
    MessageCategory.REMINDERS: "Reminders of what is due",
    MessageCategory.CYCLES: "Promotion cycles",
    MessageCategory.EVIDENCE: "Evidence, comments and kudos",
    MessageCategory.COACHING: "1:1s, goals and delegation boards",
    MessageCategory.FEEDBACK: "Feedback, thanks and lessons",
}


class DeliveryPreference(Base):
    """How one person wants one category on one channel; without a row, the default applies
    (app/services/messages/preferences.py)."""

    __tablename__ = "delivery_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[MessageCategory] = mapped_column(
        str_enum(MessageCategory, 20), primary_key=True
    )
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 10), primary_key=True)
    mode: Mapped[DeliveryMode] = mapped_column(str_enum(DeliveryMode, 20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MessageStatus(enum.StrEnum):
    HELD = "held"  # waiting for the recipient's daily digest
    QUEUED = "queued"  # to be sent at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; shown to the head of product
    DIGESTED = "digested"  # sent as part of the digest message digest_id
    CANCELLED = "cancelled"  # no longer wanted (preference turned off, channel unlinked)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OutboundMessage(Base):
    """One message to one person on one channel, rendered when it was queued."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbound_messages_recipient_status", "recipient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 10))
    category: Mapped[MessageCategory] = mapped_column(str_enum(MessageCategory, 20))
    # "reminder:<task key>:<threshold>:<due>:<channel>",
    # "nudge:person:<id>:<local date>:<channel>",
    # "digest:<person>:<local date>:<channel>", "notification:<id>:<channel>": unique, so that a
    # second insert of the same message fails in the database whoever tries it.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The address it went to (an email address, a Slack user id), kept for the record.
    address: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")  # the one thing to do
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, 20), default=MessageStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[User] = relationship(lazy="raise")
