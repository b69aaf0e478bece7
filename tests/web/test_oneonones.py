"""1:1s through HTTP: who sees what (bodies, not only statuses), conflicts, the .ics, queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.extensions import db
from app.infra import timezones
from app.models import (
    ActionItem,
    AgendaItem,
    AuditEvent,
    Meeting,
    Notification,
    NotificationKind,
    OneOnOne,
    PrivateNote,
)
from tests.factories import sign_in
from tests.oneonones_helpers import (
    ACTION,
    LEAD_PRIVATE,
    MEMBER_PRIVATE,
    SHARED,
    TOPIC,
    at,
    build,
    user,
)
from tests.queries import count_queries

SECRETS = (SHARED, LEAD_PRIVATE, MEMBER_PRIVATE, TOPIC, ACTION)


def signed_in(app, person):
    client = app.test_client()
    sign_in(client, person)
    return client


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def cast(make, org):
    """The pair is director (lead) and pm_d1 (member); around them everyone the matrix needs."""
    peer = make.person(name="Pia Peer", manager=org.director, email="pia@example.com")
    built = build(make.app, org.director, org.pm_d1)
    people = {
        "lead": org.director,
        "member": org.pm_d1,
        "skip_level": org.manager_a,
        "head": org.head,
        "peer": peer,
        "other_mentor": org.pm_a2,  # mentors pm_b1
        "stranger": org.pm_b1,
    }
    return people, built


@pytest.mark.parametrize("who", ["lead", "member"])
def test_the_two_see_the_space_the_meeting_and_only_their_own_private_notes(client, cast, who):
    people, built = cast
    sign_in(client, people[who])
    space = client.get(f"/one-on-ones/{built.pair_id}")
    assert space.status_code == 200
    assert ACTION in text_of(space)
    page = client.get(f"/one-on-ones/meetings/{built.meeting_id}")
    assert page.status_code == 200
    body = text_of(page)
    assert SHARED in body and TOPIC in body and ACTION in body
    own, other = (LEAD_PRIVATE, MEMBER_PRIVATE) if who == "lead" else (MEMBER_PRIVATE, LEAD_PRIVATE)
    assert own in body
    assert other not in page.get_data(as_text=True)
    listing = text_of(client.get("/one-on-ones/"))
    other_name = people["member" if who == "lead" else "lead"].name
    assert other_name in listing
    assert client.get(f"/one-on-ones/meetings/{built.meeting_id}.ics").status_code == 200


@pytest.mark.parametrize("who", ["skip_level", "head", "peer", "other_mentor", "stranger"])
def test_nobody_else_sees_any_of_it(client, cast, who):
    people, built = cast
    sign_in(client, people[who])
    for path in (
        f"/one-on-ones/{built.pair_id}",
        f"/one-on-ones/meetings/{built.meeting_id}",
        f"/one-on-ones/meetings/{built.meeting_id}.ics",
        f"/one-on-ones/agenda/{built.topic_id}/edit",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert not any(secret in response.get_data(as_text=True) for secret in SECRETS)
    posted = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/agenda", {"topic": "Sneaky"}
    )
    assert posted.status_code == 404
    done = client.post_form(f"/one-on-ones/actions/{built.action_id}/done", {"done": "1"})
    assert done.status_code == 404
    for path, form in (
        (f"/one-on-ones/meetings/{built.meeting_id}/notes", {"shared_notes": "Sneaky"}),
        (f"/one-on-ones/meetings/{built.meeting_id}/private-notes", {"private_notes": "Sneaky"}),
        (f"/one-on-ones/agenda/{built.topic_id}/discussed", {"discussed": "1"}),
        (f"/one-on-ones/agenda/{built.topic_id}/remove", {}),
        (f"/one-on-ones/agenda/{built.topic_id}/edit", {"topic": "Sneaky", "revision": "1"}),
        (f"/one-on-ones/{built.pair_id}/cadence", {"cadence": "monthly", "revision": "1"}),
        (
            f"/one-on-ones/{built.pair_id}/meetings",
            {"starts_at": at(3).strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "30"},
        ),
        (
            f"/one-on-ones/meetings/{built.meeting_id}/actions",
            {"action": "Sneaky", "owner_id": str(people[who].id)},
        ),
    ):
        assert client.post_form(path, form).status_code == 404, path
    with client.application.app_context():
        meeting = db.session.get(Meeting, built.meeting_id)
        assert meeting.shared_notes == SHARED
        assert db.session.execute(select(func.count()).select_from(Meeting)).scalar() == 1
        topic = db.session.get(AgendaItem, built.topic_id)
        assert (topic.text, topic.is_discussed) == (TOPIC, False)
        assert set(db.session.execute(select(PrivateNote.body)).scalars()) == {
            LEAD_PRIVATE,
            MEMBER_PRIVATE,
        }
        assert db.session.execute(select(func.count()).select_from(ActionItem)).scalar() == 1
        assert db.session.get(OneOnOne, built.pair_id).cadence.value == "fortnightly"
    listing = client.get("/one-on-ones/").get_data(as_text=True)
    assert f'/one-on-ones/{built.pair_id}"' not in listing


def test_a_stale_shared_notes_save_answers_409_with_both_texts(app, client, cast):
    people, built = cast
    sign_in(client, people["member"])
    response = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/notes",
        {"shared_notes": "My version of the notes", "shared_revision": "1"},
    )
    assert response.status_code == 409
    body = text_of(response)
    assert SHARED in body and "My version of the notes" in body
    with app.app_context():
        assert db.session.get(Meeting, built.meeting_id).shared_notes == SHARED
    # Saving again from the conflict page replaces it, knowingly.
    revision = re.search(r'name="shared_revision" type="hidden" value="(\d+)"', response.text)
    again = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/notes",
        {"shared_notes": "My version of the notes", "shared_revision": revision.group(1)},
    )
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Meeting, built.meeting_id).shared_notes == "My version of the notes"


def test_a_stale_private_note_save_answers_409_and_keeps_the_saved_one(app, client, cast):
    people, built = cast
    sign_in(client, people["lead"])
    response = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/private-notes",
        {"private_notes": "Typed in a second tab", "private_revision": "0"},
    )
    assert response.status_code == 409
    body = text_of(response)
    assert LEAD_PRIVATE in body and "Typed in a second tab" in body
    assert MEMBER_PRIVATE not in response.get_data(as_text=True)
    with app.app_context():
        bodies = set(db.session.execute(select(PrivateNote.body)).scalars())
    assert bodies == {LEAD_PRIVATE, MEMBER_PRIVATE}


def test_a_stale_topic_edit_answers_409_and_only_the_author_edits(app, client, cast):
    people, built = cast
    sign_in(client, people["member"])
    first = client.post_form(
        f"/one-on-ones/agenda/{built.topic_id}/edit", {"topic": "Reworded", "revision": "1"}
    )
    assert first.status_code == 302
    stale = client.post_form(
        f"/one-on-ones/agenda/{built.topic_id}/edit", {"topic": "Other tab", "revision": "1"}
    )
    assert stale.status_code == 409
    assert "The saved topic: “Reworded”" in text_of(stale)
    assert 'value="Other tab"' in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AgendaItem, built.topic_id).text == "Reworded"
    client = signed_in(app, people["lead"])
    assert client.get(f"/one-on-ones/agenda/{built.topic_id}/edit").status_code == 404


def test_bad_input_is_refused_next_to_the_field(app, client, cast):
    people, built = cast
    sign_in(client, people["lead"])
    empty = client.post_form(f"/one-on-ones/meetings/{built.meeting_id}/agenda", {"topic": " "})
    assert empty.status_code == 400
    assert "Write the topic before adding it." in text_of(empty)
    bad_link = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/agenda", {"topic": "x", "link": "e:999"}
    )
    assert bad_link.status_code == 400
    assert "Choose something from the list to link." in text_of(bad_link)
    stranger_owner = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/actions",
        {"action": "Do it", "owner_id": str(people["head"].id)},
    )
    assert stranger_owner.status_code == 400
    assert "Choose which of you two will do it." in text_of(stranger_owner)
    no_time = client.post_form(f"/one-on-ones/{built.pair_id}/meetings", {"starts_at": "soon"})
    assert no_time.status_code == 400
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AgendaItem)).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(ActionItem)).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(Meeting)).scalar() == 1


def test_the_ics_parses_back_with_the_meeting_time(app, client, cast):
    people, built = cast
    sign_in(client, people["member"])
    response = client.get(f"/one-on-ones/meetings/{built.meeting_id}.ics")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    with app.app_context():
        meeting = db.session.get(Meeting, built.meeting_id)
        starts_at = meeting.starts_at
    assert event.decoded("dtstart") == starts_at
    assert (event.decoded("dtend") - starts_at).total_seconds() == 30 * 60
    assert people["lead"].name in str(event["summary"])
    assert str(event["url"]).endswith(f"/one-on-ones/meetings/{built.meeting_id}")
    assert TOPIC not in response.get_data(as_text=True)  # the agenda stays in Rungs


def test_starting_adding_meetings_and_notifications(app, client, org):
    sign_in(client, org.manager_a)
    index = text_of(client.get("/one-on-ones/"))
    assert "Start 1:1s with Alice Pm" in index
    started = client.post_form(f"/one-on-ones/start/{org.pm_a1.id}")
    assert started.status_code == 302
    pair_id = int(started.headers["Location"].rsplit("/", 1)[1])
    again = client.post_form(f"/one-on-ones/start/{org.pm_a1.id}")
    assert again.headers["Location"] == started.headers["Location"]  # one space per pair
    space = text_of(client.get(f"/one-on-ones/{pair_id}"))
    assert "Every two weeks: the next one would be" in space
    when = at(3).strftime("%Y-%m-%dT%H:%M")
    added = client.post_form(
        f"/one-on-ones/{pair_id}/meetings", {"starts_at": when, "duration_minutes": "45"}
    )
    assert added.status_code == 302
    meeting_path = added.headers["Location"]
    meeting_id = int(meeting_path.rsplit("/", 1)[1])
    for topic in ("Hiring plan", "Roadmap"):
        client.post_form(f"/one-on-ones/meetings/{meeting_id}/agenda", {"topic": topic})
    client.post_form(
        f"/one-on-ones/meetings/{meeting_id}/actions",
        {"action": "Draft the plan", "owner_id": str(org.pm_a1.id), "due_on": "2026-01-05"},
    )
    with app.app_context():
        kinds = list(
            db.session.execute(
                select(Notification.kind).where(Notification.recipient_id == org.pm_a1.id)
            ).scalars()
        )
        actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    # Two topics, one notice: no spam while the first is unread.
    assert kinds.count(NotificationKind.AGENDA_ITEM_ADDED) == 1
    assert kinds.count(NotificationKind.ACTION_ITEM_ASSIGNED) == 1
    assert {"oneonone.opened", "meeting.created", "agenda_item.added", "action_item.added"} <= (
        actions
    )
    client = signed_in(app, org.pm_a1)
    inbox = text_of(client.get("/notifications"))
    assert "Ada Manager added topics to your 1:1 on" in inbox
    assert "gave you an action item in your 1:1 on" in inbox
    home = text_of(client.get("/"))
    assert "Draft the plan" in home and "overdue" in home


def test_the_person_page_offers_the_space_or_a_start(app, client, org, make):
    build(make.app, org.manager_a, org.pm_a1)
    sign_in(client, org.manager_a)
    alice = text_of(client.get(f"/people/{org.pm_a1.id}"))
    assert "Open 1:1s" in alice and ACTION in alice
    arun = text_of(client.get(f"/people/{org.pm_a2.id}"))
    assert "Start 1:1s" in arun
    client = signed_in(app, org.head)
    head_view = client.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    assert ACTION not in head_view and "Open 1:1s" not in head_view


def _fill(app, built, lead, member, n: int) -> None:
    from app.services.oneonones import content, spaces
    from tests.evidence_helpers import record

    evidence_id = record(app, member, title="Linked launch")
    with app.app_context():
        pair = spaces.get_pair(user(lead), built.pair_id)
        for i in range(n):
            spaces.add_meeting(user(lead), pair, at(-(i + 1), hour=10), 30)
            # every topic linked, so that reading the links (links.for_items) is counted too
            content.add_agenda_item(
                user(member), built.meeting_id, f"Topic {i}", f"e:{evidence_id}"
            )
            content.add_action_item(
                user(lead), built.meeting_id, content.ActionInput(f"Act {i}", member.id, None)
            )
        db.session.commit()


def test_pages_use_the_same_number_of_queries_for_5_and_200(app, client, make, org):
    from tests.evidence_helpers import publish_and_place

    publish_and_place(app, [org.pm_a1, org.pm_b1])
    counts = {}
    for n, (lead, member) in ((5, (org.manager_a, org.pm_a1)), (200, (org.manager_b, org.pm_b1))):
        built = build(app, lead, member)
        _fill(app, built, lead, member, n)
        client = signed_in(app, lead)
        counts[n] = [
            count_queries(app, client, path)
            for path in (
                f"/one-on-ones/{built.pair_id}",
                f"/one-on-ones/meetings/{built.meeting_id}",
                "/one-on-ones/",
            )
        ]
    assert counts[5] == counts[200]


def test_the_evidence_page_says_where_it_was_discussed_only_to_the_two(app, org, make):
    from app.services.oneonones import content
    from tests.evidence_helpers import publish_and_place, record

    publish_and_place(app, [org.pm_a1])
    evidence_id = record(app, org.pm_a1, title="Shared launch")
    built = build(app, org.manager_a, org.pm_a1)
    with app.app_context():
        content.add_agenda_item(user(org.manager_a), built.meeting_id, "Talk", f"e:{evidence_id}")
        db.session.commit()
    for person, shown in ((org.manager_a, True), (org.pm_a1, True), (org.head, False)):
        page = signed_in(app, person).get(f"/evidence/{evidence_id}")
        assert page.status_code == 200
        assert ("Discussed in 1:1s" in text_of(page)) is shown, person.name


@pytest.mark.parametrize(
    "stored", [datetime(9999, 12, 31, 23, 30, tzinfo=UTC), datetime(1, 1, 1, 0, 0, tzinfo=UTC)]
)
def test_no_stored_meeting_time_breaks_the_space_or_its_ics(app, client, cast, stored):
    """A time from an older import or the database: the pages still open for both."""
    people, built = cast
    with app.app_context():
        db.session.get(Meeting, built.meeting_id).starts_at = stored
        db.session.commit()
    for who in ("lead", "member"):
        browser = signed_in(app, people[who])
        assert browser.get(f"/one-on-ones/{built.pair_id}").status_code == 200
        assert browser.get(f"/one-on-ones/meetings/{built.meeting_id}.ics").status_code == 200


def test_a_stale_cadence_change_answers_409_with_both_values(app, client, cast):
    people, built = cast
    lead, member = signed_in(app, people["lead"]), signed_in(app, people["member"])
    shown = 1  # both opened the space at revision 1
    first = member.post_form(
        f"/one-on-ones/{built.pair_id}/cadence", {"cadence": "weekly", "revision": str(shown)}
    )
    assert first.status_code == 302
    stale = lead.post_form(
        f"/one-on-ones/{built.pair_id}/cadence", {"cadence": "monthly", "revision": str(shown)}
    )
    assert stale.status_code == 409
    body = text_of(stale)
    assert "changed to “Weekly” meanwhile; you chose “Monthly”" in body
    with app.app_context():
        assert db.session.get(OneOnOne, built.pair_id).cadence.value == "weekly"


def test_a_topic_is_one_line_and_a_due_date_is_within_two_years(app, client, cast):
    people, built = cast
    sign_in(client, people["lead"])
    two_lines = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/agenda", {"topic": "First\nsecond"}
    )
    assert two_lines.status_code == 400
    assert "Keep it to one line." in text_of(two_lines)
    far = client.post_form(
        f"/one-on-ones/meetings/{built.meeting_id}/actions",
        {"action": "Do it", "owner_id": str(people["member"].id), "due_on": "2999-01-01"},
    )
    assert far.status_code == 400
    assert "Choose a due date within two years of today." in text_of(far)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AgendaItem)).scalar() == 1
        assert db.session.execute(select(func.count()).select_from(ActionItem)).scalar() == 1


def test_meeting_times_are_shown_in_the_viewers_time_zone(app, client, cast):
    """09:30 UTC is 18:30 JST the same day: home, the list, the space and the meeting say so."""
    people, built = cast
    starts = at(3).replace(minute=30)  # upcoming, so home shows it as the next 1:1
    tokyo = timezones.format_instant(starts, "Asia/Tokyo")
    assert tokyo.endswith(", 18:30 JST")
    with app.app_context():
        db.session.get(Meeting, built.meeting_id).starts_at = starts
        user(people["member"]).time_zone = "Asia/Tokyo"
        db.session.commit()
    member, lead = signed_in(app, people["member"]), signed_in(app, people["lead"])
    for path in ("/", "/one-on-ones/", f"/one-on-ones/{built.pair_id}"):
        page = member.get(path)
        assert page.status_code == 200, path
        body = text_of(page)
        assert tokyo in body, path
        assert "09:30 UTC" not in body, path
    meeting = text_of(member.get(f"/one-on-ones/meetings/{built.meeting_id}"))
    assert tokyo in meeting and "09:30 UTC" not in meeting
    # The lead has no zone of their own: still UTC for them.
    space = text_of(lead.get(f"/one-on-ones/{built.pair_id}"))
    assert timezones.format_instant(starts, "UTC").endswith(", 09:30 UTC")
    assert timezones.format_instant(starts, "UTC") in space


def test_a_meeting_time_is_typed_in_the_typists_time_zone(app, cast):
    """18:30 typed in Tokyo is 09:30 UTC; the form proposes the next one in her zone too."""
    people, built = cast
    with app.app_context():
        user(people["member"]).time_zone = "Asia/Tokyo"
        db.session.commit()
    member = signed_in(app, people["member"])
    space = member.get(f"/one-on-ones/{built.pair_id}").get_data(as_text=True)
    assert "(UTC)" not in space and "In your time zone" in space
    day = at(5).date()
    added = member.post_form(
        f"/one-on-ones/{built.pair_id}/meetings",
        {"starts_at": f"{day.isoformat()}T18:30", "duration_minutes": "30"},
    )
    assert added.status_code == 302
    meeting_id = int(added.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        starts = db.session.get(Meeting, meeting_id).starts_at
    assert (starts.date(), starts.hour, starts.minute) == (day, 9, 30)
