"""The unsubscribe link (one click, no sign-in), notification settings, the Messages page."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Channel,
    DeliveryMode,
    DeliveryPreference,
    MessageCategory,
    MessageStatus,
    NotificationKind,
    OutboundMessage,
    User,
)
from app.services import notifications
from app.services.messages import dispatch, preferences, sending, unsubscribe
from tests.factories import sign_in


def mode(app, person_id, category, channel=Channel.EMAIL) -> DeliveryMode:
    with app.app_context():
        return preferences.mode_for(person_id, category, channel)


def one_email(app, org, mail_on):
    with app.app_context():
        notifications.notify([org.pm_a1.id], NotificationKind.CASE_PHASE, actor_id=org.head.id)
        db.session.commit()
        dispatch.dispatch_notifications()
        sending.send_due()
    [mail] = mail_on.messages
    return mail


def test_one_click_unsubscribe_from_the_email_header(app, org, client, mail_on):
    mail = one_email(app, org, mail_on)
    link = mail["List-Unsubscribe"].strip("<>")
    path = re.sub(r"^https?://[^/]+", "", link)
    # What a mail client does (RFC 8058): POST, no cookies, no CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Unsubscribed" in response.get_data(as_text=True)
    assert mode(app, org.pm_a1.id, MessageCategory.CYCLES) is DeliveryMode.OFF
    assert mode(app, org.pm_a1.id, MessageCategory.REMINDERS) is DeliveryMode.IMMEDIATE


def test_opening_the_link_asks_first_and_changes_nothing(app, org, client):
    with app.app_context():
        path = re.sub(
            r"^https?://[^/]+", "", unsubscribe.url(org.pm_a1.id, MessageCategory.REMINDERS)
        )
    page = client.get(path)
    assert page.status_code == 200
    assert "Stop these emails?" in page.get_data(as_text=True)
    assert mode(app, org.pm_a1.id, MessageCategory.REMINDERS) is DeliveryMode.IMMEDIATE


def test_a_forged_or_damaged_token_is_refused(app, org, client):
    with app.app_context():
        token = unsubscribe.token(org.pm_a1.id, MessageCategory.REMINDERS)
        transactional = unsubscribe.token(org.pm_a1.id, MessageCategory.TRANSACTIONAL)
    for bad in (token[:-3] + "abc", "nonsense", transactional):
        assert client.post(f"/unsubscribe/{bad}").status_code == 400
        assert client.get(f"/unsubscribe/{bad}").status_code == 400
    with app.app_context():
        assert db.session.scalars(select(DeliveryPreference)).all() == []


def test_a_person_chooses_how_each_kind_arrives(app, org, client):
    sign_in(client, org.pm_a1)
    page = client.get("/account/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Reminders of what is due" in text and "Always, immediately" in text
    assert "/account/notifications" in client.get("/").get_data(as_text=True)  # account menu
    response = client.post_form(
        "/account/notifications",
        {
            "reminders__email": "digest",
            "cycles__email": "off",
            "evidence__email": "immediate",
            "coaching__email": "digest",
            "feedback__email": "immediate",
        },
    )
    assert response.status_code == 302
    assert mode(app, org.pm_a1.id, MessageCategory.REMINDERS) is DeliveryMode.DIGEST
    assert mode(app, org.pm_a1.id, MessageCategory.CYCLES) is DeliveryMode.OFF
    assert mode(app, org.pm_a1.id, MessageCategory.EVIDENCE) is DeliveryMode.IMMEDIATE
    bad = client.post_form("/account/notifications", {"reminders__email": "hourly"})
    assert bad.status_code == 400
    assert "Not a valid choice" in bad.get_data(as_text=True)


def test_turning_a_category_off_cancels_what_waits(app, ctx, org, mail_on):
    notifications.notify([org.pm_a1.id], NotificationKind.KUDOS, actor_id=org.head.id)
    db.session.commit()
    dispatch.dispatch_notifications()
    [row] = db.session.scalars(select(OutboundMessage)).all()
    assert row.status is MessageStatus.HELD  # evidence: the digest by default
    preferences.choose(org.pm_a1.id, MessageCategory.EVIDENCE, Channel.EMAIL, DeliveryMode.OFF)
    db.session.commit()
    db.session.refresh(row)
    assert row.status is MessageStatus.CANCELLED


def test_the_head_sees_failed_messages_and_retries_them(app, org, client, mail_on):
    mail_on.fail_next(1, "550 No such mailbox")
    with app.app_context():
        notifications.notify([org.pm_a1.id], NotificationKind.CASE_PHASE, actor_id=org.head.id)
        db.session.commit()
        dispatch.dispatch_notifications()
        assert sending.send_due().failed == 1
    sign_in(client, org.head)
    assert "/messages" in client.get("/").get_data(as_text=True)
    page = client.get("/messages").get_data(as_text=True)
    assert "Email is on" in page and "550 No such mailbox" in page and "Alice Pm" in page
    with app.app_context():  # what the message says is Alice's, not the head's to read
        subject = db.session.scalar(select(OutboundMessage.subject))
    assert subject not in page and "Promotion cycles" in page
    with app.app_context():
        row_id = db.session.scalar(select(OutboundMessage.id))
    response = client.post_form(f"/messages/{row_id}/retry")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(OutboundMessage, row_id).status is MessageStatus.QUEUED
        sending.send_due()
    assert len(mail_on.to("alice@example.com")) == 1
    assert client.post_form(f"/messages/{row_id}/retry").status_code == 302  # not failed now


def test_only_the_head_opens_the_messages_page(app, org, client):
    sign_in(client, org.manager_a)
    assert client.get("/messages").status_code == 403
    assert client.post_form("/messages/retry").status_code == 403


def test_email_off_says_how_to_turn_it_on(app, org, client):
    sign_in(client, org.head)
    page = client.get("/messages").get_data(as_text=True)
    assert "Email is off" in page and "MAIL_SERVER" in page
    with app.app_context():
        assert db.session.get(User, org.head.id).email
