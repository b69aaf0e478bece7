"""People: accounts, roles, reporting lines and mentorships."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from app.models.framework import Level


class Role(enum.StrEnum):
    PM = "pm"
    MANAGER = "manager"
    HEAD = "head_of_product"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def plural(self) -> str:
        return ROLE_PLURALS[self]


ROLE_LABELS = {
    Role.PM: "Product manager",
    Role.MANAGER: "Manager",
    Role.HEAD: "Head of product",
}

ROLE_PLURALS = {
    Role.PM: "Product managers",
    Role.MANAGER: "Managers",
    Role.HEAD: "Heads of product",
}

mentorships = Table(
    "mentorships",
    Base.metadata,
    Column("mentor_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("mentee_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Base):
    """A person in the organisation. Never deleted: deactivation keeps their history."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role, length=20))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # A level of a published framework version; publishing a newer version moves people along.
    level_id: Mapped[int | None] = mapped_column(
        # use_alter: users and framework versions refer to each other; this breaks the cycle.
        ForeignKey("levels.id", ondelete="RESTRICT", use_alter=True),
        index=True,
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The login id handed to Flask-Login; replacing it ends every session of this person.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An IANA zone name ("Europe/Berlin"): dates are stored in UTC and shown in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The person's Slack member id, found once by their email address (app/services/messages/).
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    # Two-factor sign-in (app/services/people/two_factor.py): the authenticator app's secret, set
    # while the person confirms it and kept once it is on; the time it was turned on; and the
    # last accepted code's time step, so that a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    manager: Mapped[User | None] = relationship(
        remote_side=[id], back_populates="reports", lazy="raise"
    )
    reports: Mapped[list[User]] = relationship(
        back_populates="manager", lazy="raise", order_by="User.name"
    )
    level: Mapped[Level | None] = relationship(lazy="raise")
    mentors: Mapped[list[User]] = relationship(
        secondary=mentorships,
        primaryjoin=lambda: User.id == mentorships.c.mentee_id,
        secondaryjoin=lambda: User.id == mentorships.c.mentor_id,
        back_populates="mentees",
        lazy="raise",
        order_by="User.name",
    )
    mentees: Mapped[list[User]] = relationship(
        secondary=mentorships,
        primaryjoin=lambda: User.id == mentorships.c.mentor_id,
        secondaryjoin=lambda: User.id == mentorships.c.mentee_id,
        back_populates="mentors",
        lazy="raise",
        order_by="User.name",
    )

    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_head(self) -> bool:
        return self.role is Role.HEAD

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.HEAD)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class HelpSeen(Base):
    """A page's help that someone has seen once: from then on it is folded away for them."""

    __tablename__ = "help_seen"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
