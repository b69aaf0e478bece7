"""The daily digest: at DIGEST_HOUR in each person's time zone, once a day, with what was held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import DeliveryMode, MessageCategory, MessageStatus, OutboundMessage, User
from app.services import messages
from app.services.messages import digest, sending
from app.services.messages.unsubscribe import read


def hold(person_id: int, subject: str, key: str) -> None:
    person = db.session.get(User, person_id)
    ids = messages.deliver(
        person,
        MessageCategory.EVIDENCE,  # a digest by default
        subject=subject,
        template="notice",
        context={"text": subject, "preferences_link": "x"},
        link=messages.absolute_url("notifications.inbox"),
        dedupe_key=key,
    )
    db.session.commit()
    assert ids


def rows(**where) -> list[OutboundMessage]:
    db.session.expire_all()
    return db.session.scalars(
        select(OutboundMessage).filter_by(**where).order_by(OutboundMessage.id)
    ).all()


def test_the_digest_comes_at_the_local_hour_once_with_what_was_held(
    app, ctx, org, mail_on, monkeypatch
):
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 8)
    ada = db.session.get(User, org.manager_a.id)
    ada.time_zone = "America/New_York"  # 08:00 there is 13:00 UTC in winter
    db.session.commit()
    evening = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        hold(ada.id, "Alice Pm shared “Launch”", "a")
        hold(ada.id, "Bea Pm gave kudos for “Pricing”", "b")
    assert digest.send_due_digests(datetime(2026, 12, 2, 12, 59, tzinfo=UTC)) == 0
    at_eight = datetime(2026, 12, 2, 13, 1, tzinfo=UTC)
    assert digest.send_due_digests(at_eight) == 1
    assert digest.send_due_digests(at_eight + timedelta(minutes=5)) == 0  # once a day
    assert sending.send_due(at_eight).sent == 1
    [mail] = mail_on.messages
    assert mail["Subject"] == "Your Rungs digest: 2 updates"
    assert "Alice Pm shared “Launch”" in mail.text and "Bea Pm gave kudos" in mail.html
    token = mail["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert read(token).category is None  # turns the digest off
    assert [r.status for r in rows(recipient_id=ada.id)] == [
        MessageStatus.DIGESTED,
        MessageStatus.DIGESTED,
        MessageStatus.SENT,
    ]
    # Held after today's digest: it waits for tomorrow's.
    with time_machine.travel(at_eight + timedelta(hours=1), tick=False):
        hold(ada.id, "Later news", "c")
    assert digest.send_due_digests(at_eight + timedelta(hours=2)) == 0
    assert digest.send_due_digests(at_eight + timedelta(days=1)) == 1


def test_two_passes_make_one_digest(app, ctx, org, mail_on, monkeypatch):
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 8)
    with time_machine.travel(datetime(2026, 12, 1, 22, 0, tzinfo=UTC), tick=False):
        hold(org.manager_a.id, "Something", "a")
    at_nine = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    person = db.session.get(User, org.manager_a.id)
    moment = digest.digest_moment(at_nine, "UTC")
    assert digest.make(person, rows()[0].channel, at_nine, moment) is not None
    assert digest.make(person, rows()[0].channel, at_nine, moment) is None
    db.session.commit()
    assert len(rows(status=MessageStatus.QUEUED)) == 1


def test_turning_one_category_off_leaves_a_queued_digest_of_several_alone(
    app, ctx, org, mail_on, monkeypatch
):
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 8)
    person = db.session.get(User, org.manager_a.id)
    with time_machine.travel(datetime(2026, 12, 1, 22, 0, tzinfo=UTC), tick=False):
        hold(person.id, "Evidence news", "a")
        messages.deliver(
            person,
            MessageCategory.COACHING,  # a digest by default too
            subject="A goal was agreed",
            template="notice",
            context={"text": "A goal was agreed", "preferences_link": "x"},
            link=messages.absolute_url("notifications.inbox"),
            dedupe_key="b",
        )
        db.session.commit()
    assert digest.send_due_digests(datetime(2026, 12, 2, 9, 0, tzinfo=UTC)) == 1
    (queued,) = rows(status=MessageStatus.QUEUED)
    assert queued.category is MessageCategory.EVIDENCE  # its first item's

    messages.preferences.choose(
        person.id, MessageCategory.EVIDENCE, queued.channel, DeliveryMode.OFF
    )
    db.session.commit()
    assert [r.subject for r in rows(status=MessageStatus.QUEUED)] == [queued.subject]
