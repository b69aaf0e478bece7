"""The sender's safety: no transaction (on SQLite, no write lock) while a mail server or Slack
answers; what was sent is recorded whatever goes wrong; a sign-in link is not kept once its
message failed; a batch stops before its lease ends; a row cancelled meanwhile stays so."""

from __future__ import annotations

import smtplib
import sqlite3

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Channel, MessageCategory, MessageStatus, OutboundMessage, User
from app.models.base import utcnow
from app.services.messages import admin, sending, slack
from tests.services.test_sending import queue, statuses
from tests.slack_helpers import BOT_TOKEN, FakeSlack

_send_mail = sending._TimedConnection.send


def _others_can_write() -> bool:
    """Whether another connection could take SQLite's write lock at once (PostgreSQL: yes)."""
    if db.engine.dialect.name != "sqlite":
        return True
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def _on_slack(person_id: int, slack_id: str) -> None:
    db.session.get(User, person_id).slack_user_id = slack_id
    db.session.commit()


def test_no_transaction_is_open_while_the_mail_server_or_slack_answers(
    app, ctx, org, mail_on, monkeypatch
):
    seen = []

    def spy_mail(connection, message, *args, **kwargs):
        seen.append(("email", db.session().in_transaction(), _others_can_write()))
        return _send_mail(connection, message, *args, **kwargs)

    call = slack.call

    def spy_slack(request):  # slack.send's call to Slack, after it read the settings
        seen.append(("slack", db.session().in_transaction(), _others_can_write()))
        return call(request)

    with FakeSlack() as fake:
        monkeypatch.setitem(app.config, "SLACK_API_URL", fake.api_url)
        fake.users |= {"alice@example.com": "U0ALICE", "arun@example.com": "U0ARUN"}
        slack.save_settings(db.session.get(User, org.head.id), token=BOT_TOKEN)
        _on_slack(org.pm_a1.id, "U0ALICE")
        _on_slack(org.pm_a2.id, "U0ARUN")
        queue(org.pm_a1.id, key="a")  # by email and on Slack
        queue(org.pm_a2.id, key="b")
        monkeypatch.setattr(sending._TimedConnection, "send", spy_mail)
        monkeypatch.setattr(slack, "call", spy_slack)
        outcome = sending.send_due()
        assert len(fake.calls("chat.postMessage")) == 2
    assert (outcome.sent, outcome.failed, outcome.retrying) == (4, 0, 0), outcome.errors
    assert seen == [("email", False, True)] * 2 + [("slack", False, True)] * 2
    assert {row.status for row in statuses().values()} == {MessageStatus.SENT}


def test_an_address_smtp_cannot_carry_fails_alone_and_the_rest_is_sent(app, ctx, org, mail_on):
    db.session.get(User, org.pm_a1.id).email = "josé@example.com"
    db.session.commit()
    [accented] = queue(org.pm_a1.id, key="a")
    [plain] = queue(org.pm_a2.id, key="b")
    outcome = sending.send_due()
    assert (outcome.sent, outcome.failed) == (1, 1)
    rows = statuses()
    assert rows[accented].status is MessageStatus.FAILED
    assert "josé@example.com" in rows[accented].last_error
    assert "ASCII" in rows[accented].last_error
    assert rows[plain].status is MessageStatus.SENT
    assert [mail.rcpt_tos for mail in mail_on.messages] == [["arun@example.com"]]


def test_an_unforeseen_error_half_way_through_smtp_fails_that_row_only(
    app, ctx, org, mail_on, monkeypatch
):
    [first] = queue(org.pm_a1.id, key="a")
    [second] = queue(org.pm_a2.id, key="b")
    rcpt = smtplib.SMTP.rcpt
    tried = []

    def broken_once(self, recipient, options=()):  # after MAIL FROM: the dialogue is open
        tried.append(recipient)
        if len(tried) == 1:
            raise ValueError("something unforeseen")
        return rcpt(self, recipient, options)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", broken_once)
    outcome = sending.send_due()
    assert (outcome.sent, outcome.failed) == (1, 1)
    rows = statuses()
    assert rows[first].status is MessageStatus.FAILED
    assert "ValueError: something unforeseen" in rows[first].last_error
    assert rows[second].status is MessageStatus.SENT  # the connection was reset, not stuck
    assert [mail.rcpt_tos for mail in mail_on.messages] == [["arun@example.com"]]


class Interrupted(BaseException):
    """Like a worker stopped mid-pass."""


