"""Feedback a PM asks colleagues for, and public thanks anyone gives anyone."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.user import User


class FeedbackRequest(Base):
    """A PM's request for feedback on chosen competencies (stable keys of one framework), sent
    to named colleagues, each of whom answers on their own (FeedbackAsk)."""

    __tablename__ = "feedback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("frameworks.id", ondelete="SET NULL")
    )
    competency_keys: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")  # context for the colleagues
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requester: Mapped[User] = relationship(lazy="raise")


class AskStatus(enum.StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    DECLINED = "declined"


class FeedbackAsk(Base):
    """One colleague asked in a request, and their answer in situation-behaviour-impact form.
    The answer goes to the requester; to the requester's manager only once they share it."""

    __tablename__ = "feedback_asks"
    __table_args__ = (UniqueConstraint("request_id", "giver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_requests.id", ondelete="CASCADE"), index=True
    )
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[AskStatus] = mapped_column(str_enum(AskStatus), default=AskStatus.PENDING)
    situation: Mapped[str] = mapped_column(Text, default="")
    behaviour: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shared_with_manager_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # whom it is shared with: the manager at the time of sharing, not whoever manages later
    shared_with_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)

    request: Mapped[FeedbackRequest] = relationship(lazy="raise")
    giver: Mapped[User] = relationship(foreign_keys=[giver_id], lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class Thanks(Base):
    """Public appreciation: someone thanks someone for an outcome, optionally an evidence item
    (shown as a link only to those who may open it)."""

    __tablename__ = "thanks"
    __table_args__ = (Index("ix_thanks_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(String(500))
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    giver: Mapped[User] = relationship(foreign_keys=[giver_id], lazy="raise")
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id], lazy="raise")
