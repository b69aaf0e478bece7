"""Slack through the official SDK against a local server that answers as Slack does: settings
kept whole but shown as hints, direct messages from the outbox, errors that say whether to
retry, the webhook only for what everyone may see, and linking people by email."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from app.core.errors import ForbiddenError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    Channel,
    CyclePhase,
    MessageCategory,
    MessageStatus,
    OutboundMessage,
    PhaseDeadline,
    User,
)
from app.services import jobs
from app.services.messages import slack, slack_links
from app.services.promotions import cycles
from tests.promotion_helpers import place, publish_sample
from tests.slack_helpers import BOT_TOKEN, Answer, FakeSlack


@pytest.fixture
def fake(app, monkeypatch):
    with FakeSlack() as server:
        monkeypatch.setitem(app.config, "SLACK_API_URL", server.api_url)
        yield server


def _user(person) -> User:
    return db.session.get(User, person.id)


def _configure(head, *, token=BOT_TOKEN, webhook_url=None):
    slack.save_settings(_user(head), token=token, webhook_url=webhook_url)
    db.session.commit()


def _message(**values) -> OutboundMessage:
    fields = {
        "recipient_id": 1,
        "channel": Channel.SLACK,
        "category": MessageCategory.REMINDERS,
        "address": "U0ALICE",
        "subject": "Your self-assessment is due tomorrow",
        "body_text": "Write it before Friday <3 & thanks",
        "link": "http://rungs.example/cases/7/self",
        "status": MessageStatus.QUEUED,
    } | values
    return OutboundMessage(**fields)


def test_settings_are_stored_whole_shown_as_hints_and_audited_without_secrets(ctx, org, fake):
    _configure(org.head, webhook_url=fake.webhook_url)
    stored = slack.stored()
    assert stored.token == BOT_TOKEN
    assert stored.token_hint == "xoxb-…mnop"
    assert stored.webhook_hint.startswith("http://127.0.0.1:")
    assert stored.webhook_hint.endswith("…uvwx")
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "settings.slack_changed")
    ).scalar_one()
    assert BOT_TOKEN not in str(event.after) and "abcdefghijkl" not in str(event.after)
    # A blank value keeps what is stored; removing one keeps the other.
    slack.save_settings(_user(org.head), token="", remove_webhook=True)
    assert slack.stored().token == BOT_TOKEN and not slack.stored().has_webhook


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"token": "xoxp-user-token"}, "token"),
        ({"token": "xoxb-has space"}, "token"),
        ({"webhook_url": "https://example.com/services/T/B/C"}, "webhook_url"),
        ({"webhook_url": "http://hooks.slack.com/services/T/B/C"}, "webhook_url"),
        ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
    ],
)
def test_bad_settings_are_refused_by_their_field(ctx, org, fake, values, field):
    with pytest.raises(ValidationError) as refused:
        slack.save_settings(_user(org.head), **values)
    assert refused.value.field == field


def test_only_the_head_changes_settings(ctx, org, fake):
    with pytest.raises(ForbiddenError):
        slack.save_settings(_user(org.manager_a), token=BOT_TOKEN)


def test_send_posts_a_direct_message_with_the_sdk(ctx, org, fake):
    _configure(org.head)
    fake.users["alice@example.com"] = "U0ALICE"
    slack.send(_message())
    (call,) = fake.calls("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert "slackclient/" in call.headers["user-agent"]  # the official SDK made the call
    fields = call.json or call.form
    assert fields["channel"] == "U0ALICE"
    assert fields["text"] == (
        "*Your self-assessment is due tomorrow*\n\n"
        "Write it before Friday &lt;3 &amp; thanks\n\n"
        "<http://rungs.example/cases/7/self|Open in Rungs>"
    )


@pytest.mark.parametrize(
    ("script", "code", "retryable", "retry_after"),
    [
        (lambda fake: fake.rate_limit("chat.postMessage", retry_after=42), "ratelimited", True, 42),
        (lambda fake: fake.fail("chat.postMessage", "invalid_auth"), "invalid_auth", False, None),
        (
            lambda fake: fake.fail("chat.postMessage", "account_inactive"),
            "account_inactive",
            False,
            None,
        ),
        (
            lambda fake: fake.fail("chat.postMessage", "channel_not_found"),
            "channel_not_found",
            False,
            None,
        ),
        (
            lambda fake: fake.fail("chat.postMessage", "internal_error"),
            "internal_error",
            True,
            None,
        ),
        (
            lambda fake: fake.fail("chat.postMessage", "fatal_error", status=500),
            "fatal_error",
            True,
            None,
        ),
        (
            lambda fake: fake.script(
                "chat.postMessage",
                Answer(502, "<html>Bad gateway</html>", content_type="text/html"),
            ),
            "http_502",
            True,
            None,
        ),
    ],
)
def test_send_raises_slack_error_saying_whether_to_retry(
    ctx, org, fake, script, code, retryable, retry_after
):
    _configure(org.head)
    fake.users["alice@example.com"] = "U0ALICE"
    script(fake)
    with pytest.raises(slack.SlackError) as failed:
        slack.send(_message())
    assert failed.value.code == code
    assert failed.value.retryable is retryable
    assert failed.value.retry_after == retry_after
    assert code in failed.value.message or "rate limiting" in failed.value.message
    assert len(failed.value.message) < 200


def test_a_long_message_is_cut_before_slack_would_and_keeps_its_link(ctx, org, fake):
    _configure(org.head)
    fake.users["alice@example.com"] = "U0ALICE"
    slack.send(_message(body_text="word " * 20_000))
    text = fake.calls("chat.postMessage")[0].json["text"]
    assert len(text) < 40_000 and text.endswith(
        " …\n\n<http://rungs.example/cases/7/self|Open in Rungs>"
    )


def test_send_without_a_token_fails_for_good_and_never_uses_the_webhook(ctx, org, fake):
    slack.save_settings(_user(org.head), webhook_url=fake.webhook_url)
    with pytest.raises(slack.SlackError) as failed:
        slack.send(_message())
    assert failed.value.code == "not_configured" and not failed.value.retryable
    assert fake.requests == []


def test_send_when_slack_cannot_be_reached_is_retryable(ctx, org, app, monkeypatch):
    with FakeSlack() as gone:
        url = gone.api_url
    monkeypatch.setitem(app.config, "SLACK_API_URL", url)  # nothing listens there any more
    slack.save_settings(_user(org.head), token=BOT_TOKEN)
    with pytest.raises(slack.SlackError) as failed:
        slack.send(_message())
    assert failed.value.code == "network" and failed.value.retryable


def test_a_row_for_the_webhook_goes_to_its_channel_and_fails_for_good_without_one(ctx, org, fake):
    announcement = _message(
        address=slack.WEBHOOK_ADDRESS, subject="Self-assessments are open", body_text="Due soon."
    )
    with pytest.raises(slack.SlackError) as failed:
        slack.send(announcement)  # no webhook: never someone's DMs instead
    assert failed.value.code == "not_configured" and not failed.value.retryable
    slack.save_settings(_user(org.head), token=BOT_TOKEN, webhook_url=fake.webhook_url)
    slack.send(announcement)
    (call,) = fake.calls("webhook")
    assert call.json["text"].startswith("*Self-assessments are open*\n\nDue soon.")
    assert fake.calls("chat.postMessage") == []
    fake.fail_webhook(410, "channel_is_archived")
    with pytest.raises(slack.SlackError) as failed:
        slack.send(announcement)
    assert failed.value.code == "channel_is_archived" and not failed.value.retryable
    fake.fail_webhook(429, "rate_limited")
    with pytest.raises(slack.SlackError) as failed:
        slack.send(announcement)
    assert failed.value.code == "ratelimited" and failed.value.retryable


def test_check_connection_reports_each_setting(ctx, org, fake):
    _configure(org.head, webhook_url=fake.webhook_url)
    results = slack.check_connection(slack.stored())
    assert [r.is_ok for r in results] == [True, True]
    assert "rungs in Orbit" in results[0].message
    assert fake.calls("auth.test") and fake.calls("webhook")
    fake.fail("auth.test", "invalid_auth")
    fake.fail_webhook(404, "no_service")
    results = slack.check_connection(slack.stored())
    assert [r.is_ok for r in results] == [False, False]
    assert "invalid_auth" in results[0].message and "no_service" in results[1].message


def test_a_person_links_themself_by_email(ctx, org, fake):
    _configure(org.head)
    fake.users["alice@example.com"] = "U0ALICE"
    assert slack_links.link_self(_user(org.pm_a1)) == "U0ALICE"
    (call,) = fake.calls("users.lookupByEmail")
    assert call.form["email"] == "alice@example.com"
    assert _user(org.pm_a1).slack_user_id == "U0ALICE"


def test_linking_someone_slack_does_not_know_says_so(ctx, org, fake):
    _configure(org.head)
    with pytest.raises(ValidationError, match=r"no one with the address alice@example\.com"):
        slack_links.link_self(_user(org.pm_a1))
    fake.users["alice@example.com"] = "U0ALICE"
    fake.deleted.add("alice@example.com")
    with pytest.raises(ValidationError):
        slack_links.link_self(_user(org.pm_a1))
    assert _user(org.pm_a1).slack_user_id is None


def test_linking_without_a_token_or_with_a_bad_one_says_so(ctx, org, fake):
    with pytest.raises(ValidationError, match="not connected"):
        slack_links.link_self(_user(org.pm_a1))
    _configure(org.head, token="xoxb-revoked-0000")
    with pytest.raises(ValidationError, match="invalid_auth"):
        slack_links.link_self(_user(org.pm_a1))


def test_unlinking_cancels_the_slack_messages_still_waiting(ctx, org, fake):
    alice = _user(org.pm_a1)
    alice.slack_user_id = "U0ALICE"
    db.session.add_all(
        [
            _message(recipient_id=alice.id, dedupe_key="a"),
            _message(recipient_id=alice.id, dedupe_key="b", status=MessageStatus.SENT),
            _message(recipient_id=alice.id, dedupe_key="c", channel=Channel.EMAIL),
        ]
    )
    db.session.flush()
    slack_links.unlink(alice, alice.id)
    statuses = dict(
        db.session.execute(db.select(OutboundMessage.dedupe_key, OutboundMessage.status)).all()
    )
    assert statuses == {
        "a": MessageStatus.CANCELLED,
        "b": MessageStatus.SENT,
        "c": MessageStatus.QUEUED,
    }
    assert alice.slack_user_id is None
    with pytest.raises(ForbiddenError):
        slack_links.unlink(_user(org.pm_a2), org.head.id)


def test_linking_everyone_links_whom_slack_knows_and_waits_when_rate_limited(
    ctx, org, fake, monkeypatch
):
    _configure(org.head)
    fake.users |= {"alice@example.com": "U0ALICE", "bea@example.com": "U0BEA"}
    _user(org.pm_a2).slack_user_id = "U0ARUN"  # linked already: not asked again
    db.session.commit()
    fake.rate_limit("users.lookupByEmail", retry_after=3)
    waits = []
    monkeypatch.setattr(slack_links.time, "sleep", waits.append)
    result = slack_links.link_everyone({"actor_id": org.head.id}, lambda *_: None)
    assert waits == [3]
    asked = [call.form["email"] for call in fake.calls("users.lookupByEmail")]
    assert "arun@example.com" not in asked and len(asked) == 7 + 1  # one asked twice
    linked = dict(db.session.execute(db.select(User.email, User.slack_user_id)).all())
    assert linked["alice@example.com"] == "U0ALICE" and linked["bea@example.com"] == "U0BEA"
    assert linked["dev@example.com"] is None
    with jobs.result_file(result.path).open(encoding="utf-8") as written:
        rows = {row["Email"]: row["Slack"] for row in csv.DictReader(written)}
    assert rows["alice@example.com"] == "Linked (U0ALICE)"
    assert rows["dev@example.com"] == "Not found in Slack"
    assert slack_links.link_counts().linked == 3


def test_linking_everyone_stops_when_slack_refuses_the_token(ctx, org, fake):
    _configure(org.head, token="xoxb-revoked-0000")
    with pytest.raises(ValidationError, match="refused the bot token"):
        slack_links.link_everyone({"actor_id": org.head.id}, lambda *_: None)


def test_a_phase_opening_is_announced_in_the_webhook_channel_through_the_outbox(
    app, ctx, org, fake
):
    levels = publish_sample(app)
    place(app, [org.pm_a1], levels["L1"])
    head = _user(org.head)
    assert cycles.create_cycle(head, "No webhook yet") and _announcements() == []
    slack.save_settings(head, webhook_url=fake.webhook_url)
    cycle = cycles.create_cycle(head, "H1 2027")
    db.session.add(
        PhaseDeadline(
            cycle_id=cycle.id,
            phase=CyclePhase.SELF_ASSESSMENT,
            due_at=datetime(2026, 12, 18, 17, 0, tzinfo=UTC),
        )
    )
    cycles.nominate(_user(org.manager_a), cycle.id, org.pm_a1.id, levels["L2"], "Ready.")
    cycles.move_phase(head, cycle.id, CyclePhase.SELF_ASSESSMENT, expected_revision=cycle.revision)
    opened, moved = _announcements()
    assert (opened.subject, opened.body_text) == (
        "H1 2027: nominations is open",
        "No due date is set.",
    )
    assert moved.subject == "H1 2027: self-assessment is open"
    assert moved.body_text == "Due Friday 18 December 2026, 17:00 UTC."
    assert moved.address == slack.WEBHOOK_ADDRESS and moved.link.endswith(f"/promotions/{cycle.id}")
    slack.send(moved)
    (call,) = fake.calls("webhook")
    assert call.json["text"].startswith("*H1 2027: self-assessment is open*\n\nDue Friday")
    assert fake.calls("chat.postMessage") == []  # the channel, never someone's DMs


def _announcements() -> list[OutboundMessage]:
    return list(
        db.session.scalars(
            db.select(OutboundMessage)
            .where(OutboundMessage.dedupe_key.like("announce:%"))
            .order_by(OutboundMessage.id)
        )
    )


def test_the_sender_sends_slack_rows_and_gives_up_at_once_only_when_slack_says_so(ctx, org, fake):
    from app.services.messages import sending

    _configure(org.head)
    fake.users["alice@example.com"] = "U0ALICE"
    rows = [
        _message(recipient_id=org.pm_a1.id, dedupe_key=key) for key in ("first", "second", "third")
    ]
    db.session.add_all(rows)
    db.session.commit()
    fake.rate_limit("chat.postMessage", retry_after=30)  # the first post is refused, then …
    fake.fail("chat.postMessage", "invalid_auth")
    sending.send_due()
    by_key = {
        row.dedupe_key: row
        for row in db.session.scalars(
            db.select(OutboundMessage).execution_options(populate_existing=True)
        )
    }
    # Sent in id order: the first met the 429 (retried later), the second invalid_auth
    # (failed for good, no retry can fix it), the third went through.
    assert (
        by_key["first"].status is MessageStatus.QUEUED
        and "rate limiting" in by_key["first"].last_error
    )
    assert (
        by_key["second"].status is MessageStatus.FAILED
        and "invalid_auth" in by_key["second"].last_error
    )
    assert by_key["third"].status is MessageStatus.SENT
    assert len(fake.calls("chat.postMessage")) == 3