def test_what_was_sent_is_recorded_even_when_the_pass_is_interrupted(
    app, ctx, org, mail_on, monkeypatch
):
    _on_slack(org.pm_a1.id, "U0ALICE")
    _on_slack(org.pm_a2.id, "U0ARUN")
    queue(org.pm_a1.id, key="a")
    queue(org.pm_a2.id, key="b")

    def interrupted(row):
        raise Interrupted

    monkeypatch.setattr(slack, "send", interrupted)
    now = utcnow()
    with pytest.raises(Interrupted):
        sending.send_due(now)
    rows = sorted(statuses().values(), key=lambda row: row.id)
    emails = [row for row in rows if row.channel is Channel.EMAIL]
    in_flight, not_tried = [row for row in rows if row.channel is Channel.SLACK]
    assert [row.status for row in emails] == [MessageStatus.SENT] * 2
    assert len(mail_on.messages) == 2
    # The Slack message being sent may have gone: it waits for its lease to end.
    assert in_flight.status is MessageStatus.QUEUED and in_flight.next_attempt_at > now
    # The one never tried is due again at once, its attempt not counted.
    assert not_tried.status is MessageStatus.QUEUED and not_tried.next_attempt_at <= now
    assert not_tried.attempts == 0


def test_a_failed_sign_in_message_keeps_no_link_and_is_not_sent_again_empty(app, ctx, org, mail_on):
    [row_id] = queue(org.pm_a1.id, MessageCategory.TRANSACTIONAL)
    mail_on.fail_next(1, "550 No such mailbox")
    assert sending.send_due().failed == 1
    row = statuses()[row_id]
    assert row.status is MessageStatus.FAILED and "550" in row.last_error
    assert "link is not kept" in row.body_text and "Not sent" in row.body_text
    assert (row.body_html, row.link) == ("", "")
    # The head of product presses Retry: nothing empty goes out, and the error says why.
    assert admin.retry(row_id) == 1
    db.session.commit()
    outcome = sending.send_due()
    assert (outcome.sent, outcome.failed) == (0, 1)
    row = statuses()[row_id]
    assert row.status is MessageStatus.FAILED
    assert row.last_error == (
        "The sign-in link was not kept: send a new one from the person's page"
    )
    assert mail_on.messages == []


def test_a_batch_stops_at_half_its_lease_and_gives_the_rest_back(
    app, ctx, org, mail_on, monkeypatch
):
    for key in ("a", "b", "c"):
        queue(org.pm_a1.id, key=key)
    clock = [0.0]
    monkeypatch.setattr(sending, "_clock", lambda: clock[0])

    def slow(connection, message, *args, **kwargs):  # each takes longer than half the lease
        clock[0] += sending.LEASE.total_seconds() / 2 + 1
        return _send_mail(connection, message, *args, **kwargs)

    monkeypatch.setattr(sending._TimedConnection, "send", slow)
    now = utcnow()
    assert sending.send_due(now, limit=3).sent == 1
    rows = statuses().values()
    [sent] = [row for row in rows if row.status is MessageStatus.SENT]
    assert sent.attempts == 1
    given_back = [row for row in rows if row.status is MessageStatus.QUEUED]
    assert len(given_back) == 2
    assert all(row.attempts == 0 and row.next_attempt_at <= now for row in given_back)
    assert len(mail_on.messages) == 1
    # The next pass sends the rest, once each (a batch at a time: the first row always goes).
    assert sending.send_due(now).sent == 2
    assert len(mail_on.messages) == 3
    assert [(row.status, row.attempts) for row in statuses().values()] == [
        (MessageStatus.SENT, 1)
    ] * 3


@pytest.mark.parametrize("reply", [None, "550 No such mailbox", "451 Try again later"])
def test_a_message_cancelled_while_it_was_sent_stays_cancelled(
    app, ctx, org, mail_on, monkeypatch, reply
):
    [row_id] = queue(org.pm_a1.id)
    if reply:
        mail_on.fail_next(1, reply)

    def cancel_then_send(connection, message, *args, **kwargs):
        with db.engine.begin() as other:  # the person turns these emails off meanwhile
            other.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row_id)
                .values(status=MessageStatus.CANCELLED)
            )
        return _send_mail(connection, message, *args, **kwargs)

    monkeypatch.setattr(sending._TimedConnection, "send", cancel_then_send)
    sending.send_due()
    assert statuses()[row_id].status is MessageStatus.CANCELLED
