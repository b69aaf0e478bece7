"""Promotion cycles: cases, assessments, calibration sessions, votes and the decision log.

A cycle moves through phases (`CyclePhase`); what may be done in each is decided by
app/policy/ (its phase table, phases.py, among the rules). Ratings are kept per competency by the
competency's stable key, from the framework version of the proposed level.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.stored_markdown import StoredMarkdown

if TYPE_CHECKING:
    from app.models.evidence import Evidence
    from app.models.framework import FrameworkVersion, Level
    from app.models.user import User


class CyclePhase(enum.StrEnum):
    NOMINATIONS = "nominations"
    SELF_ASSESSMENT = "self_assessment"
    MANAGER_ASSESSMENT = "manager_assessment"
    CALIBRATION = "calibration"
    DECISIONS = "decisions"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return PHASE_LABELS[self]

    @property
    def position(self) -> int:
        return PHASE_ORDER.index(self)

    @property
    def next(self) -> CyclePhase | None:
        return PHASE_ORDER[self.position + 1] if self.position + 1 < len(PHASE_ORDER) else None

    @property
    def previous(self) -> CyclePhase | None:
        return PHASE_ORDER[self.position - 1] if self.position > 0 else None


PHASE_ORDER = list(CyclePhase)
PHASE_LABELS = {
    CyclePhase.NOMINATIONS: "Nominations",
    CyclePhase.SELF_ASSESSMENT: "Self-assessment",
    CyclePhase.MANAGER_ASSESSMENT: "Manager assessment",
    CyclePhase.CALIBRATION: "Calibration",
    CyclePhase.DECISIONS: "Decisions",
    CyclePhase.PUBLISHED: "Published",
}


class Rating(enum.StrEnum):
    """Relative to the expectation of the proposed level."""

    BELOW = "below"
    DEVELOPING = "developing"
    MEETS = "meets"
    EXCEEDS = "exceeds"

    @property
    def label(self) -> str:
        return RATING_LABELS[self]

    @property
    def score(self) -> int:
        """1 (below) to 4 (exceeds): for spreads and averages."""
        return RATING_ORDER.index(self) + 1


RATING_ORDER = list(Rating)
RATING_LABELS = {
    Rating.BELOW: "Below",
    Rating.DEVELOPING: "Developing",
    Rating.MEETS: "Meets",
    Rating.EXCEEDS: "Exceeds",
}


class Outcome(enum.StrEnum):
    PROMOTE = "promote"
    NOT_YET = "not_yet"
    DEFER = "defer"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {Outcome.PROMOTE: "Promote", Outcome.NOT_YET: "Not yet", Outcome.DEFER: "Defer"}


class RatingSource(enum.StrEnum):
    SELF = "self"
    MANAGER = "manager"
    AGREED = "agreed"

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]


SOURCE_LABELS = {
    RatingSource.SELF: "Self",
    RatingSource.MANAGER: "Manager",
    RatingSource.AGREED: "Agreed",
}

promotion_cycle_versions = Table(
    "promotion_cycle_versions",
    Base.metadata,
    Column(
        "cycle_id", Integer, ForeignKey("promotion_cycles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "version_id",
        Integer,
        ForeignKey("framework_versions.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
)

calibration_participants = Table(
    "calibration_participants",
    Base.metadata,
    Column(
        "session_id",
        Integer,
        ForeignKey("calibration_sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

case_rating_evidence = Table(
    "case_rating_evidence",
    Base.metadata,
    Column(
        "rating_id", Integer, ForeignKey("case_ratings.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("evidence_id", Integer, ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
)


class PromotionCycle(Base):
    """E.g. "H1 2027": pinned to the framework versions that were published when it opened."""

    __tablename__ = "promotion_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    phase: Mapped[CyclePhase] = mapped_column(
        str_enum(CyclePhase, 30), default=CyclePhase.NOMINATIONS
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    phase_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The committee view of a packet shows the candidate's growth-plan goals and outcomes.
    packets_show_goals: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    versions: Mapped[list[FrameworkVersion]] = relationship(
        secondary=promotion_cycle_versions, lazy="raise", order_by="FrameworkVersion.id"
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}

    @property
    def is_published(self) -> bool:
        return self.phase is CyclePhase.PUBLISHED


class CalibrationSession(Base):
    """A meeting of managers calibrating some of a cycle's cases, run by a facilitator."""

    __tablename__ = "calibration_sessions"
    __table_args__ = (UniqueConstraint("cycle_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("promotion_cycles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    votes_revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the meeting takes place; its participants' votes are due before it.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=1)

    cycle: Mapped[PromotionCycle] = relationship(lazy="raise")
    facilitator: Mapped[User] = relationship(foreign_keys=[facilitator_id], lazy="raise")
    participants: Mapped[list[User]] = relationship(
        secondary=calibration_participants, lazy="raise", order_by="User.name"
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def votes_revealed(self) -> bool:
        return self.votes_revealed_at is not None


class PromotionCase(StoredMarkdown, Base):
    """One person proposed for a higher level in one cycle."""

    __tablename__ = "promotion_cases"
    __table_args__ = (
        # At most one open (not withdrawn) case per person per cycle, enforced by the database.
        Index(
            "uq_promotion_cases_one_open",
            "cycle_id",
            "candidate_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("promotion_cycles.id", ondelete="CASCADE"), index=True
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    current_level_id: Mapped[int] = mapped_column(ForeignKey("levels.id", ondelete="RESTRICT"))
    proposed_level_id: Mapped[int] = mapped_column(
        ForeignKey("levels.id", ondelete="RESTRICT"), index=True
    )
    # Who writes the manager assessment: the candidate's manager when the case was opened.
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    statement: Mapped[str] = mapped_column(Text, default="")  # the manager's, markdown
    self_statement: Mapped[str] = mapped_column(Text, default="")  # the candidate's, markdown
    self_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    manager_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="SET NULL"), index=True
    )
    # The calibration session's outcome, set by its facilitator.
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, 20))
    outcome_rationale: Mapped[str] = mapped_column(Text, default="")
    # The head of product's decision, from the outcome; shown to the candidate once published.
    decision: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, 20))
    decision_rationale: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    # The markdown fields above as HTML (StoredMarkdown).
    statement_html: Mapped[str | None] = mapped_column(Text)
    self_statement_html: Mapped[str | None] = mapped_column(Text)
    outcome_rationale_html: Mapped[str | None] = mapped_column(Text)
    decision_rationale_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    cycle: Mapped[PromotionCycle] = relationship(lazy="raise")
    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id], lazy="raise")
    manager: Mapped[User] = relationship(foreign_keys=[manager_id], lazy="raise")
    current_level: Mapped[Level] = relationship(foreign_keys=[current_level_id], lazy="raise")
    proposed_level: Mapped[Level] = relationship(foreign_keys=[proposed_level_id], lazy="raise")
    session: Mapped[CalibrationSession | None] = relationship(lazy="raise")
    ratings: Mapped[list[CaseRating]] = relationship(
        back_populates="case",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="CaseRating.id",
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}
    markdown_fields: ClassVar[tuple[str, ...]] = (
        "statement",
        "self_statement",
        "outcome_rationale",
        "decision_rationale",
    )

    @property
    def is_open(self) -> bool:
        return self.withdrawn_at is None


