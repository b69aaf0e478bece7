"""The head of product's Sign-in settings page (the provider, Test, SSO-only, remove) and the
break-glass command line, against the real OpenID Provider of tests/sso_provider.py and a
loopback server that answers what a wrong discovery URL answers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.models import AuditEvent, Role, Setting, User
from app.models.base import utcnow
from app.services.people import sso_settings
from tests.factories import sign_in
from tests.sso_provider import CLIENT_SECRET, RP_BASE

SECRET = "s3cret-value-7781"


@pytest.fixture(autouse=True)
def _rungs_at_rp_base(app, monkeypatch):
    monkeypatch.setitem(app.config, "RUNGS_BASE_URL", RP_BASE)


class _Answers(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[str, str]]] = {}

    def do_GET(self):
        content_type, body = self.pages.get(self.path, ("text/plain", "not found"))
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("Content-Type", content_type)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def wrong_provider():
    """A loopback server: an HTML page and a discovery document without endpoints."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _Answers.pages = {
        "/html/.well-known/openid-configuration": ("text/html", "<!DOCTYPE html><p>Log in"),
        "/bare/.well-known/openid-configuration": (
            "application/json",
            json.dumps({"issuer": f"{base}/bare", "authorization_endpoint": f"{base}/auth"}),
        ),
    }
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield base
    server.shutdown()
    server.server_close()
    thread.join()


def save(client, url, **extra):
    data = {
        "provider_name": "Test OP",
        "discovery_url": url,
        "client_id": "rungs",
        "client_secret": SECRET,
        "unknown_people": "refuse",
    } | extra
    return client.post_form("/settings/sign-in", data)


def flashes(client) -> str:
    return client.get("/settings/sign-in").get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("head", 200), ("manager_a", 403), ("pm_a1", 403)])
def test_only_the_head_of_product_reaches_the_sign_in_settings(client, org, who, status):
    sign_in(client, getattr(org, who))
    assert client.get("/settings/sign-in").status_code == status
    assert client.post_form("/settings/sign-in/test").status_code in (status, 302)


def test_the_head_reaches_the_page_from_home_beside_messages(client, org):
    sign_in(client, org.head)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/messages"' in home and 'href="/settings/sign-in"' in home


def test_saving_keeps_the_secret_out_of_the_page_and_the_audit(app, client, org, oidc):
    sign_in(client, org.head)
    answer = save(client, oidc.issuer)  # the issuer URL alone: the discovery path is added
    assert answer.status_code == 302
    page = flashes(client)
    assert SECRET not in page and "7781" not in page and "Set (never shown)" in page
    assert 'maxlength="40"' in page  # the provider name: as long as the service accepts
    assert oidc.discovery_url in page
    assert f"{RP_BASE}/login/sso/callback" in page and f"{RP_BASE}/login" in page
    with app.app_context():
        stored = sso_settings.stored()
        assert stored.discovery_url == oidc.discovery_url and stored.client_secret == SECRET
        events = (
            db.session.execute(select(AuditEvent).where(AuditEvent.action.like("settings.%")))
            .scalars()
            .all()
        )
        assert [e.action for e in events] == ["settings.sso_changed"]
        assert SECRET not in repr((events[0].before, events[0].after))
        assert events[0].after["client_secret"] == "set"
        assert events[0].before["client_secret"] == "not set"
        sealed = db.session.get(Setting, "sso").value["client_secret"]
        assert SECRET not in sealed and sealed.startswith("fernet1:")  # sealed at rest

    # A blank secret keeps the stored one; another value replaces it.
    assert (
        save(client, oidc.discovery_url, client_secret="", provider_name="Okta").status_code == 302
    )
    with app.app_context():
        assert sso_settings.stored().client_secret == SECRET
        assert sso_settings.stored().provider_name == "Okta"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("discovery_url", "ftp://idp.example.com", "discovery URL"),
        ("discovery_url", "http://idp.example.com", "Use https"),
        ("client_id", "has space", "not a client id"),
        ("provider_name", "", "Name the provider"),
        ("unknown_people", "admit-everyone", "Choose what happens"),
    ],
)
def test_bad_settings_are_refused_by_their_field(app, client, org, field, value, message):
    sign_in(client, org.head)
    answer = save(client, "https://idp.example.com", **{field: value})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in page and f'id="{field}-error"' in page
    with app.app_context():
        assert db.session.get(Setting, "sso") is None


def test_a_secret_is_needed_the_first_time(client, org):
    sign_in(client, org.head)
    answer = save(client, "https://idp.example.com", client_secret="")
    assert answer.status_code == 400
    assert "Enter the client secret" in answer.get_data(as_text=True)


