"""Feedback requests and answers, sharing with the manager, thanks and lessons, without HTTP."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AskStatus,
    AuditEvent,
    EvidenceKind,
    FeedbackAsk,
    Notification,
    NotificationKind,
    User,
    Visibility,
)
from app.models.base import utcnow
from app.services import evidence as evidence_service
from app.services import notifications
from app.services.feedback import asks, lessons, pages, panels
from app.services.feedback import thanks as thanks_service
from tests.evidence_helpers import evidence_input, publish_and_place, record

pytestmark = pytest.mark.midday


@pytest.fixture
def placed(app, org):
    publish_and_place(
        app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.director, org.manager_a]
    )
    return org


def person(p) -> User:
    return db.session.get(User, p.id)


def kinds_for(p) -> list[tuple[NotificationKind, int | None]]:
    return [
        (n.kind, n.actor_id)
        for n in db.session.scalars(
            select(Notification).where(Notification.recipient_id == p.id).order_by(Notification.id)
        )
    ]


def actions() -> list[str]:
    """The audited feedback, thanks and lesson actions, oldest first."""
    found = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
    return [a for a in found if a.split(".")[0] in ("feedback", "thanks", "evidence")]


def ask_alice(org, *to, keys=("skill-0-0",), due_on=None):
    return asks.ask_for_feedback(
        person(org.pm_a1),
        asks.RequestInput(
            colleague_ids=[p.id for p in to],
            competency_keys=list(keys),
            message="About the pricing review.",
            due_on=due_on,
        ),
    )


def ask_of(request, giver) -> FeedbackAsk:
    return db.session.scalar(
        select(FeedbackAsk).where(
            FeedbackAsk.request_id == request.id, FeedbackAsk.giver_id == giver.id
        )
    )


SBI = asks.AnswerInput(
    situation="Pricing review, 3 March.",
    behaviour="Showed churn data first.",
    impact="We agreed in ten minutes.",
)


def test_a_request_asks_each_colleague_who_is_notified_and_audited(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2, org.pm_b1, keys=["skill-1-0", "skill-0-0"])
    assert request.competency_keys == ["skill-0-0", "skill-1-0"]
    givers = {a.giver_id for a in db.session.scalars(select(FeedbackAsk))}
    assert givers == {org.pm_a2.id, org.pm_b1.id}
    assert kinds_for(org.pm_a2) == [(NotificationKind.FEEDBACK_REQUESTED, org.pm_a1.id)]
    assert kinds_for(org.pm_b1) == [(NotificationKind.FEEDBACK_REQUESTED, org.pm_a1.id)]
    assert actions() == ["feedback.requested"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colleague_ids": []}, "colleague_ids"),
        ({"colleague_ids": ["self"]}, "colleague_ids"),
        ({"colleague_ids": [999_999]}, "colleague_ids"),
        ({"competency_keys": []}, "competency_keys"),
        ({"competency_keys": ["not-a-skill"]}, "competency_keys"),
        ({"message": "x" * (asks.MESSAGE_MAX + 1)}, "message"),
        ({"due_on": date.today() - timedelta(days=1)}, "due_on"),
        ({"due_on": date.today() + timedelta(days=asks.DUE_MAX_DAYS + 1)}, "due_on"),
    ],
)
def test_a_bad_request_names_its_field_and_stores_nothing(placed, ctx, change, field):
    org = placed
    values = {
        "colleague_ids": [org.pm_a2.id],
        "competency_keys": ["skill-0-0"],
        "message": "",
        "due_on": None,
    }
    values.update(change)
    if values["colleague_ids"] == ["self"]:
        values["colleague_ids"] = [org.pm_a1.id]
    with pytest.raises(ValidationError) as refused:
        asks.ask_for_feedback(person(org.pm_a1), asks.RequestInput(**values))
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(FeedbackAsk)) is None


def test_a_deactivated_colleague_cannot_be_asked(make, placed, ctx):
    gone = make.person(name="Gone Pm", active=False)
    with pytest.raises(ValidationError, match="no longer an active colleague"):
        ask_alice(placed, gone)


def test_an_answer_goes_to_the_requester_and_can_be_edited_with_its_revision(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    assert ask.status is AskStatus.ANSWERED and ask.answered_at is not None
    assert (NotificationKind.FEEDBACK_ANSWERED, org.pm_a2.id) in kinds_for(org.pm_a1)
    first_revision = ask.revision
    changed = asks.AnswerInput(SBI.situation, SBI.behaviour, "We agreed at once.")
    asks.answer(person(org.pm_a2), ask, changed, expected_revision=first_revision)
    assert ask.impact == "We agreed at once."
    # one notice for the answer, none for the edit
    assert kinds_for(org.pm_a1).count((NotificationKind.FEEDBACK_ANSWERED, org.pm_a2.id)) == 1
    assert actions()[-2:] == ["feedback.answered", "feedback.answer_edited"]


def test_a_stale_save_of_an_answer_is_a_conflict_showing_the_saved_one(placed, ctx):
    org = placed
    ask = ask_of(ask_alice(org, org.pm_a2), org.pm_a2)
    stale = ask.revision
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=stale)
    other = asks.AnswerInput("Another tab.", "Other words.", "Other impact.")
    with pytest.raises(ConflictError) as conflict:
        asks.answer(person(org.pm_a2), ask, other, expected_revision=stale)
    assert conflict.value.current["impact"] == SBI.impact
    assert ask.impact == SBI.impact


def test_each_part_of_an_answer_is_required(placed, ctx):
    org = placed
    ask = ask_of(ask_alice(org, org.pm_a2), org.pm_a2)
    with pytest.raises(ValidationError) as refused:
        asks.answer(
            person(org.pm_a2),
            ask,
            asks.AnswerInput("A situation.", "  ", "An impact."),
            expected_revision=ask.revision,
        )
    assert refused.value.field == "behaviour"


def test_only_the_colleague_asked_answers_or_declines(placed, ctx):
    org = placed
    ask = ask_of(ask_alice(org, org.pm_a2, org.pm_b1), org.pm_a2)
    for outsider in (org.pm_b1, org.pm_a1, org.manager_a, org.head):
        with pytest.raises(NotFoundError):
            asks.ask_for_giver(person(outsider), ask.id)
        with pytest.raises(NotFoundError):
            asks.decline(person(outsider), ask.id)
    asks.decline(person(org.pm_a2), ask.id)
    assert ask.status is AskStatus.DECLINED
    with pytest.raises(ValidationError):
        asks.decline(person(org.pm_a2), ask.id)
    with pytest.raises(ValidationError):
        asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)


def test_sharing_an_answer_shows_it_to_the_direct_manager_only_until_taken_back(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    assert panels.shared_with(person(org.manager_a), org.pm_a1.id) == []
    revision = ask.revision
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    assert ask.revision == revision  # the giver's open form stays current
    shown = panels.shared_with(person(org.manager_a), org.pm_a1.id)
    assert [s.ask.impact for s in shown] == [SBI.impact]
    assert (NotificationKind.FEEDBACK_SHARED, org.pm_a1.id) in kinds_for(org.manager_a)
    for other in (org.head, org.manager_b, org.pm_b1):
        assert panels.shared_with(person(other), org.pm_a1.id) == []
    asks.stop_sharing(person(org.pm_a1), request.id, ask.id)
    assert panels.shared_with(person(org.manager_a), org.pm_a1.id) == []
    assert NotificationKind.FEEDBACK_SHARED not in dict(kinds_for(org.manager_a))
    assert actions()[-2:] == ["feedback.shared_with_manager", "feedback.unshared"]


def test_changing_a_shared_answer_ends_the_share_until_the_requester_shares_again(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    changed = asks.AnswerInput(SBI.situation, SBI.behaviour, "Words Alice never saw.")
    asks.answer(person(org.pm_a2), ask, changed, expected_revision=ask.revision)
    # the manager does not read text the requester never approved, nor keeps an unread notice
    assert panels.shared_with(person(org.manager_a), org.pm_a1.id) == []
    assert ask.shared_with_manager_at is None and ask.shared_with_id is None
    assert NotificationKind.FEEDBACK_SHARED not in dict(kinds_for(org.manager_a))
    # the requester hears of the change, so that they may share the new answer
    assert kinds_for(org.pm_a1).count((NotificationKind.FEEDBACK_ANSWERED, org.pm_a2.id)) == 2
    assert actions()[-2:] == ["feedback.answer_edited", "feedback.unshared"]
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    shown = panels.shared_with(person(org.manager_a), org.pm_a1.id)
    assert [s.ask.impact for s in shown] == ["Words Alice never saw."]


def test_saving_a_shared_answer_unchanged_keeps_the_share(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    assert len(panels.shared_with(person(org.manager_a), org.pm_a1.id)) == 1


def test_a_share_is_with_the_manager_of_the_time_not_a_later_one(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    assert ask.shared_with_id == org.manager_a.id
    db.session.get(User, org.pm_a1.id).manager_id = org.manager_b.id
    db.session.flush()
    assert panels.shared_with(person(org.manager_b), org.pm_a1.id) == []
    assert not policy.can(person(org.manager_b), "feedback_ask.view", ask)
    # the answer stays with the one it was shown to, until the requester takes it back
    assert policy.can(person(org.manager_a), "feedback_ask.view", ask)
    asks.stop_sharing(person(org.pm_a1), request.id, ask.id)
    assert not policy.can(person(org.manager_a), "feedback_ask.view", ask)
    assert ask.shared_with_id is None


def test_only_the_requester_shares_and_only_an_answer(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    with pytest.raises(ValidationError, match="Only an answer"):
        asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    for other in (org.pm_a2, org.manager_a):
        with pytest.raises(NotFoundError):
            asks.share_with_manager(person(other), request.id, ask.id)


def test_someone_without_a_manager_cannot_share(make, placed, ctx):
    org = placed
    request = asks.ask_for_feedback(
        person(org.manager_a),
        asks.RequestInput(colleague_ids=[org.pm_a2.id], competency_keys=["skill-0-0"]),
    )
    db.session.get(User, org.manager_a.id).manager_id = None
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    with pytest.raises(ValidationError, match="no manager"):
        asks.share_with_manager(person(org.manager_a), request.id, ask.id)


def test_an_answer_is_not_shared_with_a_deactivated_manager(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    db.session.get(User, org.manager_a.id).deactivated_at = utcnow()
    with pytest.raises(ValidationError, match="no longer has an account"):
        asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    assert ask.shared_with_manager_at is None
    assert NotificationKind.FEEDBACK_SHARED not in dict(kinds_for(org.manager_a))


def test_a_deactivated_requesters_asks_are_no_longer_due(placed, ctx):
    org = placed
    ask_alice(org, org.pm_a2)
    assert len(panels.due(person(org.pm_a2))) == 1
    db.session.get(User, org.pm_a1.id).deactivated_at = utcnow()
    db.session.flush()
    assert panels.due(person(org.pm_a2)) == []


def test_due_lists_waiting_requests_overdue_first(placed, ctx):
    org = placed
    later = ask_alice(org, org.pm_a2, due_on=date.today() + timedelta(days=9))
    soon = ask_alice(org, org.pm_a2, due_on=date.today())
    undated = ask_alice(org, org.pm_a2)
    soon.due_on = date.today() - timedelta(days=2)  # overdue now
    done = ask_alice(org, org.pm_a2)
    answered = ask_of(done, org.pm_a2)
    asks.answer(person(org.pm_a2), answered, SBI, expected_revision=answered.revision)
    due = panels.due(person(org.pm_a2))
    assert [d.ask_id for d in due] == [ask_of(r, org.pm_a2).id for r in (soon, later, undated)]
    assert [d.is_overdue for d in due] == [True, False, False]
    assert due[0].competencies and due[0].competencies != ["skill-0-0"]  # names, not keys


def test_thanks_are_public_and_link_an_item_only_for_its_readers(placed, app, ctx):
    org = placed
    item_id = record(app, org.pm_a1, title="Checkout rescue")
    db.session.expire_all()
    thanks = thanks_service.give_thanks(
        person(org.manager_a), org.pm_a1.id, "  Saved the quarter. ", evidence_id=item_id
    )
    assert thanks.message == "Saved the quarter."
    assert kinds_for(org.pm_a1) == [(NotificationKind.THANKS, org.manager_a.id)]
    assert actions()[-1] == "thanks.given"
    for viewer, link in ((org.manager_a, True), (org.manager_b, False), (org.pm_b1, False)):
        (row,) = pages.thanks_page(person(viewer), 1).rows
        assert row.message == "Saved the quarter."
        assert (row.evidence_id == item_id) is link
        assert (row.evidence_title == "Checkout rescue") is link


def test_thanks_for_an_item_go_to_its_owner_without_naming_them(placed, app, ctx):
    org = placed
    item_id = record(app, org.pm_a1, title="Checkout rescue")
    db.session.expire_all()
    thanks = thanks_service.give_thanks(
        person(org.manager_a), None, "Saved the quarter.", evidence_id=item_id
    )
    assert thanks.recipient_id == org.pm_a1.id
    assert kinds_for(org.pm_a1) == [(NotificationKind.THANKS, org.manager_a.id)]


def test_thanks_refuse_oneself_an_empty_message_and_someone_elses_item(placed, app, ctx):
    org = placed
    item_id = record(app, org.pm_a1)
    db.session.expire_all()
    manager = person(org.manager_a)
    with pytest.raises(ValidationError) as refused:
        thanks_service.give_thanks(manager, org.manager_a.id, "Me!")
    assert refused.value.field == "recipient_id"
    with pytest.raises(ValidationError) as refused:
        thanks_service.give_thanks(manager, org.pm_a1.id, "   ")
    assert refused.value.field == "message"
    with pytest.raises(ValidationError):
        thanks_service.give_thanks(manager, org.pm_a2.id, "Thanks", evidence_id=item_id)
    with pytest.raises(NotFoundError):  # not readable by Bea
        thanks_service.give_thanks(person(org.pm_b1), org.pm_a1.id, "Hi", evidence_id=item_id)


def test_the_team_page_lists_thanks_to_the_line(placed, ctx):
    org = placed
    thanks_service.give_thanks(person(org.pm_b1), org.pm_d1.id, "Great launch.")
    thanks_service.give_thanks(person(org.pm_a1), org.pm_b1.id, "Great review.")
    assert [t.message for t in panels.team_thanks(person(org.manager_a))] == ["Great launch."]
    assert [t.message for t in panels.team_thanks(person(org.manager_b))] == ["Great review."]


# --- lessons ----------------------------------------------------------------------------------


def lesson(app, owner, **changes) -> int:
    values = {"title": "Checkout outage", "kind": EvidenceKind.LEARNING, "body": lessons.TEMPLATE}
    values.update(changes)
    return record(app, owner, **values)


def readers_of_lesson(org) -> set[str]:
    everyone = {
        "head": org.head,
        "manager_a": org.manager_a,
        "manager_b": org.manager_b,
        "pm_a1": org.pm_a1,
        "pm_a2": org.pm_a2,
        "pm_b1": org.pm_b1,
        "director": org.director,
        "pm_d1": org.pm_d1,
    }
    return {
        name
        for name, p in everyone.items()
        if any(i.title == "Checkout outage" for i in lessons.recent_lessons(person(p), 5))
    }


def test_a_shared_lesson_reaches_the_team_and_stops_when_unshared(placed, app, ctx):
    org = placed
    item_id = lesson(app, org.director)  # reports to manager_a, beside pm_a1 and pm_a2
    db.session.expire_all()
    assert readers_of_lesson(org) == set()  # an item, not yet a lesson
    lessons.share_lesson(person(org.director), item_id)
    # the team (who shares the director's manager, their direct reports) and, as for any shared
    # item, the line above; not the other team
    assert readers_of_lesson(org) == {"head", "manager_a", "pm_a1", "pm_a2", "pm_d1"}
    for teammate in (org.pm_a1, org.pm_a2, org.pm_d1):
        assert (NotificationKind.LESSON_SHARED, org.director.id) in kinds_for(teammate)
    assert kinds_for(org.pm_b1) == []
    lessons.stop_sharing_lesson(person(org.director), item_id)
    assert readers_of_lesson(org) == set()
    assert actions()[-2:] == ["evidence.lesson_shared", "evidence.lesson_unshared"]


def test_only_a_shared_learning_item_of_ones_own_is_a_lesson(placed, app, ctx):
    org = placed
    launch = record(app, org.pm_a1, title="A launch")
    draft = lesson(app, org.pm_a1, visibility=Visibility.PRIVATE)
    mine = lesson(app, org.pm_a1)
    db.session.expire_all()
    with pytest.raises(ValidationError, match="Only a lesson"):
        lessons.share_lesson(person(org.pm_a1), launch)
    with pytest.raises(ValidationError, match="manager first"):
        lessons.share_lesson(person(org.pm_a1), draft)
    with pytest.raises(NotFoundError):
        lessons.share_lesson(person(org.pm_a2), mine)


def test_changing_the_kind_or_unsharing_the_item_ends_the_lesson(placed, app, ctx):
    org = placed
    item_id = lesson(app, org.pm_a1)
    db.session.expire_all()
    lessons.share_lesson(person(org.pm_a1), item_id)
    item = evidence_service.get_evidence(item_id)
    evidence_service.update_evidence(
        person(org.pm_a1),
        item,
        evidence_input(title="Checkout outage", kind=EvidenceKind.LAUNCH),
        expected_revision=item.revision,
    )
    assert item.lesson_shared_at is None
    assert "pm_a2" not in readers_of_lesson(org)
    assert "evidence.lesson_unshared" in actions()[-2:]


def test_trashing_a_lesson_ends_it_and_a_restore_does_not_bring_it_back(placed, app, ctx):
    org = placed
    item_id = lesson(app, org.pm_a1)
    db.session.expire_all()
    lessons.share_lesson(person(org.pm_a1), item_id)
    item = evidence_service.get_evidence(item_id)
    evidence_service.trash_evidence(person(org.pm_a1), item)
    assert item.lesson_shared_at is None
    assert "evidence.lesson_unshared" in actions()[-2:]
    evidence_service.restore_evidence(person(org.pm_a1), item)
    assert item.lesson_shared_at is None
    assert "pm_a2" not in readers_of_lesson(org)


def test_the_inbox_says_what_happened_and_links_only_what_may_be_opened(placed, ctx):
    org = placed
    request = ask_alice(org, org.pm_a2)
    ask = ask_of(request, org.pm_a2)
    asks.answer(person(org.pm_a2), ask, SBI, expected_revision=ask.revision)
    asks.share_with_manager(person(org.pm_a1), request.id, ask.id)
    thanks_service.give_thanks(person(org.pm_a2), org.pm_a1.id, "Thanks for the review.")

    def notices(p):
        _page, entries = notifications.inbox(person(p), 1)
        return [(e.notice.verb, e.notice.endpoint) for e in entries if e.notice]

    assert notices(org.pm_a2) == [("asked you for", "feedback.answer")]
    assert notices(org.pm_a1) == [
        ("thanked you:", "people.show"),
        ("answered", "feedback.request"),
    ]
    assert notices(org.manager_a) == [("shared with you", "people.show")]
    asks.stop_sharing(person(org.pm_a1), request.id, ask.id)
    db.session.execute(  # read before it was taken back: the notice stays, without its link
        Notification.__table__.insert().values(
            recipient_id=org.manager_a.id,
            actor_id=org.pm_a1.id,
            kind=NotificationKind.FEEDBACK_SHARED,
            feedback_ask_id=ask.id,
        )
    )
    assert notices(org.manager_a) == [("shared with you", None)]
