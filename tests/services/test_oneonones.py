"""1:1 services without HTTP: carry-over by reading, links the viewer can open, notices,
the cadence's proposal, and a hard-deleted account that leaves the other's notes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    ActionItem,
    AgendaItem,
    AuditEvent,
    Cadence,
    Evidence,
    Meeting,
    Notification,
    NotificationKind,
    OneOnOne,
    PrivateNote,
    User,
    Visibility,
)
from app.services import notifications
from app.services.oneonones import content, pages, spaces
from tests.evidence_helpers import publish_and_place, record
from tests.oneonones_helpers import (
    LEAD_PRIVATE,
    MEMBER_PRIVATE,
    SHARED,
    TOPIC,
    at,
    build,
    user,
)


def test_an_open_action_shows_in_every_later_meeting_until_done(app, ctx, org):
    built = build(app, org.manager_a, org.pm_a1, days=-14)
    ada, alice = user(org.manager_a), user(org.pm_a1)
    pair = spaces.get_pair(ada, built.pair_id)
    later = [spaces.add_meeting(ada, pair, at(days), 30) for days in (-7, 0, 7)]
    db.session.commit()
    for meeting in later:
        page = pages.meeting_page(alice, meeting.id)
        assert [a.id for a in page.carried] == [built.action_id]
        assert page.raised_here == []
    content.complete_action_item(alice, built.action_id, in_meeting_id=later[1].id)
    db.session.commit()
    assert [a.is_open for a in pages.meeting_page(alice, later[1].id).carried] == [False]
    assert pages.meeting_page(alice, later[2].id).carried == []
    assert pages.meeting_page(alice, later[0].id).carried == []
    # never copied: one row
    assert db.session.execute(select(ActionItem.id)).scalars().all() == [built.action_id]


def test_the_cadence_proposes_the_next_meeting():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    latest = datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.WEEKLY, latest, now) == datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.FORTNIGHTLY, latest, now).day == 23
    assert spaces.propose_next(Cadence.MONTHLY, latest, now) == datetime(2026, 4, 9, 9, tzinfo=UTC)
    # missed meetings: stepped on past today
    old = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.WEEKLY, old, now) == datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.NONE, latest, now) is None
    assert spaces.propose_next(Cadence.WEEKLY, None, now) == datetime(2026, 3, 11, 9, tzinfo=UTC)
    # no stored date makes it overflow or step for ever: far off, it proposes afresh
    for far in (datetime(9999, 12, 31, 23, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)):
        for cadence in (Cadence.WEEKLY, Cadence.MONTHLY):
            assert spaces.propose_next(cadence, far, now) == datetime(2026, 3, 11, 9, tzinfo=UTC)


def test_a_proposed_meeting_never_falls_on_a_weekend():
    """QA found the first meeting proposed for a Sunday (asked on a Saturday)."""
    saturday = datetime(2026, 12, 5, 12, tzinfo=UTC)
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.WEEKLY, None, saturday) == monday
    # a month after Friday 6 November is Sunday 6 December: it moves to the Monday after
    friday = datetime(2026, 11, 6, 9, tzinfo=UTC)
    assert spaces.propose_next(Cadence.MONTHLY, friday, saturday) == monday


def test_only_a_manager_or_mentor_opens_a_space(app, ctx, org):
    with pytest.raises(NotFoundError):
        spaces.open_space(user(org.pm_a1), org.manager_a.id)  # a report cannot lead
    with pytest.raises(NotFoundError):
        spaces.open_space(user(org.head), org.pm_a1.id)  # skip-level: not a direct report
    mentor_pair = spaces.open_space(user(org.pm_a2), org.pm_b1.id)
    assert mentor_pair.kind.value == "mentor"


def test_links_are_checked_and_shown_muted_once_they_cannot_be_opened(app, ctx, org):
    publish_and_place(app, [org.pm_a1])
    shared_id = record(app, org.pm_a1, title="Shared launch")
    draft_id = record(app, org.pm_a1, title="Draft idea", visibility=Visibility.PRIVATE)
    built = build(app, org.manager_a, org.pm_a1)
    ada = user(org.manager_a)
    with pytest.raises(ValidationError):
        content.add_agenda_item(ada, built.meeting_id, "Draft", f"e:{draft_id}")
    with pytest.raises(ValidationError):
        content.add_agenda_item(ada, built.meeting_id, "Bad key", "c:no-such-skill")
    content.add_agenda_item(ada, built.meeting_id, "Launch", f"e:{shared_id}")
    content.add_agenda_item(ada, built.meeting_id, "Skill", "c:skill-0-0")
    db.session.commit()
    links = [link for row in pages.meeting_page(ada, built.meeting_id).agenda for link in row.links]
    assert [(link.kind, link.label, link.is_open) for link in links] == [
        ("evidence", "Shared launch", True),
        ("competency", "Skill 0.0", True),
    ]
    assert [d.meeting_id for d in pages.discussed_in(ada, shared_id)] == [built.meeting_id]
    assert pages.discussed_in(user(org.head), shared_id) == []  # not in the pair
    # Made private again: the manager sees a muted link without its title.
    db.session.execute(update(Evidence).values(visibility=Visibility.PRIVATE))
    db.session.commit()
    links = [link for row in pages.meeting_page(ada, built.meeting_id).agenda for link in row.links]
    assert links[0].is_open is False and "Shared launch" not in links[0].label


def test_topics_notify_once_per_meeting_and_adder_until_read(app, ctx, org):
    built = build(app, org.manager_a, org.pm_a1)  # Alice added the first topic
    alice, ada = user(org.pm_a1), user(org.manager_a)

    def unread_for_ada():
        return (
            db.session.execute(
                select(Notification).where(
                    Notification.recipient_id == ada.id,
                    Notification.kind == NotificationKind.AGENDA_ITEM_ADDED,
                    Notification.read_at.is_(None),
                )
            )
            .scalars()
            .all()
        )

    content.add_agenda_item(alice, built.meeting_id, "Second")
    content.add_agenda_item(alice, built.meeting_id, "Third")
    assert len(unread_for_ada()) == 1
    notices = notifications.notices_for(ada, unread_for_ada())
    (notice,) = notices.values()
    assert notice.endpoint == "oneonones.meeting" and notice.verb == "added topics to"
    # someone outside the pair would get a notice without a link
    (outside,) = notifications.notices_for(user(org.head), unread_for_ada()).values()
    assert outside.endpoint is None
    db.session.execute(update(Notification).values(read_at=datetime.now(UTC)))
    content.add_agenda_item(alice, built.meeting_id, "Fourth")
    assert len(unread_for_ada()) == 1


def test_stale_saves_conflict_and_keep_what_was_saved(app, ctx, org):
    built = build(app, org.manager_a, org.pm_a1)
    alice = user(org.pm_a1)
    with pytest.raises(ConflictError) as stale:
        content.save_shared_notes(alice, built.meeting_id, "Mine", expected_revision=1)
    assert stale.value.current["body"] == SHARED
    with pytest.raises(ConflictError) as private:
        content.save_private_note(alice, built.meeting_id, "Mine", expected_revision=0)
    assert private.value.current["body"] == MEMBER_PRIVATE


def test_private_notes_are_never_read_for_someone_else(app, ctx, org):
    built = build(app, org.manager_a, org.pm_a1)
    ada_page = pages.meeting_page(user(org.manager_a), built.meeting_id)
    alice_page = pages.meeting_page(user(org.pm_a1), built.meeting_id)
    assert ada_page.private_body == LEAD_PRIVATE
    assert alice_page.private_body == MEMBER_PRIVATE
    with pytest.raises(NotFoundError):
        pages.meeting_page(user(org.head), built.meeting_id)


def test_audit_entries_never_hold_the_pair_s_words(app, ctx, org):
    build(app, org.manager_a, org.pm_a1)
    events = db.session.execute(select(AuditEvent.before, AuditEvent.after)).all()
    assert events
    for before, after in events:
        written = repr(before) + repr(after)
        for secret in (SHARED, LEAD_PRIVATE, MEMBER_PRIVATE, TOPIC):
            assert secret not in written


def test_a_hard_deleted_account_leaves_the_other_person_s_notes_and_shared_content(
    app, ctx, org, make
):
    leaver = make.person(name="Lee Leaver", manager=org.manager_a, email="lee@example.com")
    built = build(app, org.manager_a, leaver)
    # Audit rows refuse a deleted actor (RESTRICT): whoever deletes a row outside Rungs detaches
    # them first, as here.
    db.session.execute(
        update(AuditEvent).where(AuditEvent.actor_id == leaver.id).values(actor_id=None)
    )
    db.session.execute(delete(User).where(User.id == leaver.id))
    db.session.commit()
    db.session.expire_all()
    pair = db.session.get(OneOnOne, built.pair_id)
    assert pair is not None and pair.member_id is None and pair.lead_id == org.manager_a.id
    notes = db.session.execute(select(PrivateNote.body)).scalars().all()
    assert notes == [LEAD_PRIVATE]  # the leaver's own private note went with them
    assert db.session.get(Meeting, built.meeting_id).shared_notes == SHARED
    topic = db.session.get(AgendaItem, built.topic_id)
    assert topic.text == TOPIC and topic.author_id is None
    page = pages.meeting_page(user(org.manager_a), built.meeting_id)
    assert page.private_body == LEAD_PRIVATE
    assert page.pair.other_name == pages.FORMER
    assert [row.author_name for row in page.agenda] == [pages.FORMER]
    assert pages.space_page(user(org.manager_a), built.pair_id).open_actions[0].owner_id is None


def test_two_people_have_one_space_whoever_leads_it(app, ctx, org):
    """Bea mentors Ben; later Ben becomes Bea's manager: starting 1:1s opens their space."""
    mentoring = spaces.open_space(user(org.pm_a2), org.pm_b1.id)
    db.session.commit()
    user(org.pm_a2).manager_id = org.pm_b1.id
    db.session.commit()
    assert spaces.open_space(user(org.pm_b1), org.pm_a2.id).id == mentoring.id
    db.session.commit()
    assert len(db.session.execute(select(OneOnOne)).all()) == 1
    panel = pages.person_panel(user(org.pm_b1), org.pm_a2.id)
    assert panel.pair.id == mentoring.id and not panel.may_start


