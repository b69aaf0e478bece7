"""'Forgot your password?' and invitations through HTTP and a real SMTP server: the email is
read back from the server, its link followed with the test client, a password set, and the
person signs in with it."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Job, OutboundMessage, PasswordResetLink, User
from app.models.base import utcnow
from app.services.messages import sending
from tests.conftest import CSRF_INPUT
from tests.factories import sign_in

BASE = "https://rungs.example.org"
LINK = re.compile(re.escape(BASE) + r"/password/[A-Za-z0-9_-]+")


@pytest.fixture
def mail(app, mail_on, monkeypatch):
    """Email on, through a real SMTP server; links in emails start with BASE."""
    monkeypatch.setitem(app.config, "RUNGS_BASE_URL", BASE)
    return mail_on


def send(app) -> None:
    """What the send job does (submitted by the commit that queued the messages)."""
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) >= 1
        sending.send_due()


def link_in(received) -> str:
    """The one password link of an email, the same in both parts, as a path for the client."""
    (link,) = set(LINK.findall(received.text))
    assert link in received.html
    return link.removeprefix(BASE)


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboundMessage))


def test_a_forgotten_password_needs_nobodys_help(app, client, org, mail):
    other_device = app.test_client()
    sign_in(other_device, org.pm_a1)
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot">Forgot your password?</a>' in login

    asked = client.post_form("/password/forgot", {"email": "alice@example.com"})
    assert asked.status_code == 302 and asked.headers["Location"] == "/password/forgot/sent"
    sent_page = client.get("/password/forgot/sent").get_data(as_text=True)
    assert "Check your email" in sent_page and "within one hour" in sent_page

    send(app)
    (received,) = mail.to("alice@example.com")
    assert received["Subject"] == "Set a new password for Rungs"
    assert received["List-Unsubscribe"] is None  # transactional: cannot be turned off
    assert "within one hour" in received.text
    path = link_in(received)
    token = path.rsplit("/", 1)[1]
    with app.app_context():  # sent: the outbox no longer holds the secret link
        kept = db.session.scalars(select(OutboundMessage)).all()
        assert [row.link for row in kept] == [""]
        assert all(token not in row.body_text + row.body_html for row in kept)

    form = client.get(path)
    assert form.status_code == 200
    assert "Alice Pm, choose a new password" in form.get_data(as_text=True)
    new_password = "remembered at last 2026"
    done = client.post_form(path, {"password": new_password, "confirm": new_password})
    assert done.headers["Location"] == "/login"
    told = client.get("/login").get_data(as_text=True)
    assert "you were signed out on every device" in told

    assert other_device.get("/").status_code == 302  # that session ended too
    used = client.get(path)
    assert used.status_code == 410 and "It was used already" in used.get_data(as_text=True)
    signed_in = client.post_form("/login", {"email": org.pm_a1.email, "password": new_password})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"

    send(app)
    (_, notice) = mail.to("alice@example.com")
    assert notice["Subject"] == "Your Rungs password was changed"
    assert "If it was not you, set a new password now" in notice.text


def test_an_unknown_address_gets_the_same_answer_and_no_email(app, client, org, mail):
    known = client.post_form("/password/forgot", {"email": "alice@example.com"})
    unknown = client.post_form("/password/forgot", {"email": "nobody@example.com"})
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    with app.app_context():
        sending.send_due()
    assert [m.rcpt_tos for m in mail.messages] == [["alice@example.com"]]


def test_the_link_in_the_email_ignores_the_host_the_request_named(app, client, org, mail):
    """A forged Host header must not turn the emailed link into the forger's site."""
    forged = {"base_url": "http://evil.example"}
    page = client.get("/password/forgot", **forged).get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    asked = client.post(
        "/password/forgot", data={"csrf_token": token, "email": "alice@example.com"}, **forged
    )
    assert asked.status_code == 302
    send(app)
    (received,) = mail.messages
    assert "evil.example" not in received.text + received.html
    assert link_in(received).startswith("/password/")


def test_too_many_requests_are_refused_by_the_form_with_429(app, client, org, mail):
    limit = app.config["PASSWORD_RESET_REQUESTS_PER_ADDRESS"]
    for _ in range(limit):
        client.post_form("/password/forgot", {"email": "nobody@example.com"})
    refused = client.post_form("/password/forgot", {"email": "nobody@example.com"})
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert f"A link was asked for this address {limit} times in the last hour" in page
    assert 'value="nobody@example.com"' in page  # what was typed stays


def test_a_bad_address_is_named_by_its_field(client, org, mail):
    response = client.post_form("/password/forgot", {"email": "no at sign"})
    assert response.status_code == 400
    assert 'id="email-error">no at sign is not a valid email address' in response.get_data(
        as_text=True
    )


def test_without_email_the_sign_in_page_says_to_ask_the_head_of_product(app, client, org):
    login = client.get("/login").get_data(as_text=True)
    assert "Ask your head of product for a new password link." in login
    assert "/password/forgot" not in login
    page = client.get("/password/forgot")
    assert page.status_code == 200
    assert "Rungs cannot send email here yet" in page.get_data(as_text=True)
    refused = client.post_form("/password/forgot", {"email": "alice@example.com"})
    assert refused.status_code == 400 and outbox_count(app) == 0


