"""`flask reminders send`: dispatch, reminders, digests and sending; twice at once sends once."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from sqlalchemy import select

from app.extensions import db
from app.models import Job, MessageStatus, NotificationKind, OutboundMessage
from app.services import notifications
from tests.messages_worker import send_everything

PROCESSES = 3


def notify_everyone(app, org, times: int) -> int:
    with app.app_context():
        people = [org.manager_a.id, org.manager_b.id, org.pm_a1.id, org.pm_a2.id, org.pm_b1.id]
        for _ in range(times):
            # A cycle moving on: "Promotion cycles" arrive by email at once by default.
            notifications.notify(people, NotificationKind.CASE_PHASE, actor_id=org.head.id)
        db.session.commit()
        return len(people) * times


def test_the_command_sends_what_is_due(app, org, mail_on, monkeypatch):
    from app.services.todo import reminders

    asked = []
    monkeypatch.setattr(reminders, "queue_reminders", lambda now: asked.append(now) or 0)
    expected = notify_everyone(app, org, 2)
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert f"Notifications dispatched: {expected}." in result.output
    assert "Reminders queued: 0." in result.output
    assert f"Outbox: {expected} sent, 0 to retry, 0 failed." in result.output
    assert len(asked) == 1
    assert len(mail_on.messages) == expected
    with app.app_context():  # it sent them itself: no send job was submitted
        assert db.session.scalars(select(Job)).all() == []
    again = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert "Notifications dispatched: 0." in again.output
    assert len(mail_on.messages) == expected


def test_passes_at_once_in_separate_processes_send_each_message_once(app, org, mail_on):
    expected = notify_everyone(app, org, 8)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(PROCESSES) as pool:
        barrier = manager.Barrier(PROCESSES)
        said = pool.starmap(send_everything, [(uri, mail_on.settings, barrier)] * PROCESSES)
    assert len(said) == PROCESSES
    subjects = Counter((m.rcpt_tos[0], m["Message-ID"]) for m in mail_on.messages)
    assert len(mail_on.messages) == expected, said
    assert max(subjects.values()) == 1
    with app.app_context():
        rows = db.session.scalars(select(OutboundMessage)).all()
        assert len(rows) == expected
        assert {row.status for row in rows} == {MessageStatus.SENT}
        assert {row.notification_id for row in rows} == set(range(1, expected + 1))