def test_nobody_starts_1on1s_with_someone_who_has_left(app, ctx, org):
    user(org.pm_a1).deactivated_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    with pytest.raises(ValidationError, match="no longer works here"):
        spaces.open_space(user(org.manager_a), org.pm_a1.id)
    assert db.session.execute(select(OneOnOne)).first() is None


def test_two_first_saves_of_a_private_note_at_once_conflict(app, ctx, org, monkeypatch):
    """Both tabs read no note; the other tab's insert lands first: a 409, not an error."""
    built = build(app, org.manager_a, org.pm_a1)
    ada = user(org.manager_a)
    later = spaces.add_meeting(ada, spaces.get_pair(ada, built.pair_id), at(14), 30)
    db.session.add(PrivateNote(meeting_id=later.id, author_id=ada.id, body="From the other tab"))
    db.session.commit()
    reads = []
    real = content._own_note

    def read_before_the_other_tab_saved(actor, meeting_id):
        reads.append(meeting_id)
        return None if len(reads) == 1 else real(actor, meeting_id)

    monkeypatch.setattr(content, "_own_note", read_before_the_other_tab_saved)
    with pytest.raises(ConflictError) as conflict:
        content.save_private_note(ada, later.id, "From this tab", expected_revision=0)
    assert conflict.value.current["body"] == "From the other tab"
    db.session.rollback()
    (body,) = db.session.execute(
        select(PrivateNote.body).where(PrivateNote.meeting_id == later.id)
    ).scalars()
    assert body == "From the other tab"


