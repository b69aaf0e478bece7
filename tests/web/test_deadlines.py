"""Due dates, meeting times and time zones through HTTP: typed in the person's zone, stored in
UTC, shown in each viewer's zone; a change needs a reason (400 without), a stale one is a 409;
"Your settings" sets the zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CalibrationSession,
    CyclePhase,
    DecisionLogEntry,
    FrameworkVersion,
    PromotionCycle,
    User,
)
from app.services.promotions import deadlines
from tests import promotion_helpers as ph
from tests.factories import sign_in

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def text(response) -> str:
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def set_zone(app, person, zone: str) -> None:
    with app.app_context():
        db.session.get(User, person.id).time_zone = zone
        db.session.commit()


def due(app, cycle_id: int, phase: CyclePhase):
    with app.app_context():
        return deadlines.due_at(cycle_id, phase)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def data(app, org):
    return ph.cycle_with_cases(app, org, phase=CyclePhase.NOMINATIONS)


def test_opening_a_cycle_reads_the_due_date_in_the_heads_zone(app, org, client):
    ph.publish_sample(app)
    with app.app_context():
        version_id = db.session.scalar(select(FrameworkVersion.id))
    set_zone(app, org.head, "Europe/Berlin")
    sign_in(client, org.head)
    response = client.post_form(
        "/promotions/new",
        {"name": "H1 2027", "version_ids": [version_id], "due_at": "2027-03-12T17:00"},
    )
    assert response.status_code == 302
    with app.app_context():
        cycle_id = db.session.scalar(select(PromotionCycle.id))
    assert due(app, cycle_id, CyclePhase.NOMINATIONS) == datetime(2027, 3, 12, 16, tzinfo=UTC)
    page = text(client.get(f"/promotions/{cycle_id}"))
    assert "Nominations is due Fri 12 Mar 2027, 17:00 CET" in page
    assert "H1 2027" in text(client.get("/promotions")) and "due Fri 12 Mar 2027, 17:00 CET" in (
        text(client.get("/promotions"))
    )


def test_each_viewer_sees_the_date_in_their_own_zone(app, org, client, data):
    with app.app_context():
        deadlines.set_due(
            db.session.get(User, org.head.id),
            data.cycle_id,
            CyclePhase.NOMINATIONS,
            datetime(2027, 3, 12, 16, tzinfo=UTC),
        )
        db.session.commit()
    set_zone(app, org.manager_a, "America/New_York")
    sign_in(client, org.manager_a)
    page = text(client.get(f"/promotions/{data.cycle_id}"))
    assert "Nominations is due Fri 12 Mar 2027, 11:00 EST" in page
    body = client.get(f"/promotions/{data.cycle_id}").get_data(as_text=True)
    assert f"/promotions/{data.cycle_id}/dates/" not in body  # only the head changes them


def test_moving_on_sets_when_the_next_phase_is_due(app, org, client, data):
    sign_in(client, org.head)
    with app.app_context():
        revision = db.session.get(PromotionCycle, data.cycle_id).revision
    response = client.post_form(
        f"/promotions/{data.cycle_id}/phase",
        {"to_phase": "self_assessment", "revision": revision, "due_at": "2027-03-20T12:00"},
    )
    assert response.status_code == 302
    assert due(app, data.cycle_id, CyclePhase.SELF_ASSESSMENT) == datetime(
        2027, 3, 20, 12, tzinfo=UTC
    )
    page = text(client.get(f"/cases/{data.case_ids[org.pm_a1.id]}"))
    assert "Self-assessment is due Sat 20 Mar 2027, 12:00 UTC" in page


def test_a_time_the_clocks_skip_is_refused_by_the_field(app, org, client, data):
    set_zone(app, org.head, "America/New_York")
    sign_in(client, org.head)
    response = client.post_form(
        f"/promotions/{data.cycle_id}/dates/nominations",
        {"due_at": "2027-03-14T02:30", "reason": "Earlier", "revision": 0},
    )
    assert response.status_code == 400
    assert "does not exist in America/New_York" in text(response)
    assert due(app, data.cycle_id, CyclePhase.NOMINATIONS) is None


def test_changing_a_date_asks_why_and_logs_it(app, org, client, data):
    sign_in(client, org.head)
    url = f"/promotions/{data.cycle_id}/dates/calibration"
    assert client.get(url).status_code == 200
    refused = client.post_form(url, {"due_at": "2027-04-01T15:00", "reason": "", "revision": 0})
    assert refused.status_code == 400
    assert "Say why the date changes" in text(refused)
    saved = client.post_form(
        url, {"due_at": "2027-04-01T15:00", "reason": "Board meeting moved", "revision": 0}
    )
    assert saved.status_code == 302
    assert "Calibration is now due Thu 1 Apr 2027, 15:00 UTC" in text(client.get(saved.location))
    with app.app_context():
        entry = db.session.scalars(
            select(DecisionLogEntry).order_by(DecisionLogEntry.id.desc())
        ).first()
        assert (entry.action, entry.reason) == ("deadline.set", "Board meeting moved")
    log = text(client.get(f"/promotions/{data.cycle_id}/log"))
    assert "Due date set" in log and "Board meeting moved" in log


def test_a_stale_change_is_a_conflict_that_shows_their_date(app, org, client, data):
    sign_in(client, org.head)
    url = f"/promotions/{data.cycle_id}/dates/decisions"
    client.post_form(url, {"due_at": "2027-04-10T15:00", "reason": "First", "revision": 0})
    stale = client.post_form(url, {"due_at": "2027-04-11T15:00", "reason": "Mine", "revision": 0})
    assert stale.status_code == 409
    assert "Their date: Sat 10 Apr 2027, 15:00 UTC" in text(stale)
    assert due(app, data.cycle_id, CyclePhase.DECISIONS) == datetime(2027, 4, 10, 15, tzinfo=UTC)


def test_only_the_head_of_product_changes_dates(app, org, client, data):
    sign_in(client, org.manager_a)
    url = f"/promotions/{data.cycle_id}/dates/nominations"
    assert client.get(url).status_code in (403, 404)
    assert client.post_form(url, {"due_at": "2027-04-10T15:00", "reason": "x"}).status_code in (
        403,
        404,
    )


def test_a_published_phase_has_no_date_page(app, org, client, data):
    sign_in(client, org.head)
    assert client.get(f"/promotions/{data.cycle_id}/dates/published").status_code == 404


def test_a_session_meeting_time_is_planned_and_shown(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.MANAGER_ASSESSMENT)
    set_zone(app, org.head, "Asia/Kolkata")
    sign_in(client, org.head)
    response = client.post_form(
        f"/promotions/{data.cycle_id}/sessions/new",
        {
            "name": "Senior PM",
            "facilitator_id": org.head.id,
            "participant_ids": [org.manager_a.id, org.manager_b.id],
            "case_ids": list(data.case_ids.values()),
            "scheduled_at": "2027-03-18T15:30",
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    with app.app_context():
        session = db.session.scalars(select(CalibrationSession)).one()
        assert session.scheduled_at == datetime(2027, 3, 18, 10, 0, tzinfo=UTC)
        session_id = session.id
    assert "Meets Thu 18 Mar 2027, 15:30 IST" in text(client.get(f"/sessions/{session_id}"))
    edit = client.get(f"/sessions/{session_id}/edit").get_data(as_text=True)
    assert 'value="2027-03-18T15:30"' in edit
    assert "Thu 18 Mar 2027, 15:30 IST" in text(client.get(f"/promotions/{data.cycle_id}"))


def test_your_settings_sets_the_time_zone(app, org, client):
    sign_in(client, org.pm_a1)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/account/settings"' in home
    page = client.get("/account/settings")
    assert page.status_code == 200 and "Europe/Berlin" in page.get_data(as_text=True)
    refused = client.post_form("/account/settings", {"time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert "Choose a time zone from the list" in text(refused)
    saved = client.post_form("/account/settings", {"time_zone": "Europe/Berlin"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(User, org.pm_a1.id).time_zone == "Europe/Berlin"


def test_a_date_set_the_day_before_the_clocks_change_keeps_its_wall_time(app, org, client, data):
    # Frozen on Saturday 27 March 2027 in Berlin (CET, +1); the clocks go forward that night.
    set_zone(app, org.head, "Europe/Berlin")
    with time_machine.travel(datetime(2027, 3, 27, 10, 0, tzinfo=UTC), tick=False):
        sign_in(client, org.head)
        saved = client.post_form(
            f"/promotions/{data.cycle_id}/dates/nominations",
            {"due_at": "2027-03-29T17:00", "reason": "After the weekend", "revision": 0},
        )
        assert saved.status_code == 302
        page = text(client.get(f"/promotions/{data.cycle_id}"))
    # 17:00 CEST is 15:00 UTC, not the 16:00 that today's offset would give.
    assert due(app, data.cycle_id, CyclePhase.NOMINATIONS) == datetime(2027, 3, 29, 15, tzinfo=UTC)
    assert "Nominations is due Mon 29 Mar 2027, 17:00 CEST" in page


def test_the_assessment_pages_say_when_they_are_due(app, org, client):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    with app.app_context():
        head = db.session.get(User, org.head.id)
        for phase, day in ((CyclePhase.SELF_ASSESSMENT, 8), (CyclePhase.MANAGER_ASSESSMENT, 15)):
            deadlines.set_due(head, data.cycle_id, phase, datetime(2027, 3, day, 17, tzinfo=UTC))
        db.session.commit()
    case_id = data.case_ids[org.pm_a1.id]
    set_zone(app, org.pm_a1, "Asia/Tokyo")
    sign_in(client, org.pm_a1)
    assert "Due Tue 9 Mar 2027, 02:00 JST" in text(client.get(f"/cases/{case_id}/self-assessment"))
    client.post_form("/logout")
    sign_in(client, org.manager_a)
    page = text(client.get(f"/cases/{case_id}/manager-assessment"))
    assert "Due Mon 15 Mar 2027, 17:00 UTC" in page
