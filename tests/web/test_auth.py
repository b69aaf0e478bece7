"""Signing in and out through HTTP: cookies, replay after sign-out, throttle, redirects, CSRF."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from tests.factories import sign_in


def cookie_header(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set")


def test_sign_in_lands_on_home_and_sign_out_returns_to_sign_in(app, client, org):
    response = sign_in(client, org.pm_a1)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert "Hello, Alice" in home.get_data(as_text=True)
    response = client.post_form("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    with app.app_context():
        actions = (
            db.session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.actor_id == org.pm_a1.id)
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert actions == ["person.signed_in", "person.signed_out"]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, org):
    wrong = client.post_form("/login", {"email": org.pm_a1.email, "password": "nope"})
    unknown = client.post_form("/login", {"email": "who@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        assert "Email or password is incorrect." in response.get_data(as_text=True)


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, org):
    sign_in(client, org.pm_a1)
    stolen = client.get_cookie("session").value
    client.post_form("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_copied_remember_cookie_stops_working_after_sign_out(app, client, org):
    sign_in(client, org.pm_a1, remember=True)
    stolen = client.get_cookie("remember_token").value
    client.post_form("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert thief.get("/").status_code == 302


def test_a_remember_cookie_alone_signs_in_before_sign_out(app, client, org):
    sign_in(client, org.pm_a1, remember=True)
    other_device = app.test_client()
    other_device.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert other_device.get("/").status_code == 200


def test_cookie_flags_and_fourteen_day_remember(client, org):
    response = sign_in(client, org.pm_a1, remember=True)
    remember = SimpleCookie(cookie_header(response, "remember_token"))["remember_token"]
    assert remember["httponly"]
    assert remember["samesite"] == "Lax"
    lasts = parsedate_to_datetime(remember["expires"]) - datetime.now(UTC)
    assert timedelta(days=14) - timedelta(minutes=1) < lasts <= timedelta(days=14)
    session = cookie_header(response, "session")
    assert "HttpOnly" in session and "SameSite=Lax" in session


def test_production_cookies_are_secure():
    import config

    settings = config.load({"RUNGS_ENV": "production", "SECRET_KEY": "x" * 40})
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]


def test_changing_password_ends_other_sessions_but_keeps_this_one(app, client, org):
    sign_in(client, org.pm_a1)
    other = app.test_client()
    sign_in(other, org.pm_a1)
    response = client.post_form(
        "/account/password",
        {
            "current_password": org.pm_a1.password,
            "new_password": "my new long password",
            "confirm": "my new long password",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_password_form_errors_show_next_to_the_field(client, org):
    sign_in(client, org.pm_a1)
    response = client.post_form(
        "/account/password",
        {
            "current_password": "wrong",
            "new_password": "my new long password",
            "confirm": "something else",
        },
    )
    page = response.get_data(as_text=True)
    assert 'id="confirm-error"' in page and "The two passwords are not the same." in page
    response = client.post_form(
        "/account/password",
        {
            "current_password": "wrong",
            "new_password": "my new long password",
            "confirm": "my new long password",
        },
    )
    page = response.get_data(as_text=True)
    assert 'id="current_password-error"' in page
    assert "Your current password is not correct." in page


def test_sign_in_is_throttled_with_one_message_for_every_account(client, org):
    for email in (org.pm_a1.email, "nobody@example.com"):
        for _ in range(5):
            client.post_form("/login", {"email": email, "password": "wrong"})
        response = client.post_form("/login", {"email": email, "password": "wrong"})
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.get_data(as_text=True)
    blocked = client.post_form("/login", {"email": org.pm_a1.email, "password": org.pm_a1.password})
    assert blocked.status_code == 429


def test_throttle_is_shared_by_every_worker(app, make_app, org):
    """The count lives in the database: another app (another worker) sees it."""
    first, second = app.test_client(), make_app().test_client()
    for number in range(5):
        client = first if number % 2 else second
        client.post_form("/login", {"email": org.pm_a1.email, "password": "wrong"})
    response = first.post_form("/login", {"email": org.pm_a1.email, "password": "wrong"})
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/people/", "/people/"),
        ("/account/password?x=1", "/account/password?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("", "/"),
    ],
)
def test_next_redirects_only_to_local_paths(client, org, next_url, expected):
    response = client.post_form(
        "/login", {"email": org.head.email, "password": org.head.password, "next": next_url}
    )
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    "next_url",
    ["/people/\nSet-Cookie: x=1", "/people/\r\n", "\n", "/\x00", "/people/\t", "/\x85"],
)
def test_next_with_a_control_character_goes_home(client, org, next_url):
    response = client.post_form(
        "/login", {"email": org.head.email, "password": org.head.password, "next": next_url}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "x=1" not in str(response.headers)


def sign_in_client(app) -> str:
    """The client address the last sign-in was recorded from."""
    with app.app_context():
        event = (
            db.session.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "person.signed_in")
                .order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
        return event.after["client"]


def test_behind_a_trusted_proxy_the_client_comes_from_x_forwarded_for(make_app, org):
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    # The proxy appends the address it saw; what a client wrote to the left is not believed.
    forwarded = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    for _ in range(10):  # an attacker behind the same proxy
        proxied.post_form(
            "/login",
            {"email": org.head.email, "password": "guess"},
            headers={"X-Forwarded-For": "198.51.100.66"},
        )
    response = proxied.post_form(
        "/login", {"email": org.head.email, "password": org.head.password}, headers=forwarded
    )
    assert response.status_code == 302
    assert sign_in_client(proxied.application) == "203.0.113.7"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, org):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    response = client.post_form(
        "/login",
        {"email": org.head.email, "password": org.head.password},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 302
    assert sign_in_client(app) == "10.0.0.2"


def test_strangers_guessing_from_everywhere_do_not_slow_a_browser_that_signed_in_before(
    app, client, org
):
    device = cookie_header(sign_in(client, org.head), "rungs_device")
    assert "Path=/login" in device
    assert "HttpOnly" in device
    client.post_form("/logout")
    for number in range(app.config["LOGIN_ACCOUNT_SLOW_AFTER"]):
        stranger = app.test_client()
        stranger.environ_base["REMOTE_ADDR"] = f"203.0.113.{number}"
        stranger.post_form("/login", {"email": org.head.email, "password": "guess"})
    newcomer = app.test_client()
    newcomer.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    form = {"email": org.head.email, "password": org.head.password}
    assert newcomer.post_form("/login", form).status_code == 429  # slowed, for 30 seconds
    assert client.post_form("/login", form).status_code == 302


def test_sign_in_page_carries_next_from_the_redirect(client, org):
    response = client.get("/people/")
    assert response.headers["Location"] == "/login?next=%2Fpeople%2F"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/people/"' in page


def test_forms_without_a_csrf_token_are_refused(client, org):
    response = client.post(
        "/login", data={"email": org.pm_a1.email, "password": org.pm_a1.password}
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    sign_in(client, org.pm_a1)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_deactivated_person_is_signed_out_at_once(app, client, org):
    sign_in(client, org.pm_a1)
    head = app.test_client()
    sign_in(head, org.head)
    head.post_form(f"/people/{org.pm_a1.id}/deactivate")
    assert client.get("/").status_code == 302
    response = client.post_form(
        "/login", {"email": org.pm_a1.email, "password": org.pm_a1.password}
    )
    assert "Email or password is incorrect." in response.get_data(as_text=True)


def test_password_link_flow(app, client, org):
    head = app.test_client()
    sign_in(head, org.head)
    page = head.post_form(f"/people/{org.pm_a1.id}/password-link").get_data(as_text=True)
    link = page.split('id="link" class="copyable" type="text" value="')[1].split('"')[0]
    path = link.removeprefix("http://localhost")
    assert path.startswith("/password/")
    form = client.get(path)
    assert form.status_code == 200 and "Alice Pm, choose a new password" in form.get_data(
        as_text=True
    )
    assert form.headers["Cache-Control"] == "no-store"
    short = client.post_form(path, {"password": "short", "confirm": "short"})
    assert "Use at least 12 characters." in short.get_data(as_text=True)
    done = client.post_form(
        path, {"password": "from the link 2026", "confirm": "from the link 2026"}
    )
    assert done.headers["Location"] == "/login"
    used = client.get(path)
    assert used.status_code == 410
    assert "It was used already, or a newer link replaced it" in used.get_data(as_text=True)
    response = client.post_form(
        "/login", {"email": org.pm_a1.email, "password": "from the link 2026"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, org.pm_a1.id).password_hash is not None


def test_a_password_link_lets_a_locked_out_person_in_from_the_same_browser(app, client, org):
    """The throttle's message says to ask for a new password link: following it must work."""
    for _ in range(6):
        client.post_form("/login", {"email": org.pm_a1.email, "password": "wrong"})
    with app.app_context():
        from app.services.people import auth

        head = db.session.get(User, org.head.id)
        token = auth.create_reset_link(head, db.session.get(User, org.pm_a1.id))
        db.session.commit()
    new_password = "a fresh one from the link 2027"
    response = client.post_form(
        f"/password/{token}", {"password": new_password, "confirm": new_password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post_form("/login", {"email": org.pm_a1.email, "password": new_password})
    assert response.status_code == 302 and response.headers["Location"] == "/"
