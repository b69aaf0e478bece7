"""Sending the outbox through a real SMTP server: both parts, the headers, retries, claims."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import MessageCategory, MessageStatus, OutboundMessage, User
from app.models.base import utcnow
from app.services import messages
from app.services.messages import sending


def queue(person_id: int, category=MessageCategory.REMINDERS, key="k") -> list[int]:
    person = db.session.get(User, person_id)
    ids = messages.deliver(
        person,
        category,
        subject="Your self-assessment is due tomorrow",
        template="notice",
        context={"text": "Your self-assessment is due tomorrow.", "preferences_link": "x"},
        link=messages.absolute_url("main.home"),
        dedupe_key=key,
    )
    db.session.commit()
    return ids


def statuses() -> dict[int, OutboundMessage]:
    db.session.expire_all()
    return {row.id: row for row in db.session.scalars(select(OutboundMessage))}


def test_an_email_has_both_parts_and_one_click_unsubscribe(app, ctx, org, mail_on):
    [row_id] = queue(org.pm_a1.id)
    outcome = sending.send_due()
    assert (outcome.sent, outcome.failed) == (1, 0)
    [mail] = mail_on.messages
    assert mail.rcpt_tos == ["alice@example.com"]
    assert mail["Subject"] == "Your self-assessment is due tomorrow"
    assert "due tomorrow" in mail.text and "due tomorrow" in mail.html
    alternatives = [
        p for p in mail.message.walk() if p.get_content_type() == "multipart/alternative"
    ]
    [alternative] = alternatives
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail["List-Unsubscribe"].strip("<>")
    assert "/unsubscribe/" in link
    # On the wire as a plain URL in angle brackets, which is what mail providers read (folded at
    # 78 characters, Python's SMTP policy wrote it as RFC 2047 encoded words instead).
    assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in mail.raw
    assert statuses()[row_id].status is MessageStatus.SENT


def test_transactional_mail_has_no_unsubscribe_header(app, ctx, org, mail_on):
    queue(org.pm_a1.id, MessageCategory.TRANSACTIONAL)
    sending.send_due()
    [mail] = mail_on.messages
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None


def test_a_refused_message_is_retried_with_growing_delays_then_failed(
    app, ctx, org, mail_on, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    [row_id] = queue(org.pm_a1.id)
    mail_on.fail_next(3)
    now = utcnow()
    assert sending.send_due(now).retrying == 1
    row = statuses()[row_id]
    base = app.config["MAIL_RETRY_BASE_SECONDS"]
    assert row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=base)
    assert sending.send_due(now).sent == 0  # not due yet
    later = now + timedelta(seconds=base)
    assert sending.send_due(later).retrying == 1
    assert statuses()[row_id].next_attempt_at == later + timedelta(seconds=2 * base)
    assert sending.send_due(later + timedelta(seconds=2 * base)).failed == 1
    row = statuses()[row_id]
    assert row.status is MessageStatus.FAILED and row.attempts == 3
    assert mail_on.messages == []


def test_a_permanent_refusal_fails_at_once(app, ctx, org, mail_on):
    [row_id] = queue(org.pm_a1.id)
    mail_on.fail_next(1, "550 No such mailbox")
    assert sending.send_due().failed == 1
    assert statuses()[row_id].status is MessageStatus.FAILED


def test_no_server_means_retry_later(app, ctx, org, smtp_server):
    with smtp_server.configured(app):
        [row_id] = queue(org.pm_a1.id)
    smtp_server.stop()
    with smtp_server.configured(app):
        assert sending.send_due().retrying == 1
    assert statuses()[row_id].status is MessageStatus.QUEUED


def test_a_claimed_row_is_not_claimed_again(app, ctx, org, mail_on):
    queue(org.pm_a1.id, key="a")
    queue(org.pm_a2.id, key="b")
    first = sending.claim(utcnow(), 1)
    second = sending.claim(utcnow(), 5)
    assert len(first) == 1 and len(second) == 1
    assert first[0].id != second[0].id
    assert sending.claim(utcnow(), 5) == []


def test_slack_rows_go_to_slack_send_and_its_errors_are_retried(app, ctx, org, monkeypatch):
    from app.services.messages import slack

    person = db.session.get(User, org.pm_a1.id)
    person.slack_user_id = "U123"
    db.session.commit()
    sent = []
    monkeypatch.setattr(slack, "send", lambda row: sent.append(row.address))
    queue(org.pm_a1.id)
    assert sending.send_due().sent == 1 and sent == ["U123"]

    def refuse(row):
        raise slack.SlackError("ratelimited")

    monkeypatch.setattr(slack, "send", refuse)
    queue(org.pm_a1.id, key="other")
    outcome = sending.send_due()
    assert outcome.retrying == 1 and "ratelimited" in outcome.errors[0]


def test_queuing_submits_the_send_job_which_sends_after_the_commit(app, ctx, org, mail_on):
    from app.models import Job
    from app.services import jobs

    queue(org.pm_a1.id, key="a")
    queue(org.pm_a2.id, key="b")
    assert len(db.session.scalars(select(Job).where(Job.kind == sending.JOB_KIND)).all()) == 1
    jobs.run_pending(app)
    assert sorted(m.rcpt_tos[0] for m in mail_on.messages) == [
        "alice@example.com",
        "arun@example.com",
    ]
