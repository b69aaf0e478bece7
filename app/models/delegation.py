"""Delegation boards: each report's decision rights agreed person by person (Delegation Poker).

A board's rows start as the decision rights of the person's level (copied, so a later framework
version does not rewrite history); either of the two adds rows for their own recurring
decisions. In a round each picks a level 1-7 per row, unseen by the other until both are
revealed together; then they agree a level per row with a note. Rounds are kept as history.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.framework import DaciRole
from app.models.user import User


class DelegationBoard(Base):
    """One board per person, opened by their manager."""

    __tablename__ = "delegation_boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="raise")

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class DelegationRow(Base):
    """A decision area on a board: from the level's decision rights (`decision_right_id`, with
    its DACI role and expected level) or added by one of the two (no expectation)."""

    __tablename__ = "delegation_rows"
    __table_args__ = (
        CheckConstraint("expected IS NULL OR expected BETWEEN 1 AND 7", name="expected_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("delegation_boards.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str] = mapped_column(Text)
    role: Mapped[DaciRole | None] = mapped_column(str_enum(DaciRole))
    expected: Mapped[int | None] = mapped_column(Integer)
    decision_right_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision_rights.id", ondelete="SET NULL")
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class DelegationRound(Base):
    """One round of Delegation Poker on a board: open (picking), revealed, then closed once
    every row has an agreed level."""

    __tablename__ = "delegation_rounds"
    __table_args__ = (UniqueConstraint("board_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("delegation_boards.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class DelegationPick(Base):
    """One person's secret pick for one row in one round."""

    __tablename__ = "delegation_picks"
    __table_args__ = (
        UniqueConstraint("round_id", "row_id", "picker_id"),
        CheckConstraint("level BETWEEN 1 AND 7", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("delegation_rounds.id", ondelete="CASCADE"), index=True
    )
    row_id: Mapped[int] = mapped_column(ForeignKey("delegation_rows.id", ondelete="CASCADE"))
    picker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    level: Mapped[int]
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}


class DelegationAgreement(Base):
    """The level the two agreed for a row in a round, with their note."""

    __tablename__ = "delegation_agreements"
    __table_args__ = (
        UniqueConstraint("round_id", "row_id"),
        CheckConstraint("level BETWEEN 1 AND 7", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("delegation_rounds.id", ondelete="CASCADE"), index=True
    )
    row_id: Mapped[int] = mapped_column(ForeignKey("delegation_rows.id", ondelete="CASCADE"))
    level: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}
