"""Evidence: what a PM did and what it changed, tagged to competencies, with its conversation."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.stored_markdown import StoredMarkdown

if TYPE_CHECKING:
    from app.models.user import User


class EvidenceKind(enum.StrEnum):
    LAUNCH = "launch"
    EXPERIMENT = "experiment"
    METRIC = "metric"
    DISCOVERY = "discovery"
    STRATEGY = "strategy"
    STAKEHOLDER = "stakeholder"
    COACHING = "coaching"
    LEARNING = "learning_from_failure"
    OTHER = "other"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    EvidenceKind.LAUNCH: "Launch",
    EvidenceKind.EXPERIMENT: "Experiment",
    EvidenceKind.METRIC: "Metric moved",
    EvidenceKind.DISCOVERY: "Discovery",
    EvidenceKind.STRATEGY: "Strategy",
    EvidenceKind.STAKEHOLDER: "Stakeholder",
    EvidenceKind.COACHING: "Coaching given",
    EvidenceKind.LEARNING: "Learning from failure",
    EvidenceKind.OTHER: "Other",
}


class Visibility(enum.StrEnum):
    PRIVATE = "private"  # a draft only the owner sees
    SHARED = "shared"  # the owner's manager chain and mentors see it


class CorroborationStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class Evidence(StoredMarkdown, Base):
    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_owner_id_occurred_on", "owner_id", "occurred_on"),
        # The newest shared lessons (feedback/lessons.py, on the team page): few items are.
        Index(
            "ix_evidence_lessons_shared",
            "lesson_shared_at",
            "id",
            postgresql_where=text("lesson_shared_at IS NOT NULL"),
            sqlite_where=text("lesson_shared_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # markdown
    body_html: Mapped[str | None] = mapped_column(Text)  # made from body (StoredMarkdown)
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, 30))
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility, 30), default=Visibility.PRIVATE
    )
    # "Measure": the outcome, as the metric before and after.
    metric: Mapped[str] = mapped_column(String(200), default="")
    metric_before: Mapped[str] = mapped_column(String(60), default="")
    metric_after: Mapped[str] = mapped_column(String(60), default="")
    metric_unit: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A shared "learning from failure" item the owner also offered their team as a lesson.
    lesson_shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # in the Trash
    revision: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User] = relationship(lazy="raise")
    competencies: Mapped[list[EvidenceCompetency]] = relationship(
        back_populates="evidence",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="EvidenceCompetency.competency_key",
    )
    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="evidence",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="EvidenceLink.position",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="evidence",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Attachment.id",
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}
    markdown_fields: ClassVar[tuple[str, ...]] = ("body",)

    @property
    def is_shared(self) -> bool:
        return self.visibility is Visibility.SHARED

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    @hybrid_property
    def is_visible_to_others(self) -> bool:
        """Shared and out of the Trash: the only state in which anyone but the owner sees the
        item (app/policy/evidence.py says who). Also a SQL condition:
        `where(Evidence.is_visible_to_others)`.
        """
        return self.visibility is Visibility.SHARED and self.deleted_at is None

    @is_visible_to_others.inplace.expression
    @classmethod
    def _is_visible_to_others_sql(cls):
        return (cls.visibility == Visibility.SHARED) & cls.deleted_at.is_(None)


class EvidenceCompetency(Base):
    """A tag: by the competency's stable key, so it survives new framework versions and renames."""

    __tablename__ = "evidence_competencies"

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), primary_key=True
    )
    competency_key: Mapped[str] = mapped_column(String(80), primary_key=True)

    evidence: Mapped[Evidence] = relationship(back_populates="competencies", lazy="raise")

    __table_args__ = (Index("ix_evidence_competencies_key", "framework_id", "competency_key"),)


class EvidenceLink(Base):
    __tablename__ = "evidence_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(200), default="")

    evidence: Mapped[Evidence] = relationship(back_populates="links", lazy="raise")


