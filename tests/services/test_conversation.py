"""Comments, kudos, corroboration, notifications and the team page, without HTTP."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    Comment,
    CorroborationStatus,
    Kudos,
    Notification,
    NotificationKind,
    User,
    Visibility,
    mentorships,
)
from app.models.base import utcnow
from app.services import evidence as evidence_service
from app.services import notifications
from app.services.evidence import conversation
from app.services.people import team
from tests.evidence_helpers import evidence_input, publish_and_place, record


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.director])
    return org


def person(p) -> User:
    return db.session.get(User, p.id)


def item(evidence_id):
    return evidence_service.get_evidence(evidence_id)


def inbox_of(p) -> list[tuple[NotificationKind, int | None]]:
    """(kind, actor) of the person's notifications, oldest first."""
    return [
        (n.kind, n.actor_id)
        for n in db.session.execute(
            select(Notification).where(Notification.recipient_id == p.id).order_by(Notification.id)
        ).scalars()
    ]


def clear_notifications() -> None:
    db.session.execute(Notification.__table__.delete())


# --- comments ---------------------------------------------------------------------------------


def test_a_comment_notifies_the_owner_and_never_the_commenter(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    clear_notifications()
    conversation.add_comment(person(placed.manager_a), shared, "Nice **work**")
    assert inbox_of(placed.pm_a1) == [(NotificationKind.COMMENT, placed.manager_a.id)]
    assert inbox_of(placed.manager_a) == []

    conversation.add_comment(person(placed.pm_a1), shared, "Thanks!")  # the owner: nobody to tell
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 1


def test_replies_stay_one_level_deep_and_notify_whom_they_answer(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    top = conversation.add_comment(person(placed.manager_a), shared, "What moved the metric?")
    reply = conversation.add_comment(
        person(placed.pm_a1), shared, "The onboarding email.", reply_to=top.id
    )
    clear_notifications()
    deeper = conversation.add_comment(
        person(placed.head), shared, "Worth sharing at the all-hands.", reply_to=reply.id
    )
    assert reply.parent_id == top.id
    assert deeper.parent_id == top.id  # a reply to a reply joins the thread, not a new level
    # the owner (also the author replied to) and the thread's author; never the head herself
    assert inbox_of(placed.pm_a1) == [(NotificationKind.COMMENT, placed.head.id)]
    assert inbox_of(placed.manager_a) == [(NotificationKind.COMMENT, placed.head.id)]
    assert inbox_of(placed.head) == []

    threads = conversation.conversation(person(placed.pm_a1), shared).threads
    assert [t.top.id for t in threads] == [top.id]
    assert [r.id for r in threads[0].replies] == [reply.id, deeper.id]


def test_a_reply_must_answer_a_comment_on_the_same_item(app, placed, ctx):
    first_id, other_id = record(app, placed.pm_a1), record(app, placed.pm_a1, title="Other")
    first, other = item(first_id), item(other_id)
    comment = conversation.add_comment(person(placed.manager_a), first, "Hello")
    with pytest.raises(ValidationError, match="no longer there"):
        conversation.add_comment(person(placed.manager_a), other, "Hi", reply_to=comment.id)


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write something"), ("   \n ", "Write something"), ("x" * 5001, "at most 5,000")],
)
def test_an_empty_or_overlong_comment_is_refused(app, placed, ctx, body, message):
    shared = item(record(app, placed.pm_a1))
    with pytest.raises(ValidationError, match=message) as error:
        conversation.add_comment(person(placed.manager_a), shared, body)
    assert error.value.field == "body"
    assert db.session.execute(select(func.count()).select_from(Comment)).scalar_one() == 0


# who comments, whose item, shared?, allowed
COMMENTERS = [
    ("pm_a1", "pm_a1", True, True),  # owner
    ("manager_a", "pm_a1", True, True),  # manager
    ("manager_a", "pm_d1", True, True),  # skip-level manager
    ("head", "pm_a1", True, True),  # top of the line
    ("pm_a2", "pm_b1", True, True),  # mentor
    ("manager_a", "pm_a1", False, False),  # manager, draft
    ("pm_a1", "pm_a1", False, False),  # owner, draft: comments open once shared
    ("pm_a2", "pm_a1", True, False),  # peer
    ("manager_b", "pm_a1", True, False),  # another manager
]


@pytest.mark.parametrize(("who", "owner", "shared", "allowed"), COMMENTERS)
def test_who_may_comment(app, placed, who, owner, shared, allowed):
    visibility = Visibility.SHARED if shared else Visibility.PRIVATE
    evidence_id = record(app, getattr(placed, owner), visibility=visibility)
    with app.app_context():
        actor = person(getattr(placed, who))
        if allowed:
            conversation.add_comment(actor, conversation.commentable(actor, evidence_id), "Hi")
        else:
            with pytest.raises(NotFoundError):
                conversation.commentable(actor, evidence_id)
            with pytest.raises(NotFoundError):
                conversation.add_comment(actor, item(evidence_id), "Hi")
        db.session.rollback()


def test_a_comment_in_the_trash_is_out_of_reach(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    evidence_service.trash_evidence(person(placed.pm_a1), shared)
    with pytest.raises(NotFoundError):
        conversation.commentable(person(placed.manager_a), shared.id)


def test_the_author_may_delete_within_the_window_and_replies_survive(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    ada = person(placed.manager_a)
    alone = conversation.add_comment(ada, shared, "Typo")
    answered = conversation.add_comment(ada, shared, "Question")
    reply = conversation.add_comment(person(placed.pm_a1), shared, "Answer", reply_to=answered.id)

    with pytest.raises(NotFoundError):  # not yours
        conversation.delete_comment(person(placed.pm_a1), shared.id, alone.id)
    late = utcnow() + conversation.DELETE_WINDOW + timedelta(seconds=1)
    with pytest.raises(ValidationError, match="first 15 minutes"):
        conversation.delete_comment(ada, shared.id, alone.id, now=late)

    conversation.delete_comment(ada, shared.id, alone.id)
    conversation.delete_comment(ada, shared.id, answered.id)
    assert db.session.get(Comment, alone.id) is None
    assert db.session.get(Comment, answered.id).body == ""  # kept as "deleted" for its reply
    assert db.session.get(Comment, reply.id).body == "Answer"
    threads = conversation.conversation(ada, shared).threads
    assert [(t.top.id, [r.id for r in t.replies]) for t in threads] == [(answered.id, [reply.id])]
    with pytest.raises(NotFoundError):  # already deleted
        conversation.delete_comment(ada, shared.id, answered.id)
    assert conversation.counts([shared.id])[shared.id].comments == 1


# --- kudos ------------------------------------------------------------------------------------


def test_kudos_once_per_person_and_the_owner_hears_of_it(app, placed, ctx):
    evidence_id = record(app, placed.pm_a1)
    clear_notifications()
    conversation.give_kudos(person(placed.manager_a), evidence_id)
    conversation.give_kudos(person(placed.head), evidence_id)
    with pytest.raises(ValidationError, match="already gave kudos"):
        conversation.give_kudos(person(placed.manager_a), evidence_id)
    assert inbox_of(placed.pm_a1) == [
        (NotificationKind.KUDOS, placed.manager_a.id),
        (NotificationKind.KUDOS, placed.head.id),
    ]
    givers = conversation.conversation(person(placed.pm_a1), item(evidence_id)).kudos
    assert [k.giver.name for k in givers] == ["Ada Manager", "Hana Head"]


def test_taking_kudos_back_withdraws_the_unread_notice(app, placed, ctx):
    evidence_id = record(app, placed.pm_a1)
    clear_notifications()
    conversation.give_kudos(person(placed.manager_a), evidence_id)
    conversation.take_back_kudos(person(placed.manager_a), evidence_id)
    assert inbox_of(placed.pm_a1) == []
    assert db.session.execute(select(func.count()).select_from(Kudos)).scalar_one() == 0
    with pytest.raises(ValidationError, match="not given kudos"):
        conversation.take_back_kudos(person(placed.manager_a), evidence_id)


@pytest.mark.parametrize(
    ("who", "shared"),
    [("pm_a1", True), ("manager_a", False), ("pm_a2", True), ("manager_b", True)],
    ids=["owner", "draft", "peer", "other-manager"],
)
def test_who_may_not_give_kudos(app, placed, who, shared):
    visibility = Visibility.SHARED if shared else Visibility.PRIVATE
    evidence_id = record(app, placed.pm_a1, visibility=visibility)
    with app.app_context(), pytest.raises(NotFoundError):
        conversation.give_kudos(person(getattr(placed, who)), evidence_id)


# --- corroboration ----------------------------------------------------------------------------


def test_a_private_draft_cannot_be_asked_about(app, placed, ctx):
    draft = item(record(app, placed.pm_a1, visibility=Visibility.PRIVATE))
    with pytest.raises(ValidationError, match="private draft: only you can see it"):
        conversation.request_corroboration(person(placed.pm_a1), draft, placed.pm_b1.id)
    assert not policy.can(person(placed.pm_b1), "evidence.view", draft)


def test_a_peer_is_asked_sees_the_item_and_confirms(app, placed, ctx):
    draft = item(record(app, placed.pm_a1))  # shared with Alice's line; Bea is not in it
    bea = person(placed.pm_b1)
    assert not policy.can(bea, "evidence.view", draft)
    clear_notifications()
    asked = conversation.request_corroboration(person(placed.pm_a1), draft, bea.id)
    assert inbox_of(placed.pm_b1) == [(NotificationKind.CORROBORATION_REQUESTED, placed.pm_a1.id)]
    assert policy.can(bea, "evidence.view", draft)

    conversation.answer_corroboration(bea, asked, confirm=True, note="  I ran the  test. ")
    assert asked.status is CorroborationStatus.CONFIRMED
    assert asked.note == "I ran the test."
    assert asked.answered_at is not None
    assert inbox_of(placed.pm_a1) == [(NotificationKind.CORROBORATION_ANSWERED, bea.id)]
    assert inbox_of(placed.pm_b1) == [(NotificationKind.CORROBORATION_REQUESTED, placed.pm_a1.id)]
    with pytest.raises(ValidationError, match="already answered"):
        conversation.answer_corroboration(bea, asked, confirm=False)
    view = conversation.conversation(person(placed.pm_a1), draft)
    assert [(c.peer.name, c.note) for c in view.confirmed] == [("Bea Pm", "I ran the test.")]
    assert conversation.counts([draft.id])[draft.id].confirmations == 1


def test_asking_yourself_twice_or_a_deactivated_person_is_refused(app, placed, make, ctx):
    gone = make.person(name="Gone Person", active=False)
    shared = item(record(app, placed.pm_a1))
    owner = person(placed.pm_a1)
    conversation.request_corroboration(owner, shared, placed.pm_a2.id)
    cases = [
        (placed.pm_a1.id, "other than yourself"),
        (placed.pm_a2.id, "already asked Arun Pm"),
        (gone.id, "Choose a person"),
        (None, "Choose a person"),
        (987654, "Choose a person"),
    ]
    for peer_id, message in cases:
        with pytest.raises(ValidationError, match=message) as error:
            conversation.request_corroboration(owner, shared, peer_id)
        assert error.value.field == "peer_id"
    assert [c.peer_id for c in conversation.conversation(owner, shared).corroborations] == [
        placed.pm_a2.id
    ]
    choices = dict(conversation.peer_choices(owner.id, shared.id))
    assert placed.pm_a2.id not in choices and owner.id not in choices and gone.id not in choices
    assert placed.head.id in choices


def test_only_the_owner_asks_and_only_the_peer_answers(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    with pytest.raises(NotFoundError):
        conversation.request_corroboration(person(placed.manager_a), shared, placed.pm_b1.id)
    asked = conversation.request_corroboration(person(placed.pm_a1), shared, placed.pm_b1.id)
    for someone_else in (placed.pm_a1, placed.manager_a, placed.pm_a2):
        with pytest.raises(NotFoundError):
            conversation.get_request(person(someone_else), asked.id)
        with pytest.raises(NotFoundError):
            conversation.answer_corroboration(person(someone_else), asked, confirm=True)
    assert asked.status is CorroborationStatus.PENDING


def test_a_long_note_is_refused_and_nothing_changes(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    asked = conversation.request_corroboration(person(placed.pm_a1), shared, placed.pm_b1.id)
    with pytest.raises(ValidationError, match="500 characters") as error:
        conversation.answer_corroboration(person(placed.pm_b1), asked, confirm=True, note="x" * 501)
    assert error.value.field == "note"
    assert asked.status is CorroborationStatus.PENDING


def test_requests_list_pending_first_and_leaves_the_trash_out(app, placed, ctx):
    ids = [record(app, placed.pm_a1, title=t) for t in ("Answered", "Pending", "Trashed")]
    answered, pending, trashed = (item(i) for i in ids)
    bea, owner = person(placed.pm_b1), person(placed.pm_a1)
    first = conversation.request_corroboration(owner, answered, bea.id)
    conversation.request_corroboration(owner, pending, bea.id)
    conversation.request_corroboration(owner, trashed, bea.id)
    conversation.answer_corroboration(bea, first, confirm=False)
    evidence_service.trash_evidence(owner, trashed)
    rows = db.session.execute(conversation.requests_for(bea.id)).scalars().all()
    assert [c.evidence.title for c in rows] == ["Pending", "Answered"]


# --- reading in a fixed number of queries ------------------------------------------------------


def count_statements(app, action) -> int:
    statements = []
    engine = db.engine
    listener = lambda *_args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_panel_reads_a_fixed_number_of_queries(app, placed, make, ctx):
    shared_id = record(app, placed.pm_a1)

    def add(number):
        db.session.commit()  # SQLite: the factory writes from its own context
        peers = [make.person(name=f"Peer {n}") for n in range(number)]
        mentors = [make.person(name=f"Mentor {n}") for n in range(number)]
        shared = item(shared_id)
        for mentor in mentors:  # mentors see shared items, so they may give kudos
            db.session.execute(
                mentorships.insert().values(mentor_id=mentor.id, mentee_id=placed.pm_a1.id)
            )
        for n, (peer, mentor) in enumerate(zip(peers, mentors, strict=True)):
            top = conversation.add_comment(person(placed.manager_a), shared, f"Comment {n}")
            conversation.add_comment(person(placed.pm_a1), shared, "Reply", reply_to=top.id)
            conversation.give_kudos(person(mentor), shared.id)
            conversation.request_corroboration(person(placed.pm_a1), shared, peer.id)
        db.session.commit()

    def read(viewer):
        db.session.expire_all()
        evidence = item(shared_id)
        return count_statements(app, lambda: conversation.conversation(viewer, evidence))

    add(2)
    few_manager, few_owner = read(person(placed.manager_a)), read(person(placed.pm_a1))
    add(25)
    assert read(person(placed.manager_a)) == few_manager
    assert read(person(placed.pm_a1)) == few_owner
    view = conversation.conversation(person(placed.pm_a1), item(shared_id))
    assert view.comment_count == 54 and len(view.corroborations) == 27 and len(view.kudos) == 27


def test_counts_for_many_items_in_one_query(app, placed, ctx):
    ids = [record(app, placed.pm_a1, title=f"Item {n}") for n in range(4)]
    conversation.add_comment(person(placed.manager_a), item(ids[0]), "One")
    conversation.give_kudos(person(placed.manager_a), ids[1])
    db.session.flush()
    assert count_statements(app, lambda: conversation.counts(ids)) == 1
    found = conversation.counts(ids)
    assert found[ids[0]] == conversation.Counts(comments=1)
    assert found[ids[1]] == conversation.Counts(kudos=1)
    assert found[ids[3]] == conversation.Counts()


# --- notifications ----------------------------------------------------------------------------


def test_inbox_newest_first_hides_what_is_no_longer_visible_marks_nothing(app, placed, ctx):
    kept = record(app, placed.pm_a1, title="Still shared")
    hidden = record(app, placed.pm_a1, title="Later made a draft")
    trashed = record(app, placed.pm_a1, title="Thrown away")  # shared: three notices for Ada
    ada = person(placed.manager_a)
    owner = person(placed.pm_a1)
    evidence_service.trash_evidence(owner, item(trashed))
    draft = item(hidden)
    evidence_service.update_evidence(
        owner,
        draft,
        evidence_input(title="Later made a draft", visibility=Visibility.PRIVATE),
        expected_revision=draft.revision,
    )
    assert notifications.unread_count(ada.id) == 3

    _page, entries = notifications.inbox(ada, 1)
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    assert [e.title for e in entries] == [None, None, "Still shared"]
    assert [e.evidence_id for e in entries] == [None, None, kept]
    assert all(e.is_unread for e in entries)
    assert notifications.unread_count(ada.id) == 3  # reading the inbox writes nothing
    notifications.mark_read(ada.id, through_id=max(e.id for e in entries))
    _page, again = notifications.inbox(ada, 1)
    assert not any(e.is_unread for e in again)


def test_inbox_says_how_a_request_was_answered_and_links_the_peer(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    bea = person(placed.pm_b1)
    asked = conversation.request_corroboration(person(placed.pm_a1), shared, bea.id)
    conversation.answer_corroboration(bea, asked, confirm=False)
    _page, owner_entries = notifications.inbox(person(placed.pm_a1), 1)
    assert [(e.kind, e.answer) for e in owner_entries] == [
        (NotificationKind.CORROBORATION_ANSWERED, CorroborationStatus.DECLINED)
    ]
    _page, peer_entries = notifications.inbox(bea, 1)
    assert [e.evidence_id for e in peer_entries] == [shared.id]  # visible to the asked peer


def test_inbox_pages(app, placed, ctx):
    ada = person(placed.manager_a)
    for _ in range(notifications.PER_PAGE + 3):
        notifications.notify([ada.id], NotificationKind.KUDOS, actor_id=placed.pm_a1.id)
    page, entries = notifications.inbox(ada, 2)
    assert page.pages == 2 and len(entries) == 3
    assert notifications.unread_count(ada.id) == notifications.PER_PAGE + 3  # none marked read


# --- the team page ----------------------------------------------------------------------------


def names(groups):
    return [(g.manager.name, g.is_direct, [m.person.name for m in g.members]) for g in groups]


def test_a_manager_sees_direct_reports_then_skip_levels_under_their_manager(placed, ctx):
    groups = team.team(person(placed.manager_a))
    assert names(groups) == [
        ("Ada Manager", True, ["Alice Pm", "Arun Pm", "Dora Director"]),
        ("Dora Director", False, ["Dev Pm"]),
    ]
    assert names(team.team(person(placed.director))) == [("Dora Director", True, ["Dev Pm"])]
    assert names(team.team(person(placed.head)))[:3] == [
        ("Hana Head", True, ["Ada Manager", "Ben Manager"]),
        ("Ada Manager", False, ["Alice Pm", "Arun Pm", "Dora Director"]),
        ("Dora Director", False, ["Dev Pm"]),
    ]
    assert team.team(person(placed.pm_a1)) == []


@pytest.mark.midday
def test_team_counts_only_shared_recent_items_never_drafts(app, placed, ctx):
    today = date.today()
    record(app, placed.pm_a1, occurred_on=today - timedelta(days=3))
    record(app, placed.pm_a1, occurred_on=today - timedelta(days=200))  # shared, but old
    for _ in range(3):
        record(app, placed.pm_a1, occurred_on=today, visibility=Visibility.PRIVATE)
    record(app, placed.pm_a2, occurred_on=today, visibility=Visibility.PRIVATE)  # only a draft
    trashed = record(app, placed.pm_a2, occurred_on=today)
    evidence_service.trash_evidence(person(placed.pm_a2), item(trashed))

    members = {m.person.name: m for m in team.team(person(placed.manager_a))[0].members}
    assert members["Alice Pm"].recent_evidence == 1
    assert members["Alice Pm"].last_activity_at is not None
    assert members["Arun Pm"].recent_evidence == 0
    assert members["Arun Pm"].last_activity_at is None  # drafts and the Trash are not activity


def test_last_activity_includes_comments(app, placed, ctx):
    bea_item = item(record(app, placed.pm_b1))
    comment = conversation.add_comment(person(placed.pm_a2), bea_item, "As your mentor: great")
    members = {m.person.name: m for m in team.team(person(placed.manager_a))[0].members}
    assert members["Arun Pm"].last_activity_at == comment.created_at


def test_team_page_reads_a_fixed_number_of_queries(app, placed, make, ctx):
    level_id = make.get(placed.pm_a1).level_id

    def grow(number):
        db.session.commit()  # SQLite: the factory and record() write from their own contexts
        for n in range(number):
            report = make.person(name=f"Report {n}", manager=placed.director)
            with app.app_context():
                db.session.get(User, report.id).level_id = level_id
                db.session.commit()
            record(app, report)
        ada = person(placed.manager_a)
        return count_statements(app, lambda: team.team(ada))

    few = grow(3)
    assert grow(27) == few
    assert len(team.team(person(placed.manager_a))[1].members) == 31


def test_a_peer_asked_to_corroborate_does_not_read_the_coaching(app, placed, ctx):
    shared = item(record(app, placed.pm_a1))
    conversation.add_comment(person(placed.manager_a), shared, "Between us: work on focus")
    conversation.request_corroboration(person(placed.pm_a1), shared, placed.pm_b1.id)
    view = conversation.conversation(person(placed.pm_b1), shared)
    assert not view.may_read_comments and view.threads == []
    assert view.my_request is not None and not view.may_comment
    owner_view = conversation.conversation(person(placed.pm_a1), shared)
    assert owner_view.may_read_comments and owner_view.comment_count == 1


def test_the_panel_is_refused_to_someone_who_may_not_see_the_item(app, placed, ctx):
    shared_id, draft_id = (
        record(app, placed.pm_a1),
        record(app, placed.pm_a1, visibility=Visibility.PRIVATE),
    )
    with pytest.raises(NotFoundError):
        conversation.conversation(person(placed.pm_a2), item(shared_id))  # a peer
    with pytest.raises(NotFoundError):
        conversation.conversation(person(placed.manager_a), item(draft_id))  # a draft
    manager_view = conversation.conversation(person(placed.manager_a), item(shared_id))
    assert manager_view.may_comment and manager_view.may_give_kudos
    owner_view = conversation.conversation(person(placed.pm_a1), item(shared_id))
    assert owner_view.may_comment and not owner_view.may_give_kudos
    assert [name for _id, name in owner_view.peer_choices][:2] == ["Ada Manager", "Arun Pm"]
