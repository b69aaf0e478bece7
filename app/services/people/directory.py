"""People as a list for machines (the API): whom the viewer may see, a page at a time.

The same rule as the profile pages (person.view): the head of product sees everyone; the
others see themselves, their line up and down, their mentors and mentees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from app import policy
from app.models import User
from app.services import people
from app.services.api.pages import Key, KeysetPage, keyset_page

STATUSES = ("active", "deactivated", "all")
KEYS = (Key(User.id),)


def visible_page(
    viewer: User, *, status: str, after: Sequence[Any] | None, limit: int
) -> KeysetPage:
    """One page of the people the viewer may see, by id."""
    statement = select(User).where(policy.where("person.view", viewer))
    if status == "active":
        statement = statement.where(User.deactivated_at.is_(None))
    elif status == "deactivated":
        statement = statement.where(User.deactivated_at.is_not(None))
    return keyset_page(statement, KEYS, after=after, limit=limit)


def visible_person(viewer: User, person_id: int) -> User:
    """One person, if the viewer may open their profile; else NotFoundError."""
    person = people.get_person(person_id)
    policy.authorize(viewer, "person.view", person)
    return person
