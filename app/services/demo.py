"""A realistic demo organisation: a head of product, three product groups, PMs and mentors."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, User
from app.services import audit
from app.services.passwords import hash_password

DEMO_PASSWORD = "rungs-demo-2026"  # noqa: S105 - printed for people trying the demo
DOMAIN = "orbit.example.com"

# (name, role, manager's name or None, mentor names)
ORGANISATION: list[tuple[str, Role, str | None, tuple[str, ...]]] = [
    ("Maya Okafor", Role.HEAD, None, ()),
    ("Daniel Brandt", Role.MANAGER, "Maya Okafor", ()),
    ("Priya Raman", Role.MANAGER, "Maya Okafor", ()),
    ("Tomás Vidal", Role.MANAGER, "Maya Okafor", ()),
    # Growth, under Daniel
    ("Lena Fischer", Role.PM, "Daniel Brandt", ()),
    ("Kwame Mensah", Role.PM, "Daniel Brandt", ("Lena Fischer",)),
    ("Sofia Marquez", Role.PM, "Daniel Brandt", ()),
    ("Ravi Patel", Role.PM, "Daniel Brandt", ("Lena Fischer",)),
    ("Hannah Cole", Role.PM, "Daniel Brandt", ()),
    # Platform, under Priya
    ("Jonas Berg", Role.PM, "Priya Raman", ()),
    ("Aisha Bello", Role.PM, "Priya Raman", ("Jonas Berg",)),
    ("Mei Lin", Role.PM, "Priya Raman", ()),
    ("Oliver Grant", Role.PM, "Priya Raman", ("Jonas Berg",)),
    # Payments, under Tomás
    ("Chloé Martin", Role.PM, "Tomás Vidal", ()),
    ("Samuel Adeyemi", Role.PM, "Tomás Vidal", ("Lena Fischer",)),
    ("Yuki Tanaka", Role.PM, "Tomás Vidal", ()),
    ("Noah Williams", Role.PM, "Tomás Vidal", ("Jonas Berg",)),
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


def load() -> list[User]:
    """Create the demo people that do not exist yet (matched by email); existing ones are kept."""
    existing = {
        person.email: person
        for person in db.session.execute(
            select(User).where(User.email.in_([email_for(n) for n, *_ in ORGANISATION]))
        ).scalars()
    }
    password_hash = hash_password(DEMO_PASSWORD)
    by_name: dict[str, User] = {}
    created = []
    for name, role, manager, mentors in ORGANISATION:
        person = existing.get(email_for(name))
        if person is None:
            person = User(email=email_for(name), name=name, role=role, password_hash=password_hash)
            person.manager = by_name[manager] if manager else None
            person.mentors = [by_name[mentor] for mentor in mentors]
            db.session.add(person)
            created.append(person)
        by_name[name] = person
    db.session.flush()
    for person in created:
        audit.record(None, "person.created", person, after={"email": person.email, "demo": True})
    return created


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
