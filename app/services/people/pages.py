"""Read-models of the people pages: home, the admin list and a profile, and whose names link."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination

from app import policy
from app.extensions import db
from app.models import Role, User
from app.services import people
from app.services.frameworks import ladder
from app.services.growth import readiness
from app.services.people import level_history

STATUSES = ("active", "deactivated", "all")


@dataclass(frozen=True)
class PersonLinks:
    """Whose profile the viewer may open (the policy's person.view, read once for the page): a
    name links to a profile only when it would open."""

    visible: frozenset[int] | None  # None: everyone (the head of product)

    def allows(self, person: User) -> bool:
        return self.visible is None or person.id in self.visible


def person_links(actor: User) -> PersonLinks:
    visible = policy.visible_people(actor)
    return PersonLinks(None if visible is None else frozenset(visible))


@dataclass(frozen=True)
class HomePage:
    """The signed-in person's home page."""

    person: User
    placement: ladder.Placement | None
    summary: people.OrganisationSummary | None  # the organisation, for the head of product
    growth: readiness.Readiness | None  # readiness for the next level, once placed
    readiness_statuses: tuple[readiness.Status, ...]
    links: PersonLinks


def home_page(actor: User) -> HomePage:
    person = people.get_person(actor.id)
    growth = readiness.readiness(actor.id)
    return HomePage(
        person=person,
        placement=ladder.placement(person.level_id),
        summary=people.organisation_summary() if person.is_head else None,
        growth=growth if growth.is_placed else None,
        readiness_statuses=(
            readiness.Status.ENOUGH,
            readiness.Status.THIN,
            readiness.Status.NONE,
        ),
        links=person_links(actor),
    )


@dataclass(frozen=True)
class PeoplePage:
    """The admin list of people, filtered and paginated."""

    page: Pagination
    search: str
    role: str
    status: str
    links: PersonLinks
    statuses: tuple[str, ...] = STATUSES
    roles: tuple[Role, ...] = tuple(Role)


def people_page(
    actor: User, *, search: str, role: str, status: str, page: int, per_page: int
) -> PeoplePage:
    query = people.people_query(search=search, role=Role(role) if role else None, status=status)
    found = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return PeoplePage(
        page=found, search=search, role=role, status=status, links=person_links(actor)
    )


@dataclass(frozen=True)
class PersonPage:
    """A person's profile."""

    person: User
    placement: ladder.Placement | None
    levels: list[level_history.Entry]
    links: PersonLinks


def person_page(actor: User, person_id: int) -> PersonPage:
    person = people.get_person(person_id)
    policy.authorize(actor, "person.view", person)
    return PersonPage(
        person=person,
        placement=ladder.placement(person.level_id),
        levels=level_history.history(person.id),
        links=person_links(actor),
    )
