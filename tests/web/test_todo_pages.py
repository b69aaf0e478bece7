"""The to-do pages: home's To do and the navigation's count, the full list, and the head of
product's "who has not done it yet" with its nudges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CyclePhase, OutboundMessage, PhaseDeadline
from app.models.base import utcnow
from tests.factories import sign_in
from tests.promotion_helpers import cycle_with_cases


@pytest.fixture
def cycle(app, org):
    data = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    with app.app_context():
        db.session.add(
            PhaseDeadline(
                cycle_id=data.cycle_id,
                phase=CyclePhase.SELF_ASSESSMENT,
                due_at=utcnow() - timedelta(hours=1),
            )
        )
        db.session.commit()
    return data


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(OutboundMessage)).scalar_one()


def test_home_opens_with_to_do_and_the_navigation_counts_it(app, org, client, cycle):
    sign_in(client, org.pm_a1)
    page = client.get("/").get_data(as_text=True)
    assert "To do</h2>" in page
    assert "Your self-assessment" in page
    assert "Overdue</strong>: was due" in page
    assert '<span class="nav-count">1<span class="visually-hidden"> to do</span>' in page
    assert f'href="/cases/{cycle.case_ids[org.pm_a1.id]}/self-assessment"' in page
    full = client.get("/todo").get_data(as_text=True)
    assert "Your self-assessment" in full and "1 thing to do" in full
    other = app.test_client()
    sign_in(other, org.pm_a2)
    page = other.get("/").get_data(as_text=True)
    assert "To do</h2>" not in page and "to do</span>" not in page


def test_the_head_sees_who_has_not_done_it_from_the_cycle_page(app, org, client, cycle):
    sign_in(client, org.head)
    cycle_page = client.get(f"/promotions/{cycle.cycle_id}").get_data(as_text=True)
    assert f'href="/promotions/{cycle.cycle_id}/waiting"' in cycle_page
    page = client.get(f"/promotions/{cycle.cycle_id}/waiting").get_data(as_text=True)
    assert "Alice Pm" in page and "Bea Pm" in page and "Arun Pm" not in page
    assert "Self-assessment not submitted yet" in page and "0 of 4" not in page
    assert "2 people have not done their task yet" in page
    assert "Email is off" in page  # a nudge would reach nobody: no buttons
    assert "Nudge all" not in page


def test_nudges_go_once_a_day_per_person(app, org, client, cycle, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    sign_in(client, org.head)
    url = f"/promotions/{cycle.cycle_id}/waiting/nudge"
    answer = client.post_form(url, {"phase": "self_assessment", "person_id": org.pm_a1.id})
    assert answer.status_code == 302
    assert "Nudged 1 person." in client.get(answer.location).get_data(as_text=True)
    assert outbox_count(app) == 1
    page = client.get(f"/promotions/{cycle.cycle_id}/waiting").get_data(as_text=True)
    assert "Nudged today" in page and "Nudge all (1 not nudged today)" in page

    everyone = {"phase": "self_assessment", "all": "1"}
    answer = client.post_form(url, everyone)  # only Bea is left to nudge today
    assert "Nudged 1 person." in client.get(answer.location).get_data(as_text=True)
    answer = client.post_form(url, everyone)
    assert "Nobody was nudged" in client.get(answer.location).get_data(as_text=True)
    assert outbox_count(app) == 2


def test_only_the_head_may_look_or_nudge(app, org, client, cycle):
    sign_in(client, org.manager_a)
    assert client.get(f"/promotions/{cycle.cycle_id}/waiting").status_code == 403
    url = f"/promotions/{cycle.cycle_id}/waiting/nudge"
    assert client.post_form(url, {"phase": "self_assessment"}).status_code == 403
    assert outbox_count(app) == 0


def test_a_phase_that_is_not_the_current_one_cannot_be_nudged(app, org, client, cycle):
    sign_in(client, org.head)
    page = client.get(f"/promotions/{cycle.cycle_id}/waiting?phase=nominations")
    assert "This phase is over" in page.get_data(as_text=True)
    url = f"/promotions/{cycle.cycle_id}/waiting/nudge"
    answer = client.post_form(url, {"phase": "nominations", "all": "1"})
    assert "only the tasks of the phase it is in" in client.get(answer.location).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "data",
    [
        {"phase": "self_assessment", "person_id": "not a number"},
        {"phase": "self_assessment", "person_id": "99999999999999999999999"},
        {"phase": "published"},
        {"phase": "x" * 5000},
        {"phase": "self_assessment", "person_id": "-1"},
        {"phase": "self_assessment"},  # neither a person nor "all"
    ],
)
def test_bad_nudges_are_refused_and_send_nothing(app, org, client, cycle, monkeypatch, data):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    sign_in(client, org.head)
    answer = client.post_form(f"/promotions/{cycle.cycle_id}/waiting/nudge", data)
    assert answer.status_code in (302, 400, 404), answer.status_code
    assert outbox_count(app) == 0
