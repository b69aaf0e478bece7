"""Notifications become messages in the inbox's words, never more; once, however many passes."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Channel,
    DeliveryMode,
    MessageCategory,
    MessageStatus,
    Notification,
    NotificationKind,
    OutboundMessage,
    User,
    Visibility,
)
from app.services import notifications
from app.services.messages import dispatch, preferences, sending
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in


def inbox_lines(client) -> list[str]:
    page = client.get("/notifications").get_data(as_text=True)
    found = re.findall(r'<p class="notification-text">(.*?)</p>', page, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", f)).split()) for f in found]


def words(text: str) -> str:
    return " ".join(text.split())


def test_an_email_says_what_the_inbox_says_and_never_more(app, org, client, mail_on):
    publish_and_place(app, [org.pm_a1, org.manager_a])
    shared = record(app, org.pm_a1, title="Launched CSV import")  # Ada hears of it
    private = record(app, org.pm_a1, title="Secret pricing plan", visibility=Visibility.PRIVATE)
    with app.app_context():
        # A notification about an item Ada may not see (a private draft): the inbox says so.
        notifications.notify(
            [org.manager_a.id], NotificationKind.COMMENT, actor_id=org.pm_a1.id, evidence_id=private
        )
        preferences.choose(
            org.manager_a.id, MessageCategory.EVIDENCE, Channel.EMAIL, DeliveryMode.IMMEDIATE
        )
        db.session.commit()
        assert dispatch.dispatch_notifications() == 2
        assert sending.send_due().sent == 2
    mails = mail_on.to("ada@example.com")
    assert len(mails) == 2
    sign_in(client, org.manager_a)
    inbox = inbox_lines(client)
    for mail in mails:
        sentence = words(mail.text.split("\n\n")[0])
        assert any(sentence in line for line in inbox), (sentence, inbox)
        assert "Secret pricing plan" not in mail.text + mail.html + mail["Subject"]
    by_subject = {mail["Subject"]: mail for mail in mails}
    seen = by_subject["Alice Pm shared “Launched CSV import”"]
    assert f"/evidence/{shared}" in seen.text
    # The link, followed by Ada (signed in), opens the item.
    path = re.search(r"https?://[^/]+(/\S*)", seen.text.split("\n\n")[1]).group(1)
    assert client.get(path).status_code == 200
    hidden = by_subject["Alice Pm commented on an item you can no longer see"]
    assert f"/evidence/{private}" not in hidden.text + hidden.html


def test_each_notification_is_dispatched_once_and_as_the_person_prefers(app, ctx, org, mail_on):
    preferences.choose(org.manager_a.id, MessageCategory.CYCLES, Channel.EMAIL, DeliveryMode.OFF)
    preferences.choose(
        org.manager_a.id, MessageCategory.EVIDENCE, Channel.EMAIL, DeliveryMode.IMMEDIATE
    )
    notifications.notify([org.manager_a.id], NotificationKind.CASE_PHASE, actor_id=org.head.id)
    notifications.notify([org.manager_a.id], NotificationKind.KUDOS, actor_id=org.head.id)
    notifications.notify([org.manager_b.id], NotificationKind.KUDOS, actor_id=org.head.id)
    db.session.commit()
    assert dispatch.dispatch_notifications() == 3
    assert dispatch.dispatch_notifications() == 0
    rows = db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [(r.recipient_id, r.category, r.status) for r in rows] == [
        (org.manager_a.id, MessageCategory.EVIDENCE, MessageStatus.QUEUED),
        (org.manager_b.id, MessageCategory.EVIDENCE, MessageStatus.HELD),  # the default
    ]
    assert all(n.dispatched_at is not None for n in db.session.scalars(select(Notification)).all())


def test_a_notification_read_before_the_pass_is_not_sent(app, ctx, org, mail_on):
    notifications.notify([org.manager_a.id], NotificationKind.KUDOS, actor_id=org.head.id)
    db.session.commit()
    notifications.mark_read(org.manager_a.id)
    db.session.commit()
    assert dispatch.dispatch_notifications() == 1
    assert db.session.scalars(select(OutboundMessage)).all() == []


def test_your_data_holds_the_settings_and_the_messages_sent(app, ctx, org, mail_on):
    from app.services import personal_data
    from app.services.personal_data import coaching_plan

    preferences.choose(org.manager_a.id, MessageCategory.CYCLES, Channel.EMAIL, DeliveryMode.OFF)
    notifications.notify([org.manager_a.id], NotificationKind.KUDOS, actor_id=org.head.id)
    notifications.notify([org.manager_b.id], NotificationKind.KUDOS, actor_id=org.head.id)
    db.session.commit()
    dispatch.dispatch_notifications()
    document = personal_data.export_document(db.session.get(User, org.manager_a.id))
    settings = {(s["category"], s["channel"]): s for s in document["notification_settings"]}
    assert settings[("cycles", "email")] == {
        "category": "cycles",
        "channel": "email",
        "mode": "off",
        "chosen": True,
    }
    assert settings[("evidence", "email")]["chosen"] is False
    assert "transactional" not in {s["category"] for s in document["notification_settings"]}
    [message] = document["messages"]  # Ada's only, not Ben's
    assert message["subject"] == "Hana Head gave kudos for an item you can no longer see"
    assert message["status"] == "held" and message["address"] == "ada@example.com"
    assert {"notification_settings", "messages"} <= coaching_plan.TOP_LEVEL
