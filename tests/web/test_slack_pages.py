"""The Slack pages through HTTP against a local Slack: the head's settings (never shown back in
full, refused by the field, Test, link everyone in a job) and a person's Link / Unlink."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Setting, User
from app.services import jobs
from app.services.messages import slack_links
from tests.factories import sign_in
from tests.slack_helpers import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake(app, monkeypatch):
    with FakeSlack() as server:
        monkeypatch.setitem(app.config, "SLACK_API_URL", server.api_url)
        yield server


def _configured(client, fake, **extra):
    data = {"token": BOT_TOKEN, "webhook_url": fake.webhook_url} | extra
    return client.post_form("/settings/slack", data)


def _configured_by_head(app, org, fake):
    head = app.test_client()
    sign_in(head, org.head)
    assert _configured(head, fake).status_code == 302


def _slack_id(app, person) -> str | None:
    with app.app_context():
        return db.session.get(User, person.id).slack_user_id


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("head", "/settings/slack", 200),
        ("pm_a1", "/settings/slack", 403),
        ("manager_a", "/settings/slack", 403),
        ("head", "/messages", 200),
        ("pm_a1", "/account/notifications", 200),
    ],
)
def test_who_sees_which_slack_page(client, org, who, url, status):
    sign_in(client, getattr(org, who))
    assert client.get(url).status_code == status


def test_the_sections_are_on_the_messages_and_notification_settings_pages(client, org):
    sign_in(client, org.head)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/messages"' in home and 'href="/account/notifications"' in home
    assert 'id="slack-heading"' in client.get("/messages").get_data(as_text=True)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'id="slack-link-heading"' in page


def test_settings_are_saved_and_never_shown_back_in_full(app, client, org, fake):
    sign_in(client, org.head)
    response = _configured(client, fake, back="/messages")
    assert response.headers["Location"] == "/messages"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The Slack settings were saved." in page
    assert BOT_TOKEN not in page and fake.webhook_url not in page
    assert "xoxb-…mnop" in page and "…uvwx" in page
    # Saving with both fields blank keeps both.
    assert client.post_form("/settings/slack", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Setting, "slack").value == {
            "token": BOT_TOKEN,
            "webhook_url": fake.webhook_url,
        }


def test_a_bad_token_is_refused_next_to_its_field(app, client, org, fake):
    sign_in(client, org.head)
    response = client.post_form("/settings/slack", {"token": "xoxp-a-user-token"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="token-error"' in page and "starts with xoxb-" in page
    with app.app_context():
        assert db.session.get(Setting, "slack") is None


def test_removing_the_token_keeps_the_webhook(app, client, org, fake):
    sign_in(client, org.head)
    _configured(client, fake)
    response = client.post_form("/settings/slack/remove/token", follow_redirects=True)
    assert "The bot token was removed." in response.get_data(as_text=True)
    assert "on for announcements only" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Setting, "slack").value["token"] == ""


def test_the_test_button_says_what_slack_answered(client, org, fake):
    sign_in(client, org.head)
    _configured(client, fake)
    page = client.post_form("/settings/slack/test", follow_redirects=True).get_data(as_text=True)
    assert "The bot token works: Rungs is rungs in Orbit." in page
    assert "The webhook posted a test message to its channel." in page
    fake.fail("auth.test", "invalid_auth")
    page = client.post_form("/settings/slack/test", follow_redirects=True).get_data(as_text=True)
    assert "The bot token does not work. Slack refused: invalid_auth." in page


def test_buttons_return_only_to_a_local_page(client, org, fake):
    sign_in(client, org.head)
    _configured(client, fake)
    answer = client.post_form("/settings/slack/test", {"back": "/people/"})
    assert answer.headers["Location"] == "/people/"
    answer = client.post_form("/settings/slack/test", {"back": "https://evil.example/"})
    assert answer.headers["Location"] == "/"


def test_link_everyone_runs_as_a_job_and_links_whom_slack_knows(app, client, org, fake):
    fake.users |= {"alice@example.com": "U0ALICE", "head@example.com": "U0HEAD"}
    sign_in(client, org.head)
    _configured(client, fake)
    response = client.post_form("/settings/slack/link-everyone")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    jobs.run_pending(app)
    assert _slack_id(app, org.pm_a1) == "U0ALICE" and _slack_id(app, org.head) == "U0HEAD"
    assert _slack_id(app, org.pm_b1) is None
    page = client.get("/settings/slack").get_data(as_text=True)
    assert "2 of 8 active people" in page


def test_a_person_links_and_unlinks_their_slack(app, client, org, fake):
    fake.users["alice@example.com"] = "U0ALICE"
    _configured_by_head(app, org, fake)
    sign_in(client, org.pm_a1)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "alice@example.com" in page and "Link my Slack" in page
    back = {"back": "/account/notifications"}
    answer = client.post_form("/account/slack/link", back)
    assert answer.headers["Location"] == "/account/notifications"
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "Your Slack is linked" in page and "Unlink my Slack" in page
    assert _slack_id(app, org.pm_a1) == "U0ALICE"
    page = client.post_form("/account/slack/unlink", follow_redirects=True).get_data(as_text=True)
    assert "Your Slack is unlinked." in page
    assert _slack_id(app, org.pm_a1) is None


def test_linking_someone_slack_does_not_know_says_why(app, client, org, fake):
    _configured_by_head(app, org, fake)
    sign_in(client, org.pm_a1)
    page = client.post_form("/account/slack/link", follow_redirects=True).get_data(as_text=True)
    assert "no one with the address alice@example.com" in page
    assert _slack_id(app, org.pm_a1) is None


def test_without_slack_the_link_section_says_it_is_not_connected(client, org):
    sign_in(client, org.pm_a1)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "not connected" in page and "Link my Slack" not in page


def test_no_transaction_is_open_while_slack_answers_a_link(app, client, org, fake, monkeypatch):
    """On SQLite a POST's transaction holds the write lock: nobody else could save while Slack
    takes its time (or its 10 s timeout)."""
    fake.users["alice@example.com"] = "U0ALICE"
    _configured_by_head(app, org, fake)
    seen = []
    real_lookup = slack_links.lookup

    def watched(web, email):
        seen.append(db.session().in_transaction())
        return real_lookup(web, email)

    monkeypatch.setattr(slack_links, "lookup", watched)
    sign_in(client, org.pm_a1)
    assert client.post_form("/account/slack/link").status_code == 302
    assert seen == [False]
    assert _slack_id(app, org.pm_a1) == "U0ALICE"
