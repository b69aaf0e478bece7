"""People: whom the token's owner may see, as their profile pages show them."""

from __future__ import annotations

from typing import Literal

import pydantic
from flask_login import current_user

from app.services.people import directory

from .core import operation
from .pagination import Page, PageQuery, decode_cursor, encode_cursor
from .schemas import PersonOut


class PeopleQuery(PageQuery):
    status: Literal["active", "deactivated", "all"] = pydantic.Field(
        default="active",
        description="Only people with access (active), only those without, or all.",
    )


class PersonPage(Page[PersonOut]):
    """A page of people, by id."""


@operation(
    "GET",
    "/people",
    tag="People",
    summary="People you may see",
    action="person.view",
    query=PeopleQuery,
    response=PersonPage,
)
def list_people(query: PeopleQuery):
    """The head of product sees everyone; others see themselves, their managers up the line,
    everyone who reports to them, their mentors and mentees. Ordered by id."""
    after = decode_cursor(query.cursor, length=len(directory.KEYS))
    found = directory.visible_page(
        current_user, status=query.status, after=after, limit=query.limit
    )
    return PersonPage(
        items=[PersonOut.of(person) for person in found.rows],
        next_cursor=encode_cursor(found.next_after),
    )


@operation(
    "GET",
    "/people/<int:person_id>",
    tag="People",
    summary="One person",
    action="person.view",
    response=PersonOut,
)
def get_person(person_id: int):
    """404 for anyone you may not see, as for their profile page."""
    return PersonOut.of(directory.visible_person(current_user, person_id))
