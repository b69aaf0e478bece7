"""Who sees an evidence item, on every page that shows one: they all follow one rule.

For each visibility state (private draft, shared, in the Trash) and each relationship to the
owner, the item page, its history, the lists (timeline, search, Trash, corroboration requests),
notifications, the team page, the growth page and the promotion packet are read through HTTP and
compared with what the rule below says. The rule is written here once, independently of the app,
so a page that drifts from it (shows a draft, hides a shared item from someone who may read it)
fails its row, and the message names the page.

The rule (app/policy/evidence.py, `evidence_readable_by`): the owner sees their items (the Trash
on its own page); anyone else only a shared item out of the Trash, and then only the owner's
managers up the line, their mentors and the peers asked to corroborate it. The head of product
is no reader by role; a promotion packet shows the candidate's shared items to the case's
committee (the head of product and the manager chain) and to the candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CyclePhase, Level, NotificationKind, Role, User, Visibility
from app.services import evidence as evidence_service
from app.services import notifications
from app.services.evidence import conversation
from tests.clock import TODAY
from tests.evidence_helpers import publish_and_place, record
from tests.factories import Person, sign_in
from tests.promotion_helpers import make_case, make_cycle
from tests.web.test_conversation import text_of
from tests.web.test_growth import cells, row_of
from tests.web.test_team import rows

pytestmark = pytest.mark.midday  # the app's today and the item's date must agree

TITLE = "Zanzibar pricing launch"
SEARCH = "zanzibar"

PRIVATE, SHARED, TRASHED = "private draft", "shared", "in the Trash"
STATES = [PRIVATE, SHARED, TRASHED]

OWNER = "owner"
MANAGER = "manager"
SKIP = "skip-level manager"
MENTOR = "mentor"
ASKED = "peer asked to corroborate"
TEAMMATE = "unrelated PM (same manager)"
HEAD = "head of product (outside the line)"
RELATIONSHIPS = [OWNER, MANAGER, SKIP, MENTOR, ASKED, TEAMMATE, HEAD]

READERS = {MANAGER, SKIP, MENTOR, ASKED}  # besides the owner, while shared and not trashed
FOLLOWERS = {MANAGER, SKIP, MENTOR}  # growth.view: the person's line and mentors
LINE = {MANAGER, SKIP}  # the team page lists the owner
PACKET = {OWNER, MANAGER, SKIP, HEAD}  # packet.candidate / packet.committee (published cycle)


def sees(relationship: str, state: str) -> bool:
    """The rule."""
    return relationship == OWNER or (state == SHARED and relationship in READERS)


def expected(relationship: str, state: str) -> dict:
    """What every page shows this viewer, derived from the rule."""
    own = relationship == OWNER
    return {
        "item page": 200 if sees(relationship, state) else 404,
        "item history": 200 if sees(relationship, state) else 404,
        "timeline": own and state != TRASHED,
        "search": own and state != TRASHED,
        "Trash": own and state == TRASHED,
        "corroboration requests": relationship == ASKED and sees(relationship, state),
        "notifications": sees(relationship, state),
        # the owner's recent shared items on the team page; None: the owner is not listed there
        "team page": (1 if sees(relationship, state) else 0) if relationship in LINE else None,
        # the owner's count for the item's competency on their growth page; None: not allowed
        "growth page": (1 if sees(relationship, state) and state != TRASHED else 0)
        if relationship in FOLLOWERS | {OWNER}
        else None,
        # in the packet's evidence; None: no packet for this viewer (a rule of its own)
        "packet": (state == SHARED) if relationship in PACKET else None,
    }


@dataclass(frozen=True)
class Scene:
    people: dict[str, Person]
    item_id: int
    case_id: int


@pytest.fixture
def scene(app, make):
    skip = make.person(name="Sam Skip", role=Role.MANAGER)
    manager = make.person(name="Mona Manager", role=Role.MANAGER, manager=skip)
    mentor = make.person(name="Theo Mentor")
    owner = make.person(name="Olive Owner", manager=manager, mentors=(mentor,))
    people = {
        OWNER: owner,
        MANAGER: manager,
        SKIP: skip,
        MENTOR: mentor,
        ASKED: make.person(name="Cora Peer"),
        TEAMMATE: make.person(name="Uma Teammate", manager=manager),
        HEAD: make.person(name="Hugo Head", role=Role.HEAD),
    }
    publish_and_place(app, list(people.values()), "L1")
    item_id = record(
        app,
        owner,
        title=TITLE,
        body="Priced the Zanzibar plan; trials converted better.",
        competency_keys=["skill-0-0"],
        occurred_on=TODAY - timedelta(days=10),
    )
    with app.app_context():
        owner_user = db.session.get(User, owner.id)
        evidence = evidence_service.get_evidence(item_id)
        conversation.request_corroboration(owner_user, evidence, people[ASKED].id)
        # Everyone has a notification about the item: the inbox decides whether to name it.
        notifications.notify(
            [p.id for p in people.values()],
            NotificationKind.KUDOS,
            actor_id=None,
            evidence_id=item_id,
        )
        db.session.commit()
        levels = dict(db.session.execute(select(Level.code, Level.id)).all())
    cycle_id = make_cycle(app, phase=CyclePhase.PUBLISHED)
    case_id = make_case(
        app, cycle_id, owner, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
    )
    return Scene(people, item_id, case_id)


def put_in_state(app, scene: Scene, state: str) -> None:
    with app.app_context():
        owner = db.session.get(User, scene.people[OWNER].id)
        evidence = evidence_service.get_evidence(scene.item_id)
        if state == PRIVATE:
            evidence.visibility = Visibility.PRIVATE  # made private again after the request
        elif state == TRASHED:
            evidence_service.trash_evidence(owner, evidence)
        db.session.commit()


def observe(client, scene: Scene, relationship: str) -> dict:
    """What the pages show the signed-in viewer about the item."""
    item = scene.item_id
    owner = scene.people[OWNER]

    def shows(path: str) -> bool:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return TITLE in text_of(response)

    return {
        "item page": client.get(f"/evidence/{item}").status_code,
        "item history": client.get(f"/evidence/{item}/history").status_code,
        "timeline": shows("/evidence/"),
        "search": shows(f"/evidence/?q={SEARCH}"),
        "Trash": shows("/evidence/trash"),
        "corroboration requests": shows("/corroborations"),
        "notifications": shows("/notifications"),
        "team page": team_count(client, owner),
        "growth page": growth_count(client, owner, relationship),
        "packet": in_packet(client, scene.case_id, relationship),
    }


def team_count(client, owner: Person) -> int | None:
    response = client.get("/team")
    if response.status_code == 403:
        return None
    listed = rows(response.get_data(as_text=True)).get(owner.name)
    return None if listed is None else int(listed[1])


def growth_count(client, owner: Person, relationship: str) -> int | None:
    path = "/growth" if relationship == OWNER else f"/growth/{owner.id}"
    response = client.get(path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, (path, response.status_code)
    return int(cells(row_of(response.get_data(as_text=True), "Skill 0.0"))[1])


def in_packet(client, case_id: int, relationship: str) -> bool | None:
    view = "candidate" if relationship == OWNER else "committee"
    response = client.get(f"/cases/{case_id}/packet/preview?view={view}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.status_code
    return TITLE in text_of(response)


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
@pytest.mark.parametrize("state", STATES)
def test_every_page_agrees_with_the_rule(app, client, scene, state, relationship):
    put_in_state(app, scene, state)
    sign_in(client, scene.people[relationship])
    seen = observe(client, scene, relationship)
    wanted = expected(relationship, state)
    drifted = {page: (seen[page], wanted[page]) for page in wanted if seen[page] != wanted[page]}
    assert drifted == {}, f"{relationship}, {state}: page → (shows, rule says) {drifted}"


def test_the_owner_is_told_the_truth_about_who_sees_a_draft(app, client, scene):
    put_in_state(app, scene, PRIVATE)
    sign_in(client, scene.people[OWNER])
    page = text_of(client.get(f"/evidence/{scene.item_id}"))
    assert "Not yet: only you can see it" in page
    assert re.search(r"Cora Peer: Waiting for an answer", page)  # asked while it was shared
    assert "Share it first" in page  # and asking again needs sharing again
