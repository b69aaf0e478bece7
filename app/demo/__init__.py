"""A realistic demo organisation: the shipped frameworks, a head of product, three product
groups, PMs on their levels, and mentors; a year of their evidence, and two promotion cycles
(one published, one in calibration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.demo import coaching_samples as demo_coaching
from app.demo import evidence_samples as demo_evidence
from app.demo import promotion_samples as demo_promotions
from app.extensions import db
from app.infra.passwords import hash_password
from app.models import (
    Framework,
    FrameworkVersion,
    Level,
    LevelPlacement,
    Role,
    User,
    VersionStatus,
)
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services import audit, notifications
from app.services.frameworks import files, store, versions

DEMO_PASSWORD = "rungs-demo-2026"  # noqa: S105 - printed for people trying the demo
DOMAIN = "orbit.example.com"

# (name, role, level code, manager's name or None, mentor names)
ORGANISATION: list[tuple[str, Role, str, str | None, tuple[str, ...]]] = [
    ("Maya Okafor", Role.HEAD, "CPO", None, ()),
    ("Daniel Brandt", Role.MANAGER, "DIR", "Maya Okafor", ()),
    ("Priya Raman", Role.MANAGER, "DIR", "Maya Okafor", ()),
    ("Tomás Vidal", Role.MANAGER, "DIR", "Maya Okafor", ()),
    # Growth, under Daniel
    ("Lena Fischer", Role.PM, "SPM", "Daniel Brandt", ()),
    ("Kwame Mensah", Role.PM, "PM", "Daniel Brandt", ("Lena Fischer",)),
    ("Sofia Marquez", Role.PM, "APM", "Daniel Brandt", ()),
    ("Ravi Patel", Role.PM, "PM", "Daniel Brandt", ("Lena Fischer",)),
    ("Hannah Cole", Role.PM, "PM", "Daniel Brandt", ()),
    # Platform, under Priya
    ("Jonas Berg", Role.PM, "GPM", "Priya Raman", ()),
    ("Aisha Bello", Role.PM, "PM", "Priya Raman", ("Jonas Berg",)),
    ("Mei Lin", Role.PM, "SPM", "Priya Raman", ()),
    ("Oliver Grant", Role.PM, "APM", "Priya Raman", ("Jonas Berg",)),
    # Payments, under Tomás
    ("Chloé Martin", Role.PM, "PM", "Tomás Vidal", ()),
    ("Samuel Adeyemi", Role.PM, "SPM", "Tomás Vidal", ("Lena Fischer",)),
    ("Yuki Tanaka", Role.PM, "PM", "Tomás Vidal", ()),
    ("Noah Williams", Role.PM, "APM", "Tomás Vidal", ("Jonas Berg",)),
]


# A few people work elsewhere; everyone else keeps the default, UTC. Dates and times are shown to
# each in their own zone ("Your settings").
TIME_ZONES = {
    "Maya Okafor": "Europe/London",
    "Daniel Brandt": "Europe/Berlin",
    "Lena Fischer": "Europe/Berlin",
    "Priya Raman": "Asia/Kolkata",
    "Tomás Vidal": "America/Mexico_City",
    "Sofia Marquez": "America/New_York",
    "Yuki Tanaka": "Asia/Tokyo",
}


# Everyone joined on their level this long ago; these people were promoted since, so their
# readiness and their cases count evidence from that day: (name, level before, days ago).
JOINED_DAYS_AGO = 3 * 365
PROMOTED_SINCE_JOINING = [
    ("Lena Fischer", "PM", 420),
    ("Ravi Patel", "APM", 330),
    ("Chloé Martin", "APM", 270),
    ("Mei Lin", "PM", 300),
]


@dataclass(frozen=True)
class SignIn:
    email: str
    name: str
    role: Role


def email_for(name: str) -> str:
    first = name.split()[0].lower().replace("é", "e").replace("á", "a")
    return f"{first}@{DOMAIN}"


def has_people() -> bool:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one() > 0


def load_frameworks() -> list[str]:
    """Import and publish the shipped frameworks whose slug is not in Rungs yet; their slugs."""
    loaded = []
    directory = Path(current_app.config["SHIPPED_FRAMEWORKS_DIR"])
    for path in sorted(directory.glob("*.yaml")):
        doc, _report = files.validate(path.read_text(encoding="utf-8"), "yaml")
        exists = db.session.execute(select(Framework.id).where(Framework.slug == doc.slug)).first()
        if exists is None:
            version = store.create_version(SYSTEM, doc)
            versions.publish(SYSTEM, version, changelog="The framework that ships with Rungs.")
            loaded.append(doc.slug)
    return loaded


def published_levels() -> dict[str, int]:
    """Level code → level id, over every published version."""
    return dict(
        db.session.execute(
            select(Level.code, Level.id)
            .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
            .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
        ).all()
    )


def load() -> list[User]:
    """Create the demo people that do not exist yet (matched by email); existing ones are kept."""
    load_frameworks()
    levels = published_levels()
    existing = {
        person.email: person
        for person in db.session.execute(
            select(User).where(User.email.in_([email_for(n) for n, *_ in ORGANISATION]))
        ).scalars()
    }
    password_hash = hash_password(DEMO_PASSWORD)
    by_name: dict[str, User] = {}
    created = []
    for name, role, level, manager, mentors in ORGANISATION:
        person = existing.get(email_for(name))
        if person is None:
            person = User(
                email=email_for(name),
                name=name,
                role=role,
                password_hash=password_hash,
                level_id=levels.get(level),
                time_zone=TIME_ZONES.get(name, "UTC"),
            )
            person.manager = by_name[manager] if manager else None
            person.mentors = [by_name[mentor] for mentor in mentors]
            db.session.add(person)
            created.append(person)
        by_name[name] = person
    db.session.flush()
    for person in created:
        audit.record(None, "person.created", person, after={"email": person.email, "demo": True})
    place(created, levels)
    demo_evidence.load(list(by_name.values()))
    cycles = demo_promotions.load()
    coaching = demo_coaching.load()
    if created or cycles or coaching:
        settle_inboxes(list(by_name.values()))
    return created


def place(people: list[User], levels: dict[str, int]) -> None:
    """Give new demo people their level history: placed when they joined, and for some a
    promotion since then."""
    now = utcnow()
    joined = now - timedelta(days=JOINED_DAYS_AGO)
    promoted = {name: (before, days) for name, before, days in PROMOTED_SINCE_JOINING}
    for person in people:
        if person.level_id is None:
            continue
        since = joined
        if person.name in promoted and levels.get(promoted[person.name][0]):
            before, days = promoted[person.name]
            since = now - timedelta(days=days)
            db.session.add(
                LevelPlacement(
                    user_id=person.id,
                    level_id=levels[before],
                    started_at=joined,
                    ended_at=since,
                    source="placed",
                )
            )
        db.session.add(
            LevelPlacement(
                user_id=person.id,
                level_id=person.level_id,
                started_at=since,
                source="promotion" if since != joined else "placed",
            )
        )
    db.session.flush()


# Everything in the demo happened at load time, so without this each person would start with
# 50-75 unread notifications. A real organisation's people have read most of theirs.
FEWEST_UNREAD, MOST_UNREAD = 3, 8


def settle_inboxes(people: list[User]) -> None:
    """Leave each demo person a realistic handful of unread notifications, the newest ones:
    between 3 and 8, varied from person to person."""
    spread = MOST_UNREAD - FEWEST_UNREAD + 1
    for index, person in enumerate(people):
        notifications.keep_newest_unread(person.id, FEWEST_UNREAD + (index * 5) % spread)


def sign_ins() -> list[SignIn]:
    """The demo accounts present in the database, in organisation order."""
    emails = [email_for(name) for name, *_ in ORGANISATION]
    present = {
        person.email: person
        for person in db.session.execute(
            select(User).where(User.email.in_(emails), User.deactivated_at.is_(None))
        ).scalars()
    }
    return [SignIn(e, present[e].name, present[e].role) for e in emails if e in present]
