"""People: create, edit, deactivate, and keep reporting lines sound.

Beside these verbs: importing people from CSV, sign-in and password links (auth), reporting
lines (org), the levels a person held, the team page and the people pages' read-models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import FrameworkVersion, Level, Role, Track, User, VersionStatus
from app.models.base import utcnow
from app.models.user import new_session_token
from app.services import audit
from app.services.people import level_history, org

NAME_MAX = 120
EMAIL_MAX = 254  # the longest address SMTP carries; the column's length


@dataclass
class PersonInput:
    """What an admin can set on a person. Ids refer to other people."""

    email: str
    name: str
    role: Role
    manager_id: int | None = None
    mentor_ids: list[int] = field(default_factory=list)
    level_id: int | None = None


def get_person(person_id: int) -> User:
    person = db.session.execute(
        select(User)
        .where(User.id == person_id)
        .options(
            joinedload(User.manager),
            selectinload(User.mentors),
            selectinload(User.mentees),
            selectinload(User.reports),
        )
    ).scalar_one_or_none()
    if person is None:
        raise NotFoundError("Not found.")
    return person


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def people_query(*, search: str = "", role: Role | None = None, status: str = "active"):
    """The people list as a select, with each person's manager loaded in the same query."""
    query = select(User).options(joinedload(User.manager)).order_by(User.name, User.id)
    if search:
        term = search.strip().lower()  # % and _ are matched literally (autoescape)
        query = query.where(
            or_(
                func.lower(User.name).contains(term, autoescape=True),
                User.email.contains(term, autoescape=True),
            )
        )
    if role is not None:
        query = query.where(User.role == role)
    if status == "active":
        query = query.where(User.deactivated_at.is_(None))
    elif status == "deactivated":
        query = query.where(User.deactivated_at.is_not(None))
    return query


def active_people() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.deactivated_at.is_(None)).order_by(User.name)
        ).scalars()
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def clean_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError(
            f"{email.strip() or 'An empty value'} is not a valid email address: {error}",
            field="email",
        ) from None


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Enter a name.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"Use at most {NAME_MAX} characters.", field="name")
    return name


def snapshot(person: User, mentor_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """The audited view of a person (never the password hash or session token)."""
    if mentor_ids is None:
        mentor_ids = [mentor.id for mentor in person.mentors]
    return {
        "email": person.email,
        "name": person.name,
        "role": person.role.value,
        "manager_id": person.manager_id,
        "mentor_ids": sorted(mentor_ids),
        "level_id": person.level_id,
        "active": person.is_active,
    }


def create_person(actor: User, data: PersonInput) -> User:
    policy.authorize(actor, "people.manage")
    person = User(email=_unused_email(data.email), name=clean_name(data.name), role=data.role)
    manager = _valid_manager(person, data.manager_id)
    person.manager_id = manager.id if manager else None
    person.mentors = _valid_mentors(person, data.mentor_ids)
    level_id = _valid_level(data.level_id)
    db.session.add(person)
    db.session.flush()
    level_history.move(person, level_id, source="placed")
    audit.record(actor, "person.created", person, after=snapshot(person))
    return person


def update_person(actor: User, person: User, data: PersonInput, *, expected_version: int) -> User:
    """Apply an admin's edit, refusing it if someone else saved the person since it was read."""
    policy.authorize(actor, "people.manage")
    if person.version != expected_version:
        raise ConflictError(
            f"{person.name} was changed by someone else while you were editing.",
            current=snapshot(person),
        )
    before = snapshot(person)
    email = _unused_email(data.email, exclude=person)
    name = clean_name(data.name)
    if data.role is not Role.HEAD:
        _keep_a_head(person, "change the role of")
    if data.role is Role.PM:
        _has_no_active_reports(person, "become a product manager")
    manager = _valid_manager(person, data.manager_id)
    mentors = _valid_mentors(person, data.mentor_ids)
    level_id = _valid_level(data.level_id) if data.level_id != person.level_id else data.level_id
    person.email, person.name, person.role = email, name, data.role
    person.manager_id = manager.id if manager else None
    person.mentors = mentors
    person.updated_at = utcnow()  # always an UPDATE, so the version check applies to every save
    # Last: its query flushes the person, and one UPDATE per save keeps the version count honest.
    level_history.move(person, level_id, source="placed")
    db.session.flush()
    old, new = audit.changes(before, snapshot(person))
    audit.record(actor, "person.updated", person, before=old, after=new)
    return person


def deactivate_person(actor: User, person: User) -> User:
    policy.authorize(actor, "people.manage")
    if not person.is_active:
        raise ValidationError(f"{person.name} is already deactivated.")
    _keep_a_head(person, "deactivate")
    _has_no_active_reports(person, "be deactivated")
    person.deactivated_at = utcnow()
    person.session_token = new_session_token()
    person.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "person.deactivated", person, before={"active": True}, after={"active": False}
    )
    return person