def test_the_test_button_says_what_works(client, org, oidc):
    sign_in(client, org.head)
    save(client, oidc.discovery_url)
    client.post_form("/settings/sign-in/test")
    page = flashes(client)
    assert f"Discovery works: the issuer is {oidc.issuer}." in page
    assert "publishes 1 signing key" in page and "sign-out page" in page
    assert "client secret is checked only at the first real sign-in" in page


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("unreachable", "could not be reached"),
        ("/html", "did not answer JSON"),
        ("/bare", "has no token_endpoint, jwks_uri"),
        ("/nothing", "answered HTTP 404"),
        ("mismatch", "The issuer does not match"),
    ],
)
def test_the_test_button_says_what_is_wrong(client, org, oidc, wrong_provider, path, words):
    url = {
        "unreachable": "http://127.0.0.1:9",
        "mismatch": oidc.discovery_url.replace("127.0.0.1", "localhost"),
    }.get(path, wrong_provider + path)
    sign_in(client, org.head)
    assert save(client, url).status_code == 302
    client.post_form("/settings/sign-in/test")
    page = flashes(client)
    assert words in page, page[:3000]
    assert "flash-error" in page


def test_sso_only_needs_a_working_provider_and_a_break_glass_head(app, client, org, oidc, runner):
    sign_in(client, org.head)
    client.post_form("/settings/sign-in/sso-only/on")
    assert "Set the provider first" in flashes(client)

    save(client, oidc.discovery_url)
    client.post_form("/settings/sign-in/sso-only/on")
    page = flashes(client)
    assert "flask sso break-glass EMAIL" in page
    with app.app_context():
        assert not sso_settings.stored().is_sso_only

    assert runner.invoke(args=["sso", "break-glass", org.head.email]).exit_code == 0
    save(client, "http://127.0.0.1:9")  # broken now: passwords must stay on
    client.post_form("/settings/sign-in/sso-only/on")
    assert "does not work yet" in flashes(client)

    save(client, oidc.discovery_url)
    client.post_form("/settings/sign-in/sso-only/on")
    page = flashes(client)
    assert "Sign-in is SSO-only now" in page and "Hana Head" in page
    with app.app_context():
        assert sso_settings.stored().is_sso_only

    client.post_form("/settings/sign-in/remove")
    assert "turn SSO-only off first" in flashes(client)
    client.post_form("/settings/sign-in/sso-only/off")
    client.post_form("/settings/sign-in/remove")
    with app.app_context():
        assert not sso_settings.stored().is_configured
    assert "Sign in with" not in app.test_client().get("/login").get_data(as_text=True)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_break_glass_command(app, org, runner):
    shown = runner.invoke(args=["sso", "break-glass"])
    assert shown.exit_code == 0 and "There is no break-glass account." in shown.output

    pm = runner.invoke(args=["sso", "break-glass", org.pm_a1.email])
    assert pm.exit_code == 1 and "must be a head of product" in pm.output
    nobody = runner.invoke(args=["sso", "break-glass", "nobody@example.com"])
    assert nobody.exit_code == 1 and "No one in Rungs has" in nobody.output

    done = runner.invoke(args=["sso", "break-glass", "HEAD@example.com"])
    assert done.exit_code == 0 and "Hana Head <head@example.com>" in done.output
    assert "Hana Head" in runner.invoke(args=["sso", "break-glass"]).output

    with app.app_context():
        value = db.session.get(Setting, "sso")
        assert value is None
        db.session.add(
            Setting(
                key="sso",
                value={
                    "provider_name": "X",
                    "discovery_url": "https://idp.example.com/.well-known/openid-configuration",
                    "client_id": "rungs",
                    "client_secret": CLIENT_SECRET,
                    "sso_only": True,
                },
            )
        )
        db.session.commit()
    refused = runner.invoke(args=["sso", "break-glass", "--clear"])
    assert refused.exit_code == 1 and "SSO-only" in refused.output
    with app.app_context():
        db.session.get(Setting, "sso").value = {}
        db.session.commit()
    cleared = runner.invoke(args=["sso", "break-glass", "--clear"])
    assert cleared.exit_code == 0 and "no break-glass account now" in cleared.output
    with app.app_context():
        events = (
            db.session.execute(
                select(AuditEvent).where(AuditEvent.action == "settings.sso_break_glass_changed")
            )
            .scalars()
            .all()
        )
        assert [e.after["email"] for e in events] == ["head@example.com", None]


@pytest.mark.parametrize("change", ["deactivated", "demoted"])
def test_a_break_glass_head_who_is_no_longer_an_active_head_no_longer_counts(
    app, org, runner, change
):
    assert runner.invoke(args=["sso", "break-glass", org.head.email]).exit_code == 0
    with app.app_context():
        head = db.session.get(User, org.head.id)
        if change == "deactivated":
            head.deactivated_at = utcnow()
        else:
            head.role = Role.MANAGER
        db.session.commit()
        assert sso_settings.break_glass_person() is None