def test_goal_and_board_links_open_their_pages_for_who_may_read_them(app, ctx, org):
    from app.services import delegation
    from tests.delegation_helpers import publish_with_rights
    from tests.goal_helpers import propose

    publish_with_rights(app, [org.pm_b1])
    goal_id = propose(app, org.manager_b, org.pm_b1)
    board = delegation.open_board(user(org.manager_b), org.pm_b1.id)
    db.session.commit()
    managed = build(app, org.manager_b, org.pm_b1)
    mentored = build(app, org.pm_a2, org.pm_b1)  # pm_a2 mentors pm_b1
    bea = user(org.pm_b1)
    for meeting_id in (managed.meeting_id, mentored.meeting_id):
        content.add_agenda_item(bea, meeting_id, "My goal", f"g:{goal_id}")
        content.add_agenda_item(bea, meeting_id, "My board", f"b:{board.id}")
    db.session.commit()

    def links(viewer, meeting_id):
        page = pages.meeting_page(viewer, meeting_id)
        return [
            (link.kind, link.endpoint, link.url_values) for r in page.agenda for link in r.links
        ]

    both = [
        ("goal", "goals.show", {"goal_id": goal_id}),
        ("board", "delegation.board", {"person_id": org.pm_b1.id}),
    ]
    assert links(user(org.manager_b), managed.meeting_id) == both
    assert links(bea, mentored.meeting_id) == both
    # The mentor reads the mentee's goals but not their delegation board: muted, no link.
    assert links(user(org.pm_a2), mentored.meeting_id) == [
        ("goal", "goals.show", {"goal_id": goal_id}),
        ("board", None, {}),
    ]