class EvidenceRevision(Base):
    """Every saved state of an evidence item, so no edit loses what was there before."""

    __tablename__ = "evidence_revisions"
    __table_args__ = (UniqueConstraint("evidence_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    number: Mapped[int]
    action: Mapped[str] = mapped_column(String(30))  # created, edited, shared, deleted, restored
    snapshot: Mapped[dict] = mapped_column(JSON)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """A file stored outside the web root under a random name; served only as a download."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="attachments", lazy="raise")


class Comment(StoredMarkdown, Base):
    """A comment on shared evidence; replies go one level deep."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    # Indexed for "latest comment by each report" on the team page (migration 0013).
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)  # made from body (StoredMarkdown)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="raise")

    markdown_fields: ClassVar[tuple[str, ...]] = ("body",)


class Kudos(Base):
    __tablename__ = "kudos"
    __table_args__ = (UniqueConstraint("evidence_id", "giver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    giver: Mapped[User] = relationship(lazy="raise")


class Corroboration(Base):
    """A peer asked to confirm an evidence item, and their answer."""

    __tablename__ = "corroborations"
    __table_args__ = (UniqueConstraint("evidence_id", "peer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    peer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[CorroborationStatus] = mapped_column(
        str_enum(CorroborationStatus, 30), default=CorroborationStatus.PENDING
    )
    note: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    peer: Mapped[User] = relationship(lazy="raise")
    evidence: Mapped[Evidence] = relationship(lazy="raise")


class NotificationKind(enum.StrEnum):
    EVIDENCE_SHARED = "evidence_shared"
    COMMENT = "comment"
    KUDOS = "kudos"
    CORROBORATION_REQUESTED = "corroboration_requested"
    CORROBORATION_ANSWERED = "corroboration_answered"
    # Promotion cycles (case_id or session_id says which)
    CASE_OPENED = "case_opened"
    CASE_PHASE = "case_phase"
    SESSION_ADDED = "session_added"
    SESSION_LOCKED = "session_locked"
    CASE_DECIDED = "case_decided"
    CASE_PUBLISHED = "case_published"
    SELF_ASSESSMENT_SUBMITTED = "self_assessment_submitted"
    # Coaching (the reference column says which object)
    AGENDA_ITEM_ADDED = "agenda_item_added"  # meeting_id
    ACTION_ITEM_ASSIGNED = "action_item_assigned"  # meeting_id
    GOAL_PROPOSED = "goal_proposed"  # goal_id
    GOAL_AGREED = "goal_agreed"  # goal_id
    DELEGATION_ROUND_OPENED = "delegation_round_opened"  # round_id
    DELEGATION_REVEALED = "delegation_revealed"  # round_id
    DELEGATION_ROUND_CLOSED = "delegation_round_closed"  # round_id
    FEEDBACK_REQUESTED = "feedback_requested"  # feedback_ask_id
    FEEDBACK_ANSWERED = "feedback_answered"  # feedback_ask_id
    FEEDBACK_SHARED = "feedback_shared"  # feedback_ask_id
    THANKS = "thanks"  # thanks_id
    LESSON_SHARED = "lesson_shared"  # evidence_id


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, 30))
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotion_cases.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation_rounds.id", ondelete="CASCADE"), index=True
    )
    feedback_ask_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_asks.id", ondelete="CASCADE"), index=True
    )
    thanks_id: Mapped[int | None] = mapped_column(
        ForeignKey("thanks.id", ondelete="CASCADE"), index=True
    )
    # What the message needs that the references cannot tell later: the phase a cycle moved to
    # (CASE_PHASE), the decision recorded (CASE_DECIDED). None on rows from before it existed.
    detail: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the delivery pass turned it into messages (or decided none were wanted).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")
    evidence: Mapped[Evidence | None] = relationship(lazy="raise")


class Setting(Base):
    """Organisation-wide settings the head of product changes in the app (e.g. readiness)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
