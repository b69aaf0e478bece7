"""Background jobs (packet renders, cycle exports) and the promotion packets they produce."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow
from app.models.user import User


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    # Ran its first part and waits for the jobs it started (a cycle export's packets); queued
    # again once they all finished. No worker holds it meanwhile, so no time limit runs.
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # by the person who started it; its parts and process are stopped

    @property
    def label(self) -> str:
        # Waiting is running, to the person who started it: their work is under way.
        return "Running" if self is JobStatus.WAITING else self.value.capitalize()

    @property
    def is_finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    """A unit of work run outside the web request, in its own process, with its progress."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 20), default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    message: Mapped[str] = mapped_column(String(200), default="")
    # The file the job made, relative to RUNGS_DATA_DIR, and the name to download it as.
    result_path: Mapped[str | None] = mapped_column(String(300))
    result_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship(lazy="raise")


class PacketView(enum.StrEnum):
    COMMITTEE = "committee"  # everything
    CANDIDATE = "candidate"  # no individual votes, no names of voters, no private notes

    @property
    def label(self) -> str:
        return {"committee": "Committee", "candidate": "Candidate"}[self.value]


class Packet(Base):
    """One rendered promotion packet, kept on record: a new version only when the data changed."""

    __tablename__ = "packets"
    __table_args__ = (UniqueConstraint("case_id", "view", "data_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("promotion_cases.id", ondelete="CASCADE"), index=True
    )
    view: Mapped[PacketView] = mapped_column(str_enum(PacketView, 20))
    data_version: Mapped[str] = mapped_column(String(64))  # SHA-256 of the packet's input data
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the PDF
    file_path: Mapped[str] = mapped_column(String(300))  # relative to RUNGS_DATA_DIR
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    generated_by: Mapped[User | None] = relationship(lazy="raise")