def reactivate_person(actor: User, person: User) -> User:
    policy.authorize(actor, "people.manage")
    if person.is_active:
        raise ValidationError(f"{person.name} is already active.")
    if person.manager_id is not None:
        manager = db.session.get(User, person.manager_id)
        if manager is not None and not manager.is_active:
            person.manager_id = None  # their old manager left; the admin assigns a new one
    person.deactivated_at = None
    person.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "person.reactivated",
        person,
        before={"active": False},
        after={"active": True, "manager_id": person.manager_id},
    )
    return person


def check_no_cycle(person: User, manager: User) -> None:
    """Refuse a manager who reports, directly or not, to the person."""
    chain = [manager.id, *org.managers_above(manager.id)]
    if person.id not in chain:
        return
    loop = chain[: chain.index(person.id) + 1]
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(loop))).all())
    path = " → ".join([person.name, *(names[i] for i in loop)])
    raise ValidationError(
        f"{person.name} would become their own manager: {path}.", field="manager_id"
    )


def _unused_email(email: str, *, exclude: User | None = None) -> str:
    email = clean_email(email)
    existing = find_by_email(email)
    if existing is not None and existing is not exclude:
        raise ValidationError(f"{existing.name} already uses {email}.", field="email")
    return email


def _valid_manager(person: User, manager_id: int | None) -> User | None:
    if manager_id is None:
        return None
    manager = db.session.get(User, manager_id)
    if manager is None or not manager.is_active:
        raise ValidationError("Choose an active manager.", field="manager_id")
    if not manager.is_manager:
        raise ValidationError(
            f"{manager.name} is a product manager; only managers and heads of product "
            "can have reports.",
            field="manager_id",
        )
    if manager.id == person.id:
        raise ValidationError(f"{person.name} cannot be their own manager.", field="manager_id")
    check_no_cycle(person, manager)
    return manager


def _valid_mentors(person: User, mentor_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(mentor_ids))
    if not ids:
        return []
    if person.id in ids:
        raise ValidationError(f"{person.name} cannot mentor themselves.", field="mentor_ids")
    mentors = list(
        db.session.execute(
            select(User).where(User.id.in_(ids), User.deactivated_at.is_(None)).order_by(User.name)
        ).scalars()
    )
    if len(mentors) != len(ids):
        raise ValidationError("Choose active people as mentors.", field="mentor_ids")
    return mentors


def published_levels() -> list[tuple[int, str, str]]:
    """(level id, "CODE · Title", framework name) for every level of a published version."""
    rows = db.session.execute(
        select(Level.id, Level.code, Level.title, FrameworkVersion.name)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .join(Track, Level.track_id == Track.id)
        .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        .order_by(FrameworkVersion.name, Track.position, Level.position)
    ).all()
    return [(level_id, f"{code} · {title}", framework) for level_id, code, title, framework in rows]


def _valid_level(level_id: int | None) -> int | None:
    """People are placed on levels of published versions only (a kept old level stays valid)."""
    if level_id is None:
        return None
    published = db.session.execute(
        select(Level.id)
        .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
        .where(Level.id == level_id, FrameworkVersion.status == VersionStatus.PUBLISHED)
    ).first()
    if published is None:
        raise ValidationError("Choose a level of a published career framework.", field="level_id")
    return level_id


def _keep_a_head(person: User, verb: str) -> None:
    if person.role is not Role.HEAD or not person.is_active:
        return
    heads = db.session.execute(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.HEAD, User.deactivated_at.is_(None))
    ).scalar_one()
    if heads <= 1:
        raise ValidationError(
            f"You cannot {verb} {person.name}: they are the only active head of product. "
            "Make someone else head of product first.",
            field="role",
        )


def _has_no_active_reports(person: User, outcome: str) -> None:
    names = list(
        db.session.execute(
            select(User.name)
            .where(User.manager_id == person.id, User.deactivated_at.is_(None))
            .order_by(User.name)
        ).scalars()
    )
    if names:
        raise ValidationError(
            f"{person.name} cannot {outcome} while {len(names)} people report to them "
            f"({', '.join(names)}). Give them another manager first.",
            field="role",
        )


@dataclass(frozen=True)
class OrganisationSummary:
    by_role: dict[Role, int]
    deactivated: int
    without_manager: int
    without_password: int


def organisation_summary() -> OrganisationSummary:
    """Counts for the head of product's home page, in one query."""
    active = User.deactivated_at.is_(None)
    rows = db.session.execute(
        select(
            User.role,
            func.count().filter(active),
            func.count().filter(~active),
            func.count().filter(active, User.manager_id.is_(None), User.role != Role.HEAD),
            func.count().filter(active, User.password_hash.is_(None)),
        ).group_by(User.role)
    ).all()
    return OrganisationSummary(
        by_role={role: sum(r[1] for r in rows if r[0] is role) for role in Role},
        deactivated=sum(r[2] for r in rows),
        without_manager=sum(r[3] for r in rows),
        without_password=sum(r[4] for r in rows),
    )
