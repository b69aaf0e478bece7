"""Notifications name what happened ("Maya Okafor moved H1 2027 to Calibration: Ravi Patel's
case"), older rows without the stored phase or decision still read sensibly, and the demo starts
each person with a handful unread, the newest ones."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, email_for
from app.extensions import db
from app.models import Notification, NotificationKind, User
from tests import promotion_helpers as ph
from tests.demo_copy import load_demo
from tests.factories import Person, sign_in


def inbox_lines(client) -> list[str]:
    """Every notification's sentence, over all the inbox's pages, as a reader sees it."""
    lines, number = [], 1
    while True:
        page = client.get(f"/notifications?page={number}").get_data(as_text=True)
        found = re.findall(r'<p class="notification-text">(.*?)</p>', page, re.S)
        lines += [" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found]
        if 'rel="next"' not in page:
            return lines
        number += 1


def demo_client(app, name: str):
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email_for(name)))
    sign_in(client, Person(user.id, user.email, user.name, user.role, DEMO_PASSWORD))
    return client


@pytest.fixture
def demo(app):
    load_demo(app)


def test_the_demo_starts_each_person_with_a_handful_unread_the_newest(app, demo):
    with app.app_context():
        people = db.session.scalars(select(User)).all()
        for person in people:
            rows = db.session.execute(
                select(Notification.read_at)
                .where(Notification.recipient_id == person.id)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
            ).all()
            unread = [read_at is None for (read_at,) in rows]
            assert min(3, len(rows)) <= sum(unread) <= 8, (person.name, sum(unread), len(rows))
            # The unread ones are the newest: no read notification above an unread one.
            assert unread == sorted(unread, reverse=True), person.name
        assert len(people) == 17


def test_demo_notifications_name_what_happened(app, demo):
    daniel = inbox_lines(demo_client(app, "Daniel Brandt"))  # manages Kwame, Ravi and Hannah
    for line in (
        "Maya Okafor moved H1 2027 to Calibration: Ravi Patel's case",
        "Maya Okafor moved H1 2027 to Manager assessment: Hannah Cole's case",
        "Maya Okafor moved H2 2026 to Published: Kwame Mensah's case",
        "Ravi Patel submitted their self-assessment for Senior Product Manager in H1 2027",
        "Maya Okafor recorded the decision “Promote” in H2 2026: Kwame Mensah's case",
        "Maya Okafor added you to the calibration session Senior PM calibration",
        "Maya Okafor locked the calibration session Second-half calibration",
    ):
        assert line in daniel
    assert not any("moved the promotion cycle on" in line for line in daniel)
    assert len(set(daniel)) == len(daniel)  # no two notifications read the same

    kwame = inbox_lines(demo_client(app, "Kwame Mensah"))
    for line in (
        "Daniel Brandt nominated you for Senior Product Manager in H2 2026",
        "Maya Okafor moved H2 2026 to Calibration: your case",
        "Maya Okafor published the outcome of your case in H2 2026",
    ):
        assert line in kwame
    assert any(re.fullmatch(r"Daniel Brandt gave kudos for “.+”", line) for line in kwame)
    assert any(re.fullmatch(r"\w+ \w+ asked you to corroborate “.+”", line) for line in kwame)
    assert any(re.fullmatch(r"\w+ \w+ confirmed “.+”", line) for line in kwame)
    lena = inbox_lines(demo_client(app, "Lena Fischer"))  # mentors Kwame
    assert any(re.fullmatch(r"Kwame Mensah shared “.+”", line) for line in lena)


def test_rows_from_before_the_detail_was_kept_still_read_sensibly(app, org, client):
    data = ph.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]
    with app.app_context():
        for actor, kind in (
            (org.pm_a1, NotificationKind.CASE_PHASE),  # a self-assessment, before its own kind
            (org.head, NotificationKind.CASE_PHASE),  # a phase move, phase unknown
            (org.head, NotificationKind.CASE_DECIDED),  # a decision, outcome unknown
        ):
            db.session.add(
                Notification(
                    recipient_id=org.manager_a.id, actor_id=actor.id, kind=kind, case_id=case_id
                )
            )
        db.session.commit()
    sign_in(client, org.manager_a)
    lines = inbox_lines(client)
    assert sorted(lines) == [
        "Alice Pm submitted their self-assessment for Level 2 in H1 2027",
        f"{org.head.name} moved H1 2027 on: Alice Pm's case",
        f"{org.head.name} recorded a decision in H1 2027: Alice Pm's case",
    ]
