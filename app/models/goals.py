"""Growth plans: goals a PM and their manager agree per competency toward a level."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.framework import Level
from app.models.user import User


class GoalStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"  # with a reason

    @property
    def label(self) -> str:
        return GOAL_STATUS_LABELS[self]


GOAL_STATUS_LABELS = {
    GoalStatus.NOT_STARTED: "Not started",
    GoalStatus.IN_PROGRESS: "In progress",
    GoalStatus.DONE: "Done",
    GoalStatus.DROPPED: "Dropped",
}

goal_evidence = Table(
    "goal_evidence",
    Base.metadata,
    Column("goal_id", Integer, ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "evidence_id",
        Integer,
        ForeignKey("evidence.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("linked_at", UTCDateTime(), nullable=False, default=utcnow),
)


class Goal(Base):
    """One development goal: on a competency (by stable key, like evidence tags), toward a level
    (None: the person's next level), saying what will change and how the outcome is measured."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(80))
    target_level_id: Mapped[int | None] = mapped_column(
        ForeignKey("levels.id", ondelete="SET NULL")
    )
    change: Mapped[str] = mapped_column(Text)  # what will be different
    measure: Mapped[str] = mapped_column(Text)  # how the outcome will be measured
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(str_enum(GoalStatus), default=GoalStatus.NOT_STARTED)
    dropped_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")  # what happened, when done
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The other of the two (person or manager) agreeing makes the goal part of the plan.
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # done or dropped
    revision: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="raise")
    target_level: Mapped[Level | None] = relationship(lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}
