"""Growth plans through HTTP: who sees and changes what (bodies, not only statuses), bad input,
a stale save, evidence linked from both pages, the panels on other pages, and query counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Goal, GoalStatus, Role, Visibility
from tests.evidence_helpers import publish_and_place, record
from tests.factories import Person, sign_in
from tests.goal_helpers import agree, link, move, propose
from tests.queries import count_queries

pytestmark = pytest.mark.midday


@dataclass(frozen=True)
class Plan:
    pm: Person  # Bea: reports to Ben; mentored by Arun; Hana is Ben's manager (skip-level)
    manager: Person
    skip: Person
    mentor: Person
    outside_head: Person
    peer: Person
    stranger: Person
    goal_id: int
    shared_id: int  # linked, shared with the manager and mentors
    draft_id: int  # linked, a private draft


@pytest.fixture
def plan(app, org, make) -> Plan:
    peer = make.person(name="Pia Peer", manager=org.manager_b, email="pia@example.com")
    stranger = make.person(name="Sam Stranger", email="sam@example.com")
    outside = make.person(name="Otto Head", role=Role.HEAD, email="otto@example.com")
    publish_and_place(app, [org.pm_b1, peer, org.pm_a1], "L1")
    shared = record(app, org.pm_b1, title="Shared discovery notes")
    draft = record(app, org.pm_b1, title="Secret draft", visibility=Visibility.PRIVATE)
    goal_id = propose(
        app, org.manager_b, org.pm_b1, change="Lead discovery", measure="Win rate up to 40%"
    )
    agree(app, org.pm_b1, goal_id)
    link(app, org.pm_b1, goal_id, shared)
    link(app, org.pm_b1, goal_id, draft)
    return Plan(
        org.pm_b1,
        org.manager_b,
        org.head,
        org.pm_a2,
        outside,
        peer,
        stranger,
        goal_id,
        shared,
        draft,
    )


READERS = ("pm", "manager", "skip", "mentor")
OUTSIDERS = ("outside_head", "peer", "stranger")


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_who_sees_the_plan_and_the_goal(client, plan, who):
    sign_in(client, getattr(plan, who))
    for path in (f"/people/{plan.pm.id}/goals", f"/goals/{plan.goal_id}"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        if who in OUTSIDERS:
            assert response.status_code == 404
            assert "Lead discovery" not in body
            continue
        assert response.status_code == 200
        assert "Lead discovery" in body and "Win rate up to 40%" in body
        may_change = who in ("pm", "manager")
        assert ("Edit goal" in body) is (may_change and "goals/" in path and "people" not in path)
        assert ("Change status" in body) is (may_change and "people" not in path)
        assert ("New goal" in body) is (may_change and "people" in path)
    goal_page = client.get(f"/goals/{plan.goal_id}").get_data(as_text=True)
    if who in READERS:
        assert "Shared discovery notes" in goal_page
        assert ("Secret draft" in goal_page) is (who == "pm")
        assert ("(2)" in goal_page) is (who == "pm")
        assert "Ben Manager" in goal_page and "Bea Pm" in goal_page  # proposed and agreed


@pytest.mark.parametrize("who", ("skip", "mentor", *OUTSIDERS))
def test_readers_and_outsiders_change_nothing(app, client, plan, who):
    sign_in(client, getattr(plan, who))
    attempts = [
        (
            f"/goals/{plan.goal_id}/edit",
            {"competency_key": "skill-0-0", "change": "x", "measure": "y", "revision": "3"},
        ),
        (f"/goals/{plan.goal_id}/status", {"status": "dropped", "note": "no", "revision": "3"}),
        (f"/goals/{plan.goal_id}/evidence/{plan.shared_id}/unlink", {}),
        (f"/goals/{plan.goal_id}/evidence", {"evidence_id": str(plan.shared_id)}),
        (
            f"/people/{plan.pm.id}/goals/new",
            {"competency_key": "skill-0-0", "change": "x", "measure": "y"},
        ),
    ]
    for path, data in attempts:
        assert client.post_form(path, data).status_code in (403, 404), path
    with app.app_context():
        goal = db.session.get(Goal, plan.goal_id)
        assert (goal.change, goal.status) == ("Lead discovery", GoalStatus.NOT_STARTED)
        assert db.session.scalar(select(db.func.count(Goal.id))) == 1


def test_the_manager_proposes_from_the_plan_and_the_pm_agrees(app, client, plan):
    sign_in(client, plan.manager)
    page = client.get(f"/people/{plan.pm.id}/goals").get_data(as_text=True)
    assert "The outcome, not the activity" in page  # the measure's hint
    response = client.post_form(
        f"/people/{plan.pm.id}/goals/new",
        {
            "competency_key": "skill-1-0",
            "target_level_id": "",
            "change": "Own the pricing roadmap",
            "measure": "Net revenue retention from 98% to 104%",
            "target_on": "2027-06-30",
        },
    )
    assert response.status_code == 302
    goal_url = response.headers["Location"]
    page = client.get(goal_url).get_data(as_text=True)
    assert "Awaiting agreement" in page and "Agree goal" not in page
    client.post_form("/logout")
    sign_in(client, plan.pm)
    page = client.get(goal_url).get_data(as_text=True)
    assert "Ben Manager proposed this goal" in page
    revision = _revision(page)
    assert client.post_form(goal_url + "/agree", {"revision": revision}).status_code == 302
    page = client.get(goal_url).get_data(as_text=True)
    assert "Agree goal" not in page and "Agreed by" in page
    assert "Bea Pm on" in page


def test_an_empty_measure_is_refused_next_to_its_field(app, client, plan):
    sign_in(client, plan.pm)
    response = client.post_form(
        f"/people/{plan.pm.id}/goals/new",
        {"competency_key": "skill-0-1", "change": "Write strategy", "measure": "   "},
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="measure-error"' in body and "how the outcome will be measured" in body
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Goal.id))) == 1


def test_done_without_an_outcome_is_refused_and_with_one_it_shows(app, client, plan):
    sign_in(client, plan.pm)
    url = f"/goals/{plan.goal_id}"
    move(client.application, plan.pm, plan.goal_id, GoalStatus.IN_PROGRESS)
    revision = _revision(client.get(url).get_data(as_text=True), form="status")
    response = client.post_form(
        url + "/status", {"status": "done", "note": "", "revision": revision}
    )
    assert response.status_code == 400
    assert "Say what the outcome was" in response.get_data(as_text=True)
    response = client.post_form(
        url + "/status", {"status": "done", "note": "Win rate 43% over Q1", "revision": revision}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Outcome achieved" in page and "Win rate 43% over Q1" in page


def test_a_stale_edit_answers_409_showing_both_and_keeps_the_saved_one(app, client, plan):
    sign_in(client, plan.pm)
    url = f"/goals/{plan.goal_id}/edit"
    revision = _revision(client.get(url).get_data(as_text=True))
    with app.app_context():  # the manager saves meanwhile
        from app.models import User
        from app.services import goals as service
        from tests.goal_helpers import goal_input

        goal = db.session.get(Goal, plan.goal_id)
        service.update_goal(
            db.session.get(User, plan.manager.id),
            goal,
            goal_input(change="Manager's change", measure="Manager's measure"),
            expected_revision=goal.revision,
        )
        db.session.commit()
    mine = {
        "competency_key": "skill-0-0",
        "target_level_id": "",
        "change": "My change",
        "measure": "My measure",
        "revision": revision,
    }
    response = client.post_form(url, mine)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Manager&#39;s change" in body and "My change" in body
    assert "Saved (theirs)" in body and "Yours" in body
    with app.app_context():
        assert db.session.get(Goal, plan.goal_id).change == "Manager's change"
    assert client.post_form(url, {**mine, "revision": _revision(body)}).status_code == 302


def test_the_owner_links_an_item_from_the_evidence_page(app, client, plan):
    item = record(app, plan.pm, title="Interview synthesis", competency_keys=["skill-0-0"])
    sign_in(client, plan.pm)
    page = client.get(f"/evidence/{item}").get_data(as_text=True)
    assert "Link to your goal" in page and "Lead discovery" in page
    response = client.post_form(f"/evidence/{item}/goals", {"goal_id": str(plan.goal_id)})
    assert response.status_code == 302
    page = client.get(f"/evidence/{item}").get_data(as_text=True)
    assert "Link to your goal" not in page
    assert f'href="/goals/{plan.goal_id}"' in page
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.action)
            .where(AuditEvent.action == "goal.evidence_linked")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    client.post_form("/logout")
    sign_in(client, plan.manager)  # the manager sees the link, and no form
    page = client.get(f"/evidence/{item}").get_data(as_text=True)
    assert f'href="/goals/{plan.goal_id}"' in page and "Link to your goal" not in page


def test_the_person_page_home_and_growth_page_show_the_plan(app, client, plan):
    soon = date.today() + timedelta(days=10)
    propose(
        app, plan.pm, plan.pm, competency_key="skill-1-1", change="Coach juniors", target_on=soon
    )
    sign_in(client, plan.manager)
    person = client.get(f"/people/{plan.pm.id}").get_data(as_text=True)
    assert "Growth plan" in person and f"/people/{plan.pm.id}/goals" in person
    assert "2 not started" in person and soon.strftime("%b %Y") in person
    home = client.get("/").get_data(as_text=True)
    assert "Awaiting your agreement" in home and "Coach juniors" in home
    assert "Due within 30 days" in home
    growth = client.get(f"/growth/{plan.pm.id}").get_data(as_text=True)
    assert "Growth plan" in growth and "Lead discovery" in growth
    assert "Readiness for" in growth
    client.post_form("/logout")
    sign_in(client, plan.peer)
    assert client.get(f"/people/{plan.pm.id}").status_code in (200, 404)
    assert "Lead discovery" not in client.get(f"/people/{plan.pm.id}").get_data(as_text=True)


def _bulk(app, person: Person, manager: Person, n: int) -> None:
    """n agreed goals, each with a linked evidence item, straight into the tables."""
    from app.models import Evidence, EvidenceKind, User
    from app.models.goals import goal_evidence

    with app.app_context():
        template = db.session.scalars(select(Goal).where(Goal.person_id == person.id)).first()
        owner = db.session.get(User, person.id)
        for i in range(n):
            goal = Goal(
                person_id=person.id,
                framework_id=template.framework_id,
                competency_key="skill-0-1",
                target_level_id=template.target_level_id,
                change=f"Change {i}",
                measure=f"Measure {i}",
                status=list(GoalStatus)[i % 4],
                created_by_id=manager.id,
                agreed_by_id=person.id if i % 2 else None,
                agreed_at=template.agreed_at if i % 2 else None,
                target_on=date.today() + timedelta(days=i),
            )
            item = Evidence(
                owner_id=owner.id,
                title=f"Item {i}",
                occurred_on=date.today(),
                kind=EvidenceKind.LAUNCH,
                visibility=Visibility.SHARED,
            )
            db.session.add_all([goal, item])
            db.session.flush()
            db.session.execute(goal_evidence.insert().values(goal_id=goal.id, evidence_id=item.id))
        db.session.commit()


@pytest.mark.parametrize("path", ["/people/{pm}/goals", "/growth/{pm}", "/people/{pm}", "/"])
@pytest.mark.parametrize("who", ["pm", "manager"])
def test_pages_use_as_many_queries_for_5_and_200_goals(app, client, plan, path, who):
    sign_in(client, getattr(plan, who))
    path = path.format(pm=plan.pm.id)
    if path.startswith("/growth") and who == "pm":
        path = "/growth"
    # 5 goals in all (one from the fixture); the person page also lists the evidence the bulk
    # goals link, a page of 10 at a time: it starts past one page so that both counts page.
    first = 11 if path == f"/people/{plan.pm.id}" else 4
    _bulk(app, plan.pm, plan.manager, first)
    few = count_queries(app, client, path)
    _bulk(app, plan.pm, plan.manager, 200 - first - 1)
    assert count_queries(app, client, path) == few


def _revision(page: str, form: str = "") -> str:
    found = re.findall(r'name="revision"[^>]*value="(\d+)"', page)
    assert found, "no revision field"
    return found[-1] if form == "status" else found[0]


def test_done_and_dropped_goals_come_a_page_at_a_time(app, client, plan):
    _bulk(app, plan.pm, plan.manager, 100)  # a quarter each of the four statuses
    sign_in(client, plan.manager)
    first = client.get(f"/people/{plan.pm.id}/goals").get_data(as_text=True)
    assert "page 1 of 3 (50 in all)" in first and "Older" in first and "Newer" not in first
    assert first.count('class="goal-card goal-in_progress"') == 25  # open goals: all of them
    closed = first.count('class="goal-card goal-done"') + first.count("goal-card goal-dropped")
    assert closed == 20
    last = client.get(f"/people/{plan.pm.id}/goals?closed=3").get_data(as_text=True)
    assert "page 3 of 3" in last and "Newer" in last and "Older" not in last
    assert client.get(f"/people/{plan.pm.id}/goals?closed=99").status_code == 200


def test_agreeing_a_goal_changed_meanwhile_answers_409_with_the_saved_goal(app, client, plan):
    goal_id = propose(app, plan.pm, plan.pm, competency_key="skill-1-0", change="First wording")
    sign_in(client, plan.manager)
    url = f"/goals/{goal_id}"
    revision = _revision(client.get(url).get_data(as_text=True))
    with app.app_context():  # Bea rewrites it meanwhile
        from app.models import User
        from app.services import goals as service
        from tests.goal_helpers import goal_input

        goal = db.session.get(Goal, goal_id)
        service.update_goal(
            db.session.get(User, plan.pm.id),
            goal,
            goal_input(competency_key="skill-1-0", change="Second wording"),
            expected_revision=goal.revision,
        )
        db.session.commit()
    response = client.post_form(url + "/agree", {"revision": revision})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Not agreed yet" in body and "Second wording" in body
    with app.app_context():
        assert db.session.get(Goal, goal_id).agreed_by_id is None


def _bulk_links(app, plan: Plan, n: int) -> None:
    """n more shared items of the PM's, each linked to the fixture's goal."""
    from app.models import Evidence, EvidenceKind
    from app.models.goals import goal_evidence

    with app.app_context():
        for i in range(n):
            item = Evidence(
                owner_id=plan.pm.id,
                title=f"Linked {i}",
                occurred_on=date.today(),
                kind=EvidenceKind.LAUNCH,
                visibility=Visibility.SHARED,
            )
            db.session.add(item)
            db.session.flush()
            db.session.execute(
                goal_evidence.insert().values(goal_id=plan.goal_id, evidence_id=item.id)
            )
        db.session.commit()


@pytest.mark.parametrize("who", ["pm", "mentor"])
def test_the_goal_page_uses_as_many_queries_for_5_and_200_linked_items(app, client, plan, who):
    sign_in(client, getattr(plan, who))
    _bulk_links(app, plan, 3)
    few = count_queries(app, client, f"/goals/{plan.goal_id}")
    _bulk_links(app, plan, 195)
    assert count_queries(app, client, f"/goals/{plan.goal_id}") == few


def test_the_inbox_tells_of_a_proposed_and_an_agreed_goal(app, client, plan):
    goal_id = propose(app, plan.pm, plan.pm, competency_key="skill-1-0", change="Pricing")
    sign_in(client, plan.manager)
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "proposed a goal to agree on" in inbox
    assert f'href="/goals/{goal_id}"' in inbox and "Skill 1.0, Bea Pm" in inbox
    assert "agreed a goal on" in inbox  # the fixture's goal, Ben proposed it, Bea agreed
    client.post_form("/logout")
    sign_in(client, plan.pm)
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "proposed a goal to agree on" in inbox and "Skill 0.0, your growth plan" in inbox


def test_the_manager_links_a_shared_item_from_the_goal_page_but_never_a_draft(app, client, plan):
    tagged = record(app, plan.pm, title="Tagged interview notes", competency_keys=["skill-0-0"])
    other = record(app, plan.pm, title="Pricing memo", competency_keys=["skill-1-1"])
    draft = record(app, plan.pm, title="Another draft", visibility=Visibility.PRIVATE)
    sign_in(client, plan.manager)
    url = f"/goals/{plan.goal_id}"
    page = client.get(url).get_data(as_text=True)
    assert (
        '<optgroup label="Tagged Skill 0.0">' in page and '<optgroup label="Other items">' in page
    )
    assert page.index("Tagged interview notes") < page.index("Pricing memo")
    assert "Another draft" not in page
    assert client.post_form(url + "/evidence", {"evidence_id": str(other)}).status_code == 302
    response = client.post_form(
        url + "/evidence", {"evidence_id": str(draft)}, follow_redirects=True
    )
    assert "Choose one of the person" in response.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "Pricing memo" in page and "not tagged with Skill 0.0" in page
    assert tagged


def test_the_edit_form_opens_with_the_saved_goal(client, plan):
    sign_in(client, plan.manager)
    page = client.get(f"/goals/{plan.goal_id}/edit").get_data(as_text=True)
    assert "Lead discovery</textarea>" in page and "Win rate up to 40%</textarea>" in page
    assert 'value="2027-03-31"' in page


def _meet_on_the_goal(app, plan, lead, count: int = 1, first: int = 0) -> list[int]:
    """`count` meetings of lead and Bea whose agenda links the goal; their ids."""
    from app.models import AgendaItem, CoachingLink, Meeting, User
    from app.services.oneonones import content, spaces
    from tests.oneonones_helpers import at

    with app.app_context():
        lead_user = db.session.get(User, lead.id)
        pair = spaces.open_space(lead_user, plan.pm.id)
        made = []
        for number in range(count):
            meeting = Meeting(
                one_on_one_id=pair.id, starts_at=at(-first - number - 1), created_by_id=lead.id
            )
            db.session.add(meeting)
            db.session.flush()
            if number == 0:
                content.add_agenda_item(lead_user, meeting.id, "Goal", f"g:{plan.goal_id}")
            else:
                item = AgendaItem(meeting_id=meeting.id, author_id=lead.id, text="Goal")
                db.session.add(item)
                db.session.flush()
                db.session.add(CoachingLink(agenda_item_id=item.id, goal_id=plan.goal_id))
            made.append(meeting.id)
        db.session.commit()
        return made


def _open_board(app, plan) -> None:
    from app.models import User
    from app.services import delegation

    with app.app_context():
        delegation.open_board(db.session.get(User, plan.manager.id), plan.pm.id)
        db.session.commit()


@pytest.mark.parametrize(
    "who, board, pairs",
    [
        ("pm", True, ("manager", "mentor")),
        ("manager", True, ("manager",)),
        ("skip", True, ()),
        ("mentor", False, ("mentor",)),
    ],
)
def test_the_goal_page_links_the_board_and_the_viewer_s_own_1on1s_about_it(
    app, client, plan, who, board, pairs
):
    _open_board(app, plan)
    meetings = {
        lead: _meet_on_the_goal(app, plan, getattr(plan, lead))[0] for lead in ("manager", "mentor")
    }
    sign_in(client, getattr(plan, who))
    page = client.get(f"/goals/{plan.goal_id}").get_data(as_text=True)
    assert (f'href="/people/{plan.pm.id}/delegation"' in page) is board
    shown = {
        lead
        for lead, meeting_id in meetings.items()
        if f'/one-on-ones/meetings/{meeting_id}"' in page
    }
    assert shown == set(pairs)
    assert ("Discussed in 1:1s" in page) is bool(pairs)


def test_the_goal_page_uses_as_many_queries_for_5_and_200_meetings_about_it(app, client, plan):
    _open_board(app, plan)
    sign_in(client, plan.manager)
    _meet_on_the_goal(app, plan, plan.manager, 5)
    few = count_queries(app, client, f"/goals/{plan.goal_id}")
    _meet_on_the_goal(app, plan, plan.manager, 195, first=5)
    _meet_on_the_goal(app, plan, plan.mentor, 20)  # not the manager's: never shown to him
    page = client.get(f"/goals/{plan.goal_id}").get_data(as_text=True)
    assert page.count("/one-on-ones/meetings/") == 200
    assert count_queries(app, client, f"/goals/{plan.goal_id}") == few