def test_turning_sso_only_on_ends_every_password_session_but_the_heads_and_break_glass(
    app, client, org, oidc, runner
):
    others = {who: app.test_client() for who in ("manager_a", "pm_a1")}
    for who, browser in others.items():
        sign_in(browser, getattr(org, who))
        assert browser.get("/").status_code == 200
    sign_in(client, org.head)
    save(client, oidc.discovery_url)
    page = flashes(client)
    assert "signs out everyone who is signed in now" in page  # said before they confirm
    with app.app_context():
        tokens = dict(db.session.execute(select(User.id, User.session_token)).all())
    assert runner.invoke(args=["sso", "break-glass", org.head.email]).exit_code == 0
    client.post_form("/settings/sign-in/sso-only/on")
    assert "Sign-in is SSO-only now" in flashes(client)  # the head stays signed in
    for browser in others.values():
        assert browser.get("/").status_code == 302  # signed out
    with app.app_context():
        after = dict(db.session.execute(select(User.id, User.session_token)).all())
    assert after[org.head.id] == tokens[org.head.id]
    changed = [i for i in tokens if after[i] != tokens[i]]
    assert sorted(changed) == sorted(i for i in tokens if i != org.head.id)
    assert len(set(after.values())) == len(after)


def test_a_blank_secret_is_not_kept_for_a_provider_on_another_server(app, client, org, oidc):
    sign_in(client, org.head)
    assert save(client, oidc.discovery_url).status_code == 302
    moved = oidc.discovery_url.replace("127.0.0.1", "localhost")
    answer = save(client, moved, client_secret="")
    assert answer.status_code == 400
    assert "Type the client secret again" in answer.get_data(as_text=True)
    with app.app_context():
        assert sso_settings.stored().discovery_url == oidc.discovery_url


def test_every_bad_field_is_named_in_one_pass(app, client, org):
    sign_in(client, org.head)
    answer = save(client, "ftp://x", client_secret="", provider_name="", client_id="a b")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    for field in ("discovery_url", "client_secret", "provider_name", "client_id"):
        assert f'id="{field}-error"' in page, field


def test_a_provider_that_fails_its_check_is_saved_with_a_warning_and_no_button(
    app, client, org, oidc
):
    sign_in(client, org.head)
    assert save(client, "http://127.0.0.1:9").status_code == 302
    page = flashes(client)
    assert "does not work yet" in page and "could not be reached" in page
    assert "The last check failed" in page  # beside the URL, on every visit
    assert "<strong>not offered</strong>" in page
    anyone = app.test_client()
    assert "Sign in with Test OP" not in anyone.get("/login").get_data(as_text=True)

    assert save(client, oidc.discovery_url).status_code == 302
    assert "The last check failed" not in flashes(client)
    assert "Sign in with Test OP" in anyone.get("/login").get_data(as_text=True)


def test_while_sso_only_a_failing_provider_is_not_saved(app, client, org, oidc, runner):
    sign_in(client, org.head)
    save(client, oidc.discovery_url)
    assert runner.invoke(args=["sso", "break-glass", org.head.email]).exit_code == 0
    client.post_form("/settings/sign-in/sso-only/on")
    answer = save(client, "http://127.0.0.1:9")
    assert answer.status_code == 400
    assert "must work before it is saved" in answer.get_data(as_text=True)
    with app.app_context():
        assert sso_settings.stored().discovery_url == oidc.discovery_url


def test_sso_only_refuses_a_check_of_another_url_than_the_stored_one(app, org, oidc):
    from app.services.people import sso_discovery

    with app.app_context():
        db.session.merge(
            Setting(
                key="sso",
                value={"discovery_url": oidc.discovery_url, "client_id": "c", "client_secret": "s"},
            )
        )
        sso_settings.set_break_glass(org.head.email)
        head = db.session.get(User, org.head.id)
        other = sso_discovery.DiscoveryCheck(
            (sso_discovery.CheckResult(True, "ok"),), discovery_url="https://elsewhere.example"
        )
        with pytest.raises(ValidationError, match="changed while they were being checked"):
            sso_settings.set_sso_only(head, True, check=other)


def test_allowed_domains_are_saved_and_shown(app, client, org, oidc):
    sign_in(client, org.head)
    answer = save(client, oidc.discovery_url, allowed_domains="bad domain")
    assert answer.status_code == 400 and 'id="allowed_domains-error"' in answer.get_data(
        as_text=True
    )
    assert save(client, oidc.discovery_url, allowed_domains="Example.com").status_code == 302
    assert "only at example.com" in flashes(client)
    with app.app_context():
        assert sso_settings.stored().allowed_domains == ("example.com",)
