"""Read-models of the people pages: home, the admin list, a person's page (the hub their manager
works from) and whose names link."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Level, Role, User
from app.services import people
from app.services.delegation import pages as delegation_pages
from app.services.evidence import shared
from app.services.feedback import panels as feedback_panels
from app.services.frameworks import ladder
from app.services.goals import summaries as goal_pages
from app.services.growth import readiness
from app.services.oneonones import pages as oneonone_pages
from app.services.people import level_history, sso
from app.services.promotions import case_lists
from app.services.todo import pages as todo_pages

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
    todo: todo_pages.TodoList  # what they must do now, most urgent first (app/services/todo/)
    oneonones: oneonone_pages.HomeSummary | None = None  # next 1:1, open action items
    delegation: list[delegation_pages.Waiting] = ()  # rounds waiting for their picks or agreement
    goals: goal_pages.HomeGoals | None = None  # goals awaiting their agreement or due soon


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
        todo=todo_pages.home_panel(person),
        oneonones=oneonone_pages.home_summary(actor),
        delegation=delegation_pages.waiting_for(actor),
        goals=goal_pages.home_goals(actor),
    )


@dataclass(frozen=True)
class PeoplePage:
    """The admin list of people, filtered and paginated."""

    page: Pagination
    search: str
    role: str
    status: str
    links: PersonLinks
    levels: dict[int, str]  # level id → "L1 · Level 1", for the page's people
    to_place: list[User]  # came in through single sign-on, no manager yet
    statuses: tuple[str, ...] = STATUSES
    roles: tuple[Role, ...] = tuple(Role)


def people_page(
    actor: User, *, search: str, role: str, status: str, page: int, per_page: int
) -> PeoplePage:
    query = people.people_query(search=search, role=Role(role) if role else None, status=status)
    found = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return PeoplePage(
        page=found,
        search=search,
        role=role,
        status=status,
        links=person_links(actor),
        levels=_level_names({p.level_id for p in found.items if p.level_id}),
        to_place=sso.awaiting_placement(),
    )


def _level_names(level_ids: set[int]) -> dict[int, str]:
    """The levels of a page of people, named, in one query (none for a page nobody is placed on)."""
    if not level_ids:
        return {}
    rows = db.session.execute(
        select(Level.id, Level.code, Level.title).where(Level.id.in_(level_ids))
    )
    return {level_id: f"{code} · {title}" for level_id, code, title in rows}


@dataclass(frozen=True)
class Growth:
    """Readiness for the person's next level as the viewer may see it: from shared items only
    unless the viewer is the person."""

    readiness: readiness.Readiness
    is_own: bool

    @property
    def enough(self) -> int:
        return self.readiness.count(readiness.Status.ENOUGH)

    @property
    def total(self) -> int:
        return len(self.readiness.competencies)


@dataclass(frozen=True)
class PersonPage:
    """A person's page: their details and, for whoever may see each part, a hub to work from:
    growth, shared evidence, what the viewer said about it, promotion cases and level history.
    A part the viewer may not see is None."""

    person: User
    placement: ladder.Placement | None
    levels: list[level_history.Entry] | None
    links: PersonLinks
    is_own: bool
    growth: Growth | None  # growth.view, once the person is placed
    evidence: shared.SharedEvidence | None  # evidence.view on the person's shared items
    given: list[shared.Given] | None  # the viewer's comments and kudos on those items
    cases: list[case_lists.CaseRow]  # case.view
    oneonones: oneonone_pages.PersonPanel | None = None  # the viewer's 1:1s with the person
    delegation: delegation_pages.Panel | None = None  # delegation.view, or delegation.open
    plan: goal_pages.PlanSummary | None = None  # the growth plan, for whoever follows growth
    feedback_shared: list[feedback_panels.SharedAnswer] = ()  # answers shared with the viewer
    thanks: list = ()  # thanks the person received (public)

    @property
    def has_filter_errors(self) -> bool:
        return bool(self.evidence and self.evidence.errors)


def person_page(
    actor: User,
    person_id: int,
    typed: shared.FilterInput | None = None,
    page: int = 1,
) -> PersonPage:
    person = people.get_person(person_id)
    policy.authorize(actor, "person.view", person)
    is_own = person.id == actor.id
    follows = policy.can(actor, "growth.view", person)
    growth = None
    if follows:
        ready = readiness.readiness(person.id, shared_only=not is_own)
        growth = Growth(ready, is_own) if ready.is_placed else None
    # Evidence is read by the people who follow the person's growth (their line and mentors);
    # the list itself is the policy's filter, so a viewer outside it would see nothing anyway.
    evidence = None
    if follows:
        evidence = shared.shared_evidence(actor, person.id, typed or shared.FilterInput(), page)
    return PersonPage(
        person=person,
        placement=ladder.placement(person.level_id),
        levels=level_history.history(person.id),
        links=person_links(actor),
        is_own=is_own,
        growth=growth,
        evidence=evidence,
        given=shared.given_by(actor, person.id) if follows and not is_own else None,
        cases=case_lists.person_cases(actor, person.id),
        oneonones=oneonone_pages.person_panel(actor, person.id),
        delegation=delegation_pages.panel(actor, person),
        plan=goal_pages.plan_summary(actor, person.id) if follows else None,
        feedback_shared=feedback_panels.shared_with(actor, person.id),
        thanks=feedback_panels.thanks_received(actor, person.id),
    )
