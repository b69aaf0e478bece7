"""Career frameworks: versions of tracks, levels, areas, competencies and expectations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CellStatus(enum.StrEnum):
    DEFINED = "defined"
    EMPTY = "empty"
    NOT_APPLICABLE = "not_applicable"


class IndicatorKind(enum.StrEnum):
    CRITERION = "criterion"
    EXAMPLE = "example"
    SIGNAL = "signal"
    MEASURE = "measure"  # how to tell the expectation is met: an outcome someone could check


class DaciRole(enum.StrEnum):
    DRIVER = "driver"
    APPROVER = "approver"
    CONTRIBUTOR = "contributor"
    INFORMED = "informed"


DELEGATION_LEVELS = {
    1: "Tell",
    2: "Sell",
    3: "Consult",
    4: "Agree",
    5: "Advise",
    6: "Inquire",
    7: "Delegate",
}


class Framework(Base):
    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[FrameworkVersion]] = relationship(
        back_populates="framework", lazy="raise", order_by="FrameworkVersion.number"
    )


class FrameworkVersion(Base):
    """One version of a framework. Published versions are never edited: edits make a new draft."""

    __tablename__ = "framework_versions"
    __table_args__ = (
        UniqueConstraint("framework_id", "number"),
        # At most one published version per framework, enforced by the database.
        Index(
            "uq_framework_versions_one_published",
            "framework_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    number: Mapped[int]
    status: Mapped[VersionStatus] = mapped_column(
        str_enum(VersionStatus), default=VersionStatus.DRAFT
    )
    # Name and description as of this version (a version is a complete snapshot).
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    changelog: Mapped[str] = mapped_column(Text, default="")
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("framework_versions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by every edit of the draft's structure, so two editors cannot overwrite each other.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    framework: Mapped[Framework] = relationship(back_populates="versions", lazy="raise")
    tracks: Mapped[list[Track]] = relationship(
        back_populates="version",
        lazy="raise",
        order_by="Track.position",
        cascade="all, delete-orphan",
    )
    areas: Mapped[list[CompetencyArea]] = relationship(
        back_populates="version",
        lazy="raise",
        order_by="CompetencyArea.position",
        cascade="all, delete-orphan",
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}

    @property
    def is_draft(self) -> bool:
        return self.status is VersionStatus.DRAFT

    @property
    def label(self) -> str:
        return f"v{self.number} ({self.status.value})"


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("framework_versions.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]

    version: Mapped[FrameworkVersion] = relationship(back_populates="tracks", lazy="raise")
    levels: Mapped[list[Level]] = relationship(
        back_populates="track",
        lazy="raise",
        order_by="Level.position",
        cascade="all, delete-orphan",
    )


class Level(Base):
    __tablename__ = "levels"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("framework_versions.id", ondelete="CASCADE"), index=True
    )
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int]
    position: Mapped[int]
    summary: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    typical_experience: Mapped[str] = mapped_column(String(200), default="")

    track: Mapped[Track] = relationship(back_populates="levels", lazy="raise")
    decision_rights: Mapped[list[DecisionRight]] = relationship(
        back_populates="level",
        lazy="raise",
        order_by="DecisionRight.position",
        cascade="all, delete-orphan",
    )


class DecisionRight(Base):
    __tablename__ = "decision_rights"
    __table_args__ = (CheckConstraint("delegation BETWEEN 1 AND 7", name="delegation_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    decision: Mapped[str] = mapped_column(Text)
    role: Mapped[DaciRole] = mapped_column(str_enum(DaciRole))
    delegation: Mapped[int]

    level: Mapped[Level] = relationship(back_populates="decision_rights", lazy="raise")

    @property
    def delegation_label(self) -> str:
        return DELEGATION_LEVELS[self.delegation]


class CompetencyArea(Base):
    __tablename__ = "competency_areas"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("framework_versions.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]

    version: Mapped[FrameworkVersion] = relationship(back_populates="areas", lazy="raise")
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="area",
        lazy="raise",
        order_by="Competency.position",
        cascade="all, delete-orphan",
    )


competency_tracks = Table(
    "competency_tracks",
    Base.metadata,
    Column("competency_id", ForeignKey("competencies.id", ondelete="CASCADE"), primary_key=True),
    Column("track_id", ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
)


class Competency(Base):
    """A competency; its key stays the same across versions so that evidence follows renames."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("framework_versions.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("competency_areas.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    # The grid's column header where the name does not fit ("Prioritisation" → "Priorities");
    # empty means derive one from the name.
    short_name: Mapped[str] = mapped_column(String(16), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]

    area: Mapped[CompetencyArea] = relationship(back_populates="competencies", lazy="raise")
    tracks: Mapped[list[Track]] = relationship(
        secondary=competency_tracks, lazy="raise", order_by="Track.position"
    )
    expectations: Mapped[list[Expectation]] = relationship(
        back_populates="competency", lazy="raise", cascade="all, delete-orphan"
    )


class Expectation(Base):
    """One cell: what a competency looks like at one level."""

    __tablename__ = "expectations"
    __table_args__ = (UniqueConstraint("competency_id", "level_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id", ondelete="CASCADE"), index=True)
    status: Mapped[CellStatus] = mapped_column(str_enum(CellStatus), default=CellStatus.EMPTY)
    text: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)

    competency: Mapped[Competency] = relationship(back_populates="expectations", lazy="raise")
    level: Mapped[Level] = relationship(lazy="raise")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="expectation",
        lazy="raise",
        order_by="Indicator.position",
        cascade="all, delete-orphan",
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": revision}

    @property
    def measures(self) -> list[str]:
        """How you will know the expectation is met: the texts of its measure indicators, in
        their order, when the cell is written (none otherwise). Its indicators must be loaded."""
        if self.status is not CellStatus.DEFINED:
            return []
        return [i.text for i in self.indicators if i.kind is IndicatorKind.MEASURE]


class Indicator(Base):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    expectation_id: Mapped[int] = mapped_column(
        ForeignKey("expectations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    kind: Mapped[IndicatorKind] = mapped_column(str_enum(IndicatorKind))
    text: Mapped[str] = mapped_column(Text)

    expectation: Mapped[Expectation] = relationship(back_populates="indicators", lazy="raise")