class CaseRating(StoredMarkdown, Base):
    """A rating of one competency of a case: the candidate's, the manager's or the agreed one."""

    __tablename__ = "case_ratings"
    __table_args__ = (UniqueConstraint("case_id", "competency_key", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("promotion_cases.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(80))
    source: Mapped[RatingSource] = mapped_column(str_enum(RatingSource, 20))
    rating: Mapped[Rating | None] = mapped_column(str_enum(Rating, 20))  # None while a draft
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Agreed ratings only: why calibration departed from the manager's rating.
    reason: Mapped[str] = mapped_column(Text, default="")
    rationale_html: Mapped[str | None] = mapped_column(Text)  # StoredMarkdown
    reason_html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=1)

    case: Mapped[PromotionCase] = relationship(back_populates="ratings", lazy="raise")
    evidence: Mapped[list[Evidence]] = relationship(
        secondary=case_rating_evidence, lazy="raise", order_by="Evidence.occurred_on.desc()"
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}
    markdown_fields: ClassVar[tuple[str, ...]] = ("rationale", "reason")


class Vote(Base):
    """A participant's blind pre-vote on one competency of one case."""

    __tablename__ = "calibration_votes"
    __table_args__ = (UniqueConstraint("case_id", "voter_id", "competency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("promotion_cases.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    competency_key: Mapped[str] = mapped_column(String(80))
    rating: Mapped[Rating] = mapped_column(str_enum(Rating, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    voter: Mapped[User] = relationship(lazy="raise")


class DecisionLogEntry(Base):
    """Append-only: every vote, rating change, outcome, lock, phase move and decision, with why."""

    __tablename__ = "decision_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("promotion_cycles.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="SET NULL"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotion_cases.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    competency_key: Mapped[str | None] = mapped_column(String(80))
    from_value: Mapped[str] = mapped_column(String(200), default="")
    to_value: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(lazy="raise")


class DecisionLogIsAppendOnlyError(RuntimeError):
    pass


@event.listens_for(DecisionLogEntry, "before_update")
@event.listens_for(DecisionLogEntry, "before_delete")
def _refuse_change(_mapper, _connection, target: DecisionLogEntry) -> None:
    raise DecisionLogIsAppendOnlyError(f"decision log entry {target.id} cannot be changed")


class LevelPlacement(Base):
    """A person's level over time: one row per level they held, the current one open-ended."""

    __tablename__ = "level_placements"
    __table_args__ = (Index("ix_level_placements_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "placed" (people admin), "framework" (a new version moved people along), "promotion"
    source: Mapped[str] = mapped_column(String(30))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotion_cases.id", ondelete="SET NULL")
    )

    level: Mapped[Level] = relationship(lazy="raise")
