"""1:1s: a manager-report or mentor-mentee pair's meetings, agendas, notes and action items.

Only the two people of a pair see its shared content (app/policy/coaching.py); a private note is
its author's alone. People are never deleted in Rungs, but if an account row ever is, the pair
and everything the other person wrote stay (the person columns fall to NULL) while the deleted
person's own private notes go with them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.user import User


class PairKind(enum.StrEnum):
    MANAGER = "manager"  # lead is the member's manager
    MENTOR = "mentor"  # lead is one of the member's mentors


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    NONE = "none"  # no next meeting is proposed

    @property
    def label(self) -> str:
        return CADENCE_LABELS[self]


CADENCE_LABELS = {
    Cadence.WEEKLY: "Weekly",
    Cadence.FORTNIGHTLY: "Every two weeks",
    Cadence.MONTHLY: "Monthly",
    Cadence.NONE: "No fixed cadence",
}


class OneOnOne(Base):
    """The 1:1 space of one pair: `lead` (the manager or mentor) and `member` (the report or
    mentee). One space per pair; it outlives the relationship, for the two of them."""

    __tablename__ = "one_on_ones"
    __table_args__ = (UniqueConstraint("lead_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[PairKind] = mapped_column(str_enum(PairKind))
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence), default=Cadence.FORTNIGHTLY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id], lazy="raise")
    member: Mapped[User | None] = relationship(foreign_keys=[member_id], lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class Meeting(Base):
    """One meeting of a pair, with its shared notes (both edit them; `revision` turns a stale
    save into a conflict showing both texts)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_one_on_one_id_starts_at", "one_on_one_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    one_on_one_id: Mapped[int] = mapped_column(ForeignKey("one_on_ones.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    shared_notes: Mapped[str] = mapped_column(Text, default="")  # markdown
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    one_on_one: Mapped[OneOnOne] = relationship(lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class AgendaItem(Base):
    """A topic either of the two added to a meeting's shared agenda."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(500))
    is_discussed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    author: Mapped[User | None] = relationship(lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class PrivateNote(Base):
    """A person's own notes on a meeting: nobody else ever sees them."""

    __tablename__ = "private_notes"
    __table_args__ = (UniqueConstraint("meeting_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")  # markdown
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class ActionItem(Base):
    """Something one of the two will do, raised in a meeting; it shows in every later meeting
    of the pair until it is done (carried over by reading, never copied)."""

    __tablename__ = "action_items"
    __table_args__ = (Index("ix_action_items_one_on_one_id_done_at", "one_on_one_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    one_on_one_id: Mapped[int] = mapped_column(ForeignKey("one_on_ones.id", ondelete="CASCADE"))
    raised_in_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_in_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class CoachingLink(Base):
    """What an agenda item is about: one competency, evidence item, goal or delegation board.
    The evidence page reads these back to show the 1:1s an item was discussed in."""

    __tablename__ = "coaching_links"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN evidence_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN goal_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN board_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN competency_key IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), index=True
    )
    board_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation_boards.id", ondelete="CASCADE"), index=True
    )
    framework_id: Mapped[int | None] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE")
    )
    competency_key: Mapped[str | None] = mapped_column(String(80))