def test_an_expired_link_says_so_and_offers_a_new_one(app, client, org, mail):
    client.post_form("/password/forgot", {"email": "alice@example.com"})
    send(app)
    path = link_in(mail.messages[0])
    with app.app_context():
        db.session.execute(
            update(PasswordResetLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "It expired." in text and "works for one hour" in text
    assert 'href="/password/forgot" class="button primary">Email me a new link' in text
    refused = client.post_form(
        path, {"password": "too late now 2026", "confirm": "too late now 2026"}
    )
    assert refused.status_code == 410


def test_a_link_that_never_was_is_not_found(client, org):
    page = client.get("/password/not-a-real-token")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "Rungs knows no such link" in text
    assert "Ask your head of product for a new password link." in text  # email is off


@pytest.fixture
def head(app, org):
    client = app.test_client()
    sign_in(client, org.head)
    return client


def test_a_new_person_is_invited_by_email_and_signs_in(app, client, head, org, mail):
    form = head.get("/people/new").get_data(as_text=True)
    assert 'checked id="invite" name="invite" type="checkbox" value="y">' in form
    added = head.post_form(
        "/people/new",
        {"name": "Nina New", "email": "nina@example.com", "role": "pm", "invite": "y"},
    )
    assert added.status_code == 302
    flash = head.get(added.headers["Location"]).get_data(as_text=True)
    assert "An invitation to set a password is on its way to nina@example.com" in flash

    send(app)
    (received,) = mail.to("nina@example.com")
    assert received["Subject"] == "Hana Head invited you to Rungs"
    assert "within 72 hours to sign in as nina@example.com" in received.text
    path = link_in(received)
    assert "Welcome, Nina New" in client.get(path).get_data(as_text=True)
    password = "nina's own password"
    client.post_form(path, {"password": password, "confirm": password})
    assert "Your password is set. Sign in with it now." in client.get("/login").get_data(
        as_text=True
    )
    signed_in = client.post_form("/login", {"email": "nina@example.com", "password": password})
    assert signed_in.headers["Location"] == "/"
    send(app)
    assert len(mail.to("nina@example.com")) == 1  # a first password is no "change" to report


def test_an_unticked_invitation_keeps_the_copied_link(app, head, org, mail):
    added = head.post_form(
        "/people/new", {"name": "Nina New", "email": "nina@example.com", "role": "pm"}
    )
    assert "Make a password link so they can sign in" in head.get(
        added.headers["Location"]
    ).get_data(as_text=True)
    assert outbox_count(app) == 0


def test_without_email_the_form_says_so_and_sends_nothing(app, head, org):
    form = head.get("/people/new").get_data(as_text=True)
    assert 'name="invite"' not in form
    assert "Email is off in this Rungs (no mail server is set)" in form
    added = head.post_form(
        "/people/new",
        {"name": "Nina New", "email": "nina@example.com", "role": "pm", "invite": "y"},
    )
    assert "Make a password link so they can sign in" in head.get(
        added.headers["Location"]
    ).get_data(as_text=True)
    assert outbox_count(app) == 0
    profile = head.get(added.headers["Location"]).get_data(as_text=True)
    assert "Make a password link" in profile and "Email a password link" not in profile


def test_an_import_can_invite_everyone(app, client, head, org, mail):
    page = head.get("/people/import").get_data(as_text=True)
    assert "Email each person a link to set a password" in page
    data = (
        b"email,name,role,manager_email\n"
        b"uma@example.com,Uma Pm,pm,ada@example.com\nvic@example.com,Vic Pm,pm,ada@example.com\n"
    )
    response = head.post_form(
        "/people/import",
        {"file": (io.BytesIO(data), "people.csv"), "invite": "y"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Each of them is being sent an invitation by email" in response.get_data(as_text=True)
    send(app)
    assert sorted(m.rcpt_tos[0] for m in mail.messages) == ["uma@example.com", "vic@example.com"]
    path = link_in(mail.to("vic@example.com")[0])
    client.post_form(path, {"password": "vic's password 1", "confirm": "vic's password 1"})
    signed_in = client.post_form(
        "/login", {"email": "vic@example.com", "password": "vic's password 1"}
    )
    assert signed_in.headers["Location"] == "/"


def test_the_head_can_email_a_new_link_from_a_persons_page(app, head, org, mail):
    page = head.get(f"/people/{org.pm_a1.id}").get_data(as_text=True)
    assert "Email a password link" in page
    response = head.post_form(f"/people/{org.pm_a1.id}/invitation")
    assert response.headers["Location"] == f"/people/{org.pm_a1.id}"
    assert "on its way to alice@example.com" in head.get(response.headers["Location"]).get_data(
        as_text=True
    )
    send(app)
    assert len(mail.to("alice@example.com")) == 1


def test_only_the_head_sends_links(app, client, org, mail):
    sign_in(client, org.manager_a)
    assert client.post_form(f"/people/{org.pm_a1.id}/invitation").status_code == 403
    assert outbox_count(app) == 0
    with app.app_context():
        assert db.session.get(User, org.pm_a1.id).password_hash is not None


def test_the_answer_waits_for_the_same_floor_whether_or_not_the_address_exists(
    app, client, org, mail, monkeypatch
):
    """Writing a link and a message takes longer than writing none; the answer is held to
    PASSWORD_RESET_ANSWER_SECONDS after the request arrived either way (after the commit)."""
    monkeypatch.setitem(app.config, "PASSWORD_RESET_ANSWER_SECONDS", 0.05)
    for email in ("alice@example.com", "nobody@example.com"):
        token = client.csrf_token()
        started = time.monotonic()
        response = client.post("/password/forgot", data={"csrf_token": token, "email": email})
        assert response.status_code == 302
        assert time.monotonic() - started >= 0.05
