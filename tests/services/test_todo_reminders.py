"""Reminders of what is due (in 3 days, tomorrow, overdue) and the head of product's nudges:
each at most once, by the outbox's unique key, even with two runs at once."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CyclePhase,
    FeedbackAsk,
    FeedbackRequest,
    OutboundMessage,
    PhaseDeadline,
    PromotionCase,
    User,
)
from app.services.todo import reminders
from tests.promotion_helpers import cycle_with_cases
from tests.reminders_worker import queue_once

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def email_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")


def deadline(app, cycle_id: int, phase: CyclePhase, due_at: datetime) -> None:
    with app.app_context():
        db.session.add(PhaseDeadline(cycle_id=cycle_id, phase=phase, due_at=due_at))
        db.session.commit()


def queue(app, now: datetime) -> int:
    with app.app_context():
        queued = reminders.queue_reminders(now)
        db.session.commit()
        return queued


def outbox(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(
                OutboundMessage.recipient_id, OutboundMessage.dedupe_key, OutboundMessage.subject
            ).order_by(OutboundMessage.id)
        ).all()
        return [tuple(row) for row in rows]


def test_each_threshold_is_reminded_once_as_the_due_date_comes_closer(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    case_id = cycle.case_ids[org.pm_a1.id]
    due = NOW + timedelta(days=4)
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, due)

    assert queue(app, NOW) == 1  # four days ahead: told what and by when, once
    assert queue(app, NOW + timedelta(hours=1)) == 0
    assert queue(app, NOW + timedelta(days=1, hours=1)) == 1  # under three days
    assert queue(app, NOW + timedelta(days=2)) == 0  # already reminded at this threshold
    assert queue(app, NOW + timedelta(days=3, hours=1)) == 1  # due within a day
    assert queue(app, NOW + timedelta(days=5)) == 1  # overdue
    assert queue(app, NOW + timedelta(days=6)) == 0  # overdue is said once
    key = f"reminder:self_assessment:case:{case_id}"
    assert [(who, k.rsplit(":", 2)[0], s) for who, k, s in outbox(app)] == [
        (org.pm_a1.id, f"{key}:opened", "To do: Your self-assessment, due in 4 days"),
        (org.pm_a1.id, f"{key}:3_days", "Due in 3 days: Your self-assessment"),
        (org.pm_a1.id, f"{key}:tomorrow", "Due tomorrow: Your self-assessment"),
        (org.pm_a1.id, f"{key}:overdue", "Overdue: Your self-assessment"),
    ]
    with app.app_context():
        opened, message = db.session.scalars(
            select(OutboundMessage).order_by(OutboundMessage.id)
        ).all()[:2]
        assert "is waiting for you in Rungs, due Wed 9 Dec 2026, 12:00 UTC" in opened.body_text
        assert "is due in 3 days: Wed 9 Dec 2026, 12:00 UTC" in message.body_text
        assert message.link.endswith(f"/cases/{case_id}/self-assessment")


def test_a_task_set_due_tomorrow_gets_only_the_tomorrow_reminder_and_done_tasks_none(
    app, org, email_on
):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW + timedelta(hours=20))
    with app.app_context():
        db.session.get(PromotionCase, cycle.case_ids[org.pm_b1.id]).self_submitted_at = NOW
        db.session.commit()
    assert queue(app, NOW) == 1
    assert [(who, k.split(":")[-3]) for who, k, _ in outbox(app)] == [(org.pm_a1.id, "tomorrow")]


def test_a_day_due_date_is_the_end_of_that_day_where_the_person_lives_across_dst(
    app, org, email_on
):
    # New York leaves daylight saving at 02:00 on 1 November 2026: that day lasts 25 hours and
    # ends at 05:00 UTC on the 2nd (at the summer offset it would be 04:00).
    with app.app_context():
        db.session.get(User, org.pm_a2.id).time_zone = "America/New_York"
        request = FeedbackRequest(requester_id=org.pm_a1.id, due_on=datetime(2026, 11, 1).date())
        db.session.add(request)
        db.session.flush()
        db.session.add(FeedbackAsk(request_id=request.id, giver_id=org.pm_a2.id))
        db.session.commit()
    assert queue(app, datetime(2026, 11, 2, 4, 59, tzinfo=UTC)) == 1  # 23:59 on the 1st there
    assert queue(app, datetime(2026, 11, 2, 5, 0, tzinfo=UTC)) == 1  # midnight there: overdue
    assert [k.split(":")[-3] for _, k, _ in outbox(app)] == ["tomorrow", "overdue"]
    with app.app_context():
        body = db.session.scalars(select(OutboundMessage.body_text)).first()
    assert "Sunday 1 November 2026" in body


def test_without_email_or_slack_nothing_is_queued(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW)
    assert queue(app, NOW) == 0
    assert outbox(app) == []


def test_two_runs_at_once_in_two_processes_queue_each_reminder_once(app, org):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW + timedelta(hours=3))
    with app.app_context():
        for _ in range(30):
            request = FeedbackRequest(requester_id=org.pm_a1.id, due_on=NOW.date())
            db.session.add(request)
            db.session.flush()
            db.session.add(FeedbackAsk(request_id=request.id, giver_id=org.pm_b1.id))
        db.session.commit()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(2)
        with context.Pool(2) as pool:
            counts = pool.starmap(queue_once, [(uri, NOW, barrier)] * 2)
    rows = outbox(app)
    # One self-assessment reminder and 30 feedback reminders, each once whoever won each key.
    assert len(rows) == 31
    assert len({key for _, key, _ in rows}) == 31
    assert sum(counts) == 31, counts


def test_a_nudge_goes_at_most_once_a_day_per_person(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)
    people = [org.pm_a1.id, org.pm_b1.id, org.pm_a2.id]  # Arun has no case: nothing to nudge

    def nudge(now: datetime) -> int:
        with app.app_context():
            queued = reminders.nudge(
                people, now, cycle_id=cycle.cycle_id, phase=CyclePhase.SELF_ASSESSMENT.value
            )
            db.session.commit()
            return len(queued)

    assert nudge(NOW) == 2
    assert nudge(NOW + timedelta(hours=6)) == 0
    assert nudge(NOW + timedelta(days=1)) == 2
    assert {who for who, _, _ in outbox(app)} == {org.pm_a1.id, org.pm_b1.id}


def test_a_cycle_task_without_a_date_is_announced_once_then_again_with_its_date(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    assert queue(app, NOW) == 1
    assert queue(app, NOW + timedelta(days=1)) == 0
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW + timedelta(days=10))
    assert queue(app, NOW + timedelta(days=1)) == 1
    assert [s for _, _, s in outbox(app)] == [
        "To do: Your self-assessment",
        "To do: Your self-assessment, due in 9 days",
    ]
    with app.app_context():
        first = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).first()
        assert "No due date is set yet" in first.body_text


def test_a_task_long_overdue_when_reminders_start_gets_no_reminder(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW - timedelta(days=8))
    assert queue(app, NOW) == 0  # the first run after email was turned on stays quiet
    assert queue(app, NOW - timedelta(days=6)) == 1  # two days late, within the week: said


def test_the_reminder_says_how_many_of_the_persons_own_days_are_left(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    with app.app_context():
        db.session.get(User, org.pm_a1.id).time_zone = "America/New_York"
        db.session.commit()
    # Saturday 12:00 UTC, 07:00 in New York; due Monday 12:00 UTC: two of her days away.
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW + timedelta(days=2))
    assert queue(app, NOW) == 1
    [(_, _, subject)] = outbox(app)
    assert subject == "Due in 2 days: Your self-assessment"
    with app.app_context():
        body = db.session.scalars(select(OutboundMessage)).one().body_text
    assert "is due in 2 days: Mon 7 Dec 2026, 07:00 EST" in body


def test_a_channel_linked_later_still_gets_the_reminder_once(app, org, email_on):
    cycle = cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT, candidates=("pm_a1",))
    deadline(app, cycle.cycle_id, CyclePhase.SELF_ASSESSMENT, NOW + timedelta(hours=2))
    assert queue(app, NOW) == 1
    assert queue(app, NOW) == 0  # nothing rendered or inserted again
    with app.app_context():
        db.session.get(User, org.pm_a1.id).slack_user_id = "U0ALICE"
        db.session.commit()
    assert queue(app, NOW) == 1  # Slack's copy; the email is not sent twice
    assert [k.rsplit(":", 1)[1] for _, k, _ in outbox(app)] == ["email", "slack"]
