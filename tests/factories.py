"""Test data with explicit keyword arguments, committed in a short app context of its own."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.extensions import db
from app.infra.passwords import hash_password
from app.models import Role, User

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """What a test needs to refer to a person after their app context closed."""

    id: int
    email: str
    name: str
    role: Role
    password: str = PASSWORD


@dataclass(frozen=True)
class Organisation:
    head: Person
    manager_a: Person
    manager_b: Person
    pm_a1: Person  # reports to manager_a
    pm_a2: Person  # reports to manager_a; mentors pm_b1
    pm_b1: Person  # reports to manager_b
    director: Person  # manager under manager_a (skip-level for pm_d1)
    pm_d1: Person  # reports to director


class Factory:
    def __init__(self, app):
        self.app = app

    def person(
        self,
        *,
        name: str | None = None,
        role: Role = Role.PM,
        manager: Person | None = None,
        mentors: tuple[Person, ...] = (),
        email: str | None = None,
        password: str | None = PASSWORD,
        active: bool = True,
    ) -> Person:
        number = next(_numbers)
        name = name or f"Person {number}"
        email = email or f"person{number}@example.com"
        with self.app.app_context():
            user = User(
                email=email,
                name=name,
                role=role,
                manager_id=manager.id if manager else None,
                password_hash=hash_password(password) if password else None,
            )
            if mentors:
                user.mentors = [db.session.get(User, m.id) for m in mentors]
            if not active:
                from app.models.base import utcnow

                user.deactivated_at = utcnow()
            db.session.add(user)
            db.session.commit()
            return Person(user.id, user.email, user.name, user.role, password or "")

    def organisation(self) -> Organisation:
        head = self.person(name="Hana Head", role=Role.HEAD, email="head@example.com")
        manager_a = self.person(
            name="Ada Manager", role=Role.MANAGER, manager=head, email="ada@example.com"
        )
        manager_b = self.person(
            name="Ben Manager", role=Role.MANAGER, manager=head, email="ben@example.com"
        )
        pm_a1 = self.person(name="Alice Pm", manager=manager_a, email="alice@example.com")
        pm_a2 = self.person(name="Arun Pm", manager=manager_a, email="arun@example.com")
        pm_b1 = self.person(
            name="Bea Pm", manager=manager_b, mentors=(pm_a2,), email="bea@example.com"
        )
        director = self.person(
            name="Dora Director", role=Role.MANAGER, manager=manager_a, email="dora@example.com"
        )
        pm_d1 = self.person(name="Dev Pm", manager=director, email="dev@example.com")
        return Organisation(head, manager_a, manager_b, pm_a1, pm_a2, pm_b1, director, pm_d1)

    def get(self, person: Person) -> User:
        """A fresh copy of the person as stored (detached)."""
        with self.app.app_context():
            user = db.session.get(User, person.id)
            db.session.expunge(user)
            return user


def sign_in(client, person: Person, *, remember: bool = False):
    data = {"email": person.email, "password": person.password}
    if remember:
        data["remember"] = "y"
    response = client.post_form("/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response
